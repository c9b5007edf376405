"""E5: a trained finite-width ensemble against the NTK Gaussian (Jacot Fig. 2).

Four training points on the unit circle with target x_1·x_2; for each width, an ensemble of
networks is trained to convergence by full-batch GD, and the 10/50/90 percentiles of f(γ)
over the ensemble are compared with those of the Gaussian that the NTK predicts at t = ∞
(mean and covariance from `predict.gp_moments`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy.stats import norm

from ntkpaper import data as datasets
from ntkpaper import infinite, predict, train
from ntkpaper.finite import init_width
from ntkpaper.full_batch_gd import full_batch_gd
from ntkpaper.models import ensemble_apply, model_spec

TRAIN_ANGLES = np.array([-0.75, -0.25, 0.25, 0.75]) * np.pi  # targets x1·x2 = ±1/2
PERCENTILES = (10, 50, 90)

# How the workflow runs this kind (read by ntkpaper.workflow without importing this module).
WORKFLOW = {"priority": 30}


def run(spec: Mapping[str, Any], data=None, *, key) -> dict[str, Any]:
    gammas = datasets.uniform_angles(spec["n_angles"])
    x_train, x_test = datasets.circle(TRAIN_ANGLES), datasets.circle(gammas)
    y_train = datasets.circle_target(x_train)
    kernels = infinite.analytic_kernels(
        model_spec(spec["model"], width=1, out_dim=1), x_train, x_test
    )
    gp = predict.gp_moments(kernels, y_train, np.array([np.inf]), lr=spec["lr"])
    out: dict[str, Any] = {
        "gammas": gammas,
        "train_angles": TRAIN_ANGLES,
        "y_train": y_train,
        "widths": np.array(spec["widths"]),
        "gp_mean": gp["mean"][0, :, 0],
        "gp_std": np.sqrt(np.clip(np.diagonal(gp["cov"][0]), 0, None)),
    }
    for width in spec["widths"]:
        mspec, params0 = init_width(
            spec["model"], width=width, out_dim=1, in_dim=2, seeds=spec["seeds"], key=key
        )
        params = full_batch_gd(mspec, params0, x_train, y_train, lr=spec["lr"], steps=spec["steps"])
        f_test = np.asarray(ensemble_apply(mspec, params, x_test), np.float64)
        out[f"w{width}_f_test"] = f_test[:, :, 0]  # (seeds, n_angles)
        out[f"w{width}_train_loss"] = train.ensemble_mse_loss(
            ensemble_apply(mspec, params, x_train), y_train
        )
    return out


def analyze(
    runs: Sequence[Mapping[str, np.ndarray]], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    (run,) = runs  # one run file: this kind is not sharded
    widths, mean, std = run["widths"], run["gp_mean"], run["gp_std"]
    scale = float(np.sqrt(np.mean(std**2)))  # RMS predictive std: the natural unit
    mean_dist, std_dist, floor = [], [], []
    fig: dict[str, Any] = {
        "gammas": run["gammas"],
        "train_angles": run["train_angles"],
        "y_train": run["y_train"],
        "widths": widths,
        **{f"gp_p{p}": mean + norm.ppf(p / 100) * std for p in PERCENTILES},
    }
    for w in widths:
        f = run[f"w{w}_f_test"]
        mean_dist.append(float(np.sqrt(np.mean((f.mean(0) - mean) ** 2)) / scale))
        std_dist.append(float(np.sqrt(np.mean((f.std(0, ddof=1) - std) ** 2)) / scale))
        floor.append(float(1 / np.sqrt(len(f))))  # sampling error of a mean of S draws, same unit
        for p in PERCENTILES:
            fig[f"w{w}_p{p}"] = np.percentile(f, p, axis=0)
    numbers = {
        "widths": widths.tolist(),
        "mean_distance": mean_dist,
        "std_distance": std_dist,
        "sampling_floor": floor[0],
        "mean_distance_ratio": mean_dist[-1] / mean_dist[0],
        "std_distance_ratio": std_dist[-1] / std_dist[0],
        "final_train_loss": [float(np.nanmax(run[f"w{w}_train_loss"])) for w in widths],
        "n_nets": len(run[f"w{widths[0]}_f_test"]),
    }
    return numbers, {"gp_prediction": fig}
