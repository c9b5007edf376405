"""E5: a trained finite-width ensemble against the NTK Gaussian (Jacot Fig. 2).

Four training points on the unit circle with target x_1·x_2; for each width, an ensemble of
networks is trained by full-batch GD for ``steps`` steps, and the 10/50/90 percentiles of
f(γ) over the ensemble are compared with those of the Gaussian that the NTK predicts.

The Gaussian (mean and covariance, at t = ``steps`` and at t = ∞) comes from
neural-tangents, ``nt.predict.gradient_descent_mse_ensemble`` on the ``nt.stax`` kernel
function (``nt_reference.nt_gp_moments``); our recursion and spectral code
(``predict.gp_moments``) reproduce it, and the difference is a number (claim E5-nt).

Distances are in predictive-std units: with μ(γ), σ(γ) the Gaussian's mean and standard
deviation at t = ∞ and σ̄ = RMS_γ σ(γ) over the test angles,

    d_mean = RMS_γ(mean over nets of f(γ) − μ(γ)) / σ̄,
    d_std  = RMS_γ(std over nets of f(γ) − σ(γ)) / σ̄.

With S exact draws of the Gaussian, d_mean would still be about 1/sqrt(S) (the sampling
error of a mean), an expected size, not a floor. Intervals: percentile bootstrap over the
nets of each width (widths resampled independently).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from ntkpaper import data as datasets
from ntkpaper import fits, infinite, nt_reference, predict, rates, train
from ntkpaper.finite import init_width
from ntkpaper.full_batch_gd import full_batch_gd
from ntkpaper.models import ensemble_apply, model_spec
from ntkpaper.records import Record

TRAIN_ANGLES = np.array([-0.75, -0.25, 0.25, 0.75]) * np.pi  # targets x1·x2 = ±1/2
PERCENTILES = (10, 50, 90)

# How the workflow runs this kind (read by ntkpaper.workflow without importing this module).
WORKFLOW = {"priority": 30}


@dataclass(frozen=True)
class Run(Record):
    """The whole instance (not sharded): the NTK Gaussian on the circle, at t = ∞ and at the
    nets' training time T, and each width's trained nets there."""

    gammas: np.ndarray  # (n_angles,) test angles
    train_angles: np.ndarray  # (n_train,)
    y_train: np.ndarray  # (n_train, 1)
    widths: np.ndarray  # (widths,) int
    lr: float
    eta_crit: float
    gp_mean: np.ndarray  # (n_angles,) at t = ∞
    gp_std: np.ndarray  # (n_angles,)
    gp_mean_T: np.ndarray  # (n_angles,) at t = T
    gp_std_T: np.ndarray  # (n_angles,)
    nt_agreement: float  # our kernels + spectral code against neural-tangents
    nt_agreement_predict: float  # our spectral code on neural-tangents' kernels
    f_test: np.ndarray  # (widths, seeds, n_angles) the trained nets
    train_loss: np.ndarray  # (widths, seeds)


def run(spec: Mapping[str, Any], data=None, *, key) -> Run:
    gammas = datasets.uniform_angles(spec["n_angles"])
    x_train, x_test = datasets.circle(TRAIN_ANGLES), datasets.circle(gammas)
    y_train = datasets.circle_target(x_train)
    mspec = model_spec(spec["model"], width=1, out_dim=1)
    times = np.array([float(spec["steps"]), np.inf])
    analytic = infinite.analytic_kernels(mspec, x_train, x_test)
    rate = rates.resolve(spec["lr"], analytic["ntk_train_train"], m=len(x_train))
    lr = rate["lr"]
    gp = nt_reference.nt_gp_moments(mspec, x_train, y_train, x_test, times, lr=lr)
    ours = predict.gp_moments(analytic, y_train, times, lr=lr)
    on_nt = predict.gp_moments(nt_reference.nt_kernels(mspec, x_train, x_test), y_train, times,
                               lr=lr)  # fmt: skip
    std = np.sqrt(np.clip(np.diagonal(gp["cov"], axis1=1, axis2=2), 0, None))  # (2, n_angles)
    f_tests, losses = [], []
    for width in spec["widths"]:
        wspec, params0 = init_width(
            spec["model"], width=width, out_dim=1, in_dim=2, seeds=spec["seeds"], key=key
        )
        params = full_batch_gd(wspec, params0, x_train, y_train, lr=lr, steps=spec["steps"])
        f_test = np.asarray(ensemble_apply(wspec, params, x_test), np.float64)
        f_tests.append(f_test[:, :, 0])  # (seeds, n_angles)
        losses.append(train.ensemble_mse_loss(ensemble_apply(wspec, params, x_train), y_train))
    return Run(gammas=gammas, train_angles=TRAIN_ANGLES, y_train=y_train,
               widths=np.array(spec["widths"]), lr=lr, eta_crit=rate["eta_crit"],
               gp_mean=gp["mean"][1, :, 0], gp_std=std[1], gp_mean_T=gp["mean"][0, :, 0],
               gp_std_T=std[0], nt_agreement=predict.gaussian_difference(ours, gp),
               nt_agreement_predict=predict.gaussian_difference(on_nt, gp),
               f_test=np.stack(f_tests), train_loss=np.stack(losses))  # fmt: skip


def distances(f: np.ndarray, mean: np.ndarray, std: np.ndarray) -> tuple[float, float]:
    """(d_mean, d_std) of an ensemble's outputs f (nets, angles), in predictive-std units."""
    scale = np.sqrt(np.mean(std**2))
    d_mean = np.sqrt(np.mean((f.mean(0) - mean) ** 2)) / scale
    d_std = np.sqrt(np.mean((f.std(0, ddof=1) - std) ** 2)) / scale
    return float(d_mean), float(d_std)


def analyze(
    runs: Sequence[Run], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    (run,) = runs  # one run file: this kind is not sharded
    widths, mean, std = run.widths, run.gp_mean, run.gp_std
    scale = float(np.sqrt(np.mean(std**2)))  # σ̄, the RMS predictive std
    fig: dict[str, Any] = {
        "gammas": run.gammas,
        "train_angles": run.train_angles,
        "y_train": run.y_train,
        "widths": widths,
        **{f"gp_p{p}": mean + norm.ppf(p / 100) * std for p in PERCENTILES},
    }
    nets = list(run.f_test)
    for w, f in zip(widths, nets, strict=True):
        for p in PERCENTILES:
            fig[f"w{w}_p{p}"] = np.percentile(f, p, axis=0)

    def d_mean(f):
        return distances(f, mean, std)[0]

    def d_std(f):
        return distances(f, mean, std)[1]

    n_nets = int(min(len(f) for f in nets))
    numbers = {
        **rates.numbers(run.lr, run.eta_crit),
        "widths": widths.tolist(),
        "n_nets": n_nets,
        "mean_distance": [fits.bootstrap_statistic(f, d_mean) for f in nets],
        "std_distance": [fits.bootstrap_statistic(f, d_std) for f in nets],
        "sampling_expected": float(1 / np.sqrt(n_nets)),
        "mean_distance_ratio": fits.independent_ratio(nets[-1], nets[0], d_mean),
        "std_distance_ratio": fits.independent_ratio(nets[-1], nets[0], d_std),
        "final_train_loss": [float(np.nanmax(loss)) for loss in run.train_loss],
        "final_train_loss_max": float(max(np.nanmax(loss) for loss in run.train_loss)),
        "gp_T_vs_inf": float(
            max(np.max(np.abs(run.gp_mean_T - mean)), np.max(np.abs(run.gp_std_T - std))) / scale
        ),
        "gp_rms_std": scale,
        "nt_agreement": run.nt_agreement,
        "nt_agreement_predict": run.nt_agreement_predict,
    }
    return numbers, {"gp_prediction": fig}
