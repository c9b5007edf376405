"""Width sweep on real data: lazy training (E1), linearization (E2), generalization (E6).

Inputs: one run file per width (network and linearization records, all seeds) and the
infinite-width kernels of the same data and architecture. Layer types follow Lee et al.
(2019): the input layer (Dense_0) and the output layer (Dense_{L−1}) have O(1) norm at
init, so their relative change scales like n^{-1/2}; hidden-to-hidden layers have
‖W_0‖ ∝ n, so theirs scales like n^{-1}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ntkpaper import finite, predict
from ntkpaper.fits import bootstrap_slope

# How the workflow runs this kind (read by ntkpaper.workflow without importing this module):
# one training job per width (its seeds vmapped); the analysis compares them with the
# analytic kernels of the same data and architecture.
WORKFLOW = {
    "shard_by": "widths",
    "analyze_inputs": ["data", "kernels"],
    "mem_mb": 3000,  # peak 1.3 GB at width 1600 on the full grid
    "priority": 35,
}

LAYER_TYPES = ("input", "hidden", "output")


def layer_type_change(run: Mapping[str, np.ndarray], prefix: str = "net") -> dict[str, np.ndarray]:
    """Absolute and relative parameter change per layer type, (n_records, n_seeds) each."""
    dist = run[f"{prefix}_layer_dist"]
    rel = run[f"{prefix}_layer_rel_dist"]
    with np.errstate(invalid="ignore", divide="ignore"):
        norm0 = dist / rel  # ‖θ_0‖ per layer, recovered from the two records
    n_layers = dist.shape[-1]
    groups = {"input": [0], "hidden": list(range(1, n_layers - 1)), "output": [n_layers - 1]}
    out = {}
    for name, idx in groups.items():
        if not idx:
            continue
        d = np.sqrt(np.sum(dist[..., idx] ** 2, axis=-1))
        out[f"abs_{name}"] = d
        out[f"rel_{name}"] = d / np.sqrt(np.sum(norm0[..., idx] ** 2, axis=-1))
    out["abs_all"] = run[f"{prefix}_param_dist"]
    out["rel_all"] = run[f"{prefix}_param_rel_dist"]
    return out


def run(spec: Mapping[str, Any], data: Mapping[str, np.ndarray], *, key) -> dict[str, np.ndarray]:
    """Train one width's ensemble (all seeds vmapped) and its linearization; records of both.
    The workflow runs one job per width, each with ``spec["widths"]`` narrowed to its own."""
    (width,) = spec["widths"]
    return finite.train_width(
        spec["model"],
        data,
        width=width,
        seeds=spec["seeds"],
        lr=spec["lr"],
        steps=spec["steps"],
        records=spec["records"],
        key=key,
    )


def analyze(
    runs: Sequence[Mapping[str, np.ndarray]],
    *,
    spec: Mapping[str, Any],
    data: Mapping[str, np.ndarray],
    kernels: Mapping[str, np.ndarray],
) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    """Numbers (JSON) and figure data (one dict of arrays per figure) from one run per width."""
    lr = spec["lr"]
    runs = sorted(runs, key=lambda r: int(r["width"]))
    widths = np.array([int(r["width"]) for r in runs])
    steps = runs[0]["record_steps"]
    t_final = float(steps[-1])
    numbers: dict[str, Any] = {
        "widths": widths.tolist(),
        "width_min": int(widths.min()),
        "width_max": int(widths.max()),
    }

    # E1: final relative and absolute change per layer type, (n_widths, n_seeds)
    changes = [layer_type_change(r) for r in runs]
    lazy_fig: dict[str, np.ndarray] = {"widths": widths, "steps": steps}
    for name in changes[0]:
        final = np.stack([c[name][-1] for c in changes])
        lazy_fig[f"final_{name}"] = final
        lazy_fig[f"traj_{name}"] = np.stack([np.nanmean(c[name], axis=1) for c in changes])
        numbers[f"slope_{name}"] = bootstrap_slope(widths, final)
    # E2: network vs linearization on the test set at the end of training
    gap = np.stack(
        [
            np.sqrt(np.mean((r["net_f_test"][-1] - r["lin_f_test"][-1]) ** 2, axis=(-2, -1)))
            for r in runs
        ]
    )
    net_loss = np.stack([r["net_test_loss"][-1] for r in runs])
    lin_loss = np.stack([r["lin_test_loss"][-1] for r in runs])
    numbers["slope_f_minus_g"] = bootstrap_slope(widths, gap)
    numbers["net_test_loss"] = np.nanmean(net_loss, axis=1).tolist()
    numbers["lin_test_loss"] = np.nanmean(lin_loss, axis=1).tolist()
    numbers["lin_test_loss_smallest_width"] = float(np.nanmean(lin_loss[0]))
    numbers["net_test_loss_smallest_width"] = float(np.nanmean(net_loss[0]))
    numbers["width_min"] = int(widths.min())
    numbers["lin_minus_net_test_loss_smallest_width"] = (
        numbers["lin_test_loss_smallest_width"] - numbers["net_test_loss_smallest_width"]
    )
    lin_fig = {
        "widths": widths,
        "rmse_f_g": gap,
        "net_test_loss": net_loss,
        "lin_test_loss": lin_loss,
    }

    # E6: finite nets against the infinite-width predictors at the same time and at t = ∞
    y_train, y_test, labels = data["y_train"], data["y_test"], data["labels_test"]
    ntk = predict.gp_moments(kernels, y_train, np.array([t_final, np.inf]), lr=lr)
    ntk_mse = predict.expected_test_mse(ntk["mean"], ntk["cov"], y_test)
    nngp = predict.gp_moments(kernels, y_train, np.array([np.inf]), lr=lr, kernel="nngp")
    nngp_mse = predict.expected_test_mse(nngp["mean"], nngp["cov"], y_test)
    net_acc = np.stack([predict.accuracy(r["net_f_test"][-1], labels) for r in runs])
    lin_acc = np.stack([predict.accuracy(r["lin_f_test"][-1], labels) for r in runs])
    ntk_acc = predict.accuracy(ntk["mean"], labels)
    # A single net's output carries its random initial function; averaging the seeds
    # estimates the infinite ensemble's mean, which is what the NTK mean predicts.
    ens_acc = np.array([predict.accuracy(np.nanmean(r["net_f_test"][-1], 0), labels) for r in runs])
    gen_gap = np.abs(net_loss - ntk_mse[0])
    numbers.update(
        {
            "ntk_test_loss_T": float(ntk_mse[0]),
            "ntk_test_loss_inf": float(ntk_mse[1]),
            "nngp_test_loss_inf": float(nngp_mse[0]),
            "ntk_mean_accuracy_T": float(ntk_acc[0]),
            "ntk_mean_accuracy_inf": float(ntk_acc[1]),
            "nngp_mean_accuracy_inf": float(predict.accuracy(nngp["mean"], labels)[0]),
            "net_accuracy": np.nanmean(net_acc, axis=1).tolist(),
            "net_accuracy_widest": float(np.nanmean(net_acc[-1])),
            "net_ensemble_accuracy": ens_acc.tolist(),
            "net_test_loss_widest": float(np.nanmean(net_loss[-1])),
            "slope_gap_to_ntk": bootstrap_slope(widths, gen_gap),
            "diverged_runs": int(
                sum(r["net_diverged"].sum() + r["lin_diverged"].sum() for r in runs)
            ),
        }
    )
    gen_fig = {
        "widths": widths,
        "net_test_loss": net_loss,
        "lin_test_loss": lin_loss,
        "net_accuracy": net_acc,
        "lin_accuracy": lin_acc,
        "ntk_test_loss": ntk_mse,
        "nngp_test_loss": nngp_mse,
        "ntk_accuracy": ntk_acc,
        "net_ensemble_accuracy": ens_acc,
    }
    return numbers, {"lazy": lazy_fig, "linearization": lin_fig, "generalization": gen_fig}
