"""Train one width's ensemble of finite networks (and, optionally, their linearizations).

The seeds of a width train as one vmapped ensemble; seed s of width w is initialized from
``fold(run_key, w)`` folded with s, so adding a width or a seed changes no other run.
Training runs in float32; records are float64 numpy arrays.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper import keys, train
from ntkpaper.models import MLPSpec, init_ensemble, make_apply, model_spec

log = logging.getLogger("ntkpaper")


def init_width(
    model: Mapping[str, Any], *, width: int, out_dim: int, in_dim: int, seeds: int, key
) -> tuple[MLPSpec, Any]:
    """The spec and float32 initial parameters of one width's ensemble. Seed s of width w
    is initialized from fold(key, "init", w) folded with s, so adding a width or a seed
    changes no other run."""
    spec = model_spec(model, width=width, out_dim=out_dim)
    params0 = init_ensemble(
        spec, key=keys.fold(key, "init", width), in_dim=in_dim, n_seeds=seeds, dtype=jnp.float32
    )
    return spec, params0


def train_width(
    model: Mapping[str, Any],
    data: Mapping[str, np.ndarray],
    *,
    width: int,
    seeds: int,
    lr: float | np.ndarray,
    steps: int,
    records: int,
    key,
    linearize: bool = True,
    batch_size: int | None = None,
    probe_fn=None,
) -> dict[str, np.ndarray]:
    """Records of the network (prefix ``net_``) and of its linearization (``lin_``)."""
    spec, params0 = init_width(
        model,
        width=width,
        out_dim=data["y_train"].shape[1],
        in_dim=data["x_train"].shape[1],
        seeds=seeds,
        key=key,
    )
    record_steps = train.log_spaced_steps(steps, records)
    apply_fn = make_apply(spec)
    out: dict[str, np.ndarray] = {"width": np.asarray(width), "record_steps": record_steps}
    for prefix, lin in [("net", False), ("lin", True)][: 2 if linearize else 1]:
        record, _ = train.train(
            apply_fn,
            params0,
            data["x_train"],
            data["y_train"],
            data["x_test"],
            data["y_test"],
            lr=lr,
            steps=steps,
            record_steps=record_steps,
            batch_size=batch_size,
            linearize=lin,
            key=keys.fold(key, "batches", width),
            probe_fn=probe_fn,
        )
        n_div = int(record.diverged.sum())
        log.info(
            "width %d %s: final train loss %.3g (diverged %d/%d)",
            width,
            prefix,
            float(np.nanmean(record.train_loss[-1])),
            n_div,
            seeds,
        )
        out.update({f"{prefix}_{k}": np.asarray(v) for k, v in record.as_dict().items()})
    return out
