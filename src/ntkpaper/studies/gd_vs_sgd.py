"""E10: the linear picture is a statement about full-batch gradient descent.

A network and its linearization are trained from the same initialization with the same
learning rate and the same minibatch sequence, for full-batch GD and for SGD at several
batch sizes; we compare how far the network ends from its linear model, and its test loss.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ntkpaper import keys, train
from ntkpaper.finite import init_width
from ntkpaper.fits import bootstrap_ratio
from ntkpaper.models import make_apply

# How the workflow runs this kind (read by ntkpaper.workflow without importing this module).
WORKFLOW = {}


def run(spec: Mapping[str, Any], data: Mapping[str, np.ndarray], *, key) -> dict[str, Any]:
    x, y = data["x_train"], data["y_train"]
    mspec, params0 = init_width(
        spec["model"],
        width=spec["width"],
        out_dim=y.shape[1],
        in_dim=x.shape[1],
        seeds=spec["seeds"],
        key=key,
    )
    # Full batch first (batch size n), then the configured minibatch sizes, largest first.
    batches = [len(x), *sorted((b for b in spec["batch_sizes"] if b < len(x)), reverse=True)]
    record_steps = train.log_spaced_steps(spec["steps"], 20)
    out: dict[str, list] = {}
    for b in batches:
        for prefix, lin in (("net", False), ("lin", True)):
            rec, _ = train.train(
                make_apply(mspec),
                params0,
                x,
                y,
                data["x_test"],
                data["y_test"],
                lr=spec["lr"],
                steps=spec["steps"],
                record_steps=record_steps,
                batch_size=None if b == len(x) else b,
                linearize=lin,
                key=keys.fold(key, "batches", b),
            )
            out.setdefault(f"{prefix}_f_test", []).append(rec.f_test)
            out.setdefault(f"{prefix}_test_loss", []).append(rec.test_loss)
            out.setdefault(f"{prefix}_train_loss", []).append(rec.train_loss)
    return {
        "batch_sizes": np.array(batches),
        "record_steps": record_steps,
        **{k: np.stack(v) for k, v in out.items()},
    }


def analyze(
    runs: Sequence[Mapping[str, np.ndarray]], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    (run,) = runs  # one run file: this kind is not sharded
    # (n_batches, n_records, n_seeds): RMSE between network and linear model on test inputs
    gap = np.sqrt(np.mean((run["net_f_test"] - run["lin_f_test"]) ** 2, axis=(-2, -1)))
    final_gap = np.nanmean(gap[:, -1], axis=1)
    # Seeds share their initialization across batch sizes: the ratio is over paired seeds.
    ratio = bootstrap_ratio(gap[-1, -1], gap[0, -1])
    numbers = {
        "batch_sizes": run["batch_sizes"].tolist(),
        "gap_f_g": final_gap.tolist(),
        "gap_ratio_smallest_batch_to_gd": ratio["ratio"],
        "gap_ratio_interval": ratio,
        "gap_change_percent": 100 * (ratio["ratio"] - 1),
        "net_test_loss": np.nanmean(run["net_test_loss"][:, -1], axis=1).tolist(),
        "lin_test_loss": np.nanmean(run["lin_test_loss"][:, -1], axis=1).tolist(),
        "smallest_batch": int(run["batch_sizes"][-1]),
    }
    fig = {
        "batch_sizes": run["batch_sizes"],
        "record_steps": run["record_steps"],
        "gap": gap,
        "net_test_loss": run["net_test_loss"],
        "lin_test_loss": run["lin_test_loss"],
    }
    return numbers, {"gd_vs_sgd": fig}
