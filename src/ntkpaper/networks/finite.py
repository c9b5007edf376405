"""One width's ensemble of finite networks: its spec and initial parameters.

The seeds of a width train as one vmapped ensemble; seed s of width w is initialized from
``fold(run_key, w)`` folded with s, so adding a width or a seed changes no other run.
Training runs in float32; records are float64 numpy arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax.numpy as jnp

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper.networks.models import MLPSpec, init_ensemble, model_spec
from ntkpaper.pipeline import keys


def init_width(
    model: Mapping[str, Any],
    *,
    width: int,
    out_dim: int,
    in_dim: int,
    seeds: int,
    key,
    stream: str = "init",
) -> tuple[MLPSpec, Any]:
    """The spec and float32 initial parameters of one width's ensemble. Seed s of width w
    is initialized from fold(key, stream, w) folded with s, so adding a width or a seed
    changes no other run (a study with several ensembles names each its own `stream`)."""
    spec = model_spec(model, width=width, out_dim=out_dim)
    params0 = init_ensemble(
        spec, key=keys.fold(key, stream, width), in_dim=in_dim, n_seeds=seeds, dtype=jnp.float32
    )
    return spec, params0
