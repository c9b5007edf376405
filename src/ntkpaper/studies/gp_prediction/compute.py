"""E5: a trained finite-width ensemble against the NTK Gaussian (Jacot Fig. 2).

Four training points on the unit circle with target x_1·x_2; for each width, an ensemble of
networks is trained by full-batch GD for ``steps`` steps, and the 10/50/90 percentiles of
f(γ) over the ensemble are compared with those of the Gaussian that the NTK predicts.

The Gaussian (mean and covariance, at t = ``steps`` and at t = ∞) comes from
neural-tangents, ``nt.predict.gradient_descent_mse_ensemble`` on the ``nt.stax`` kernel
function (``nt_reference.nt_gp_moments``); our recursion and spectral code
(``predict.gp_moments``) reproduce it, and the difference is a number (claim E5-nt).

What is claimed. Jacot et al. (Sec. 6.2) write: "The distributions of the network functions
are very similar for both widths: their mean and variance appear to be close to those of the
limiting distribution t → ∞. Even for relatively small widths (n = 50), the NTK gives a good
indication of the distribution of f_θ(t) as t → ∞." No width trend: the claim is that at each
width the ensemble's mean and spread are close to the Gaussian's. So the quantity is a distance
at each width, and "close" is a margin fixed in advance (claims E5-narrow, E5-wide).

The distance, in predictive-std units. With μ(γ), σ(γ) the Gaussian's mean and standard
deviation at t = ∞, σ̄ = RMS_γ σ(γ) over the test angles, and m(γ), s_n(γ) the mean and
standard deviation of the trained nets' f(γ) at width n (over initializations),

    D² = mean_γ [(m − μ)² + (s_n − σ)²] / σ̄² = D_mean² + D_std²:

the mean square over angles of the 2-Wasserstein distance between N(m, s_n²) and N(μ, σ²),
i.e. mean and spread together, as Jacot's sentence compares them. A margin of 0.25 is a shift
of 0.25 predictive std, or a spread 25% off: at one angle, a total-variation distance of about
0.1 between the two Gaussians.

Its estimate subtracts the sampling noise of the ensemble. S nets estimate m and s_n by the
ensemble mean f̄ and standard deviation s, and E(f̄ − μ)² = (m − μ)² + Var f̄, E(s − σ)² ≈ (E s
− σ)² + Var s: the plain distances d_mean = RMS(f̄ − μ)/σ̄, d_std = RMS(s − σ)/σ̄ are biased
upward by the noise (about 1/√S and 1/√(2S) for exact draws of the Gaussian: 0.18 and 0.13 at
30 nets, Jacot trained 10: the size of the effect in question). We subtract, at each angle, the
jackknife (leave-one-net-out) estimate of that variance,

    D_mean² = mean_γ [(f̄ − μ)² − v_J(f̄)] / σ̄²,     v_J(f̄) = s²/S (exactly unbiased),
    D_std²  = mean_γ [(s_J − σ)² − v_J(s)] / σ̄²,     v_J(s) = jackknife variance of s,

with s_J the jackknife bias-corrected standard deviation (s itself falls short of s_n by
O(1/S), a bias of O(D/S) in D²). Both use the nets' own spread and shape, not the Gaussian's,
so they hold whether or not the nets are Gaussian. On synthetic ensembles with a known distance
(tests/test_studies.py) the estimate is unbiased to about 0.001 in D² from 30 nets on, where
the plain d_mean² + d_std² is about 1.5/S too large. An estimate can fall below zero when the
true distance is smaller than the noise; we report the signed root sign(D²)·√|D²|, in
predictive-std units.

Intervals: BCa over the nets of each width (resampled with replacement, widths independent), on
D² (smooth) and mapped through the signed root (monotone). A resample's own noise correction
aims at the resampled nets' plug-in distance (``plugin_squares``), the truth of the bootstrap
world, not at our estimate; so the replicates are the bootstrap's errors put around the
estimate, D² + (D²* − D²_plugin), and BCa (the acceleration from the leave-one-net-out
estimates) runs on those. On correlated Gaussian ensembles with true distances 0 to 0.25 the
90% interval's upper end covered the truth in 94–100% of 100–200 repetitions at 60 and 400
nets (one-sided target 95%), the lower end in 90–100%; BCa on the uncorrected resampled
estimates covered it in as few as 38%. The noise still sets the interval's width: each width
has its own number of nets (``seeds`` may be a list, one per width), many where nets are cheap
(width 50) and fewer where each costs about 25 times more (width 1000).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import gammaln
from scipy.stats import norm

from ntkpaper.data import datasets
from ntkpaper.kernels import gram, nt_reference, predict
from ntkpaper.networks import train
from ntkpaper.networks.finite import init_width
from ntkpaper.networks.full_batch_gd import full_batch_gd
from ntkpaper.networks.models import ensemble_apply, model_spec
from ntkpaper.pipeline.records import Intervals, Record
from ntkpaper.statistics import fits, rates
from ntkpaper.studies.gp_prediction.figure_data import Distances, GpPrediction

TRAIN_ANGLES = np.array([-0.75, -0.25, 0.25, 0.75]) * np.pi  # targets x1·x2 = ±1/2
PERCENTILES = (10, 50, 90)
MARGIN = 0.25  # claims E5-narrow/E5-wide (experiments/claims.yaml): drawn in the figure


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
    f_test: np.ndarray  # (widths, max seeds, n_angles) the trained nets; NaN past a width's own
    train_loss: np.ndarray  # (widths, max seeds), NaN likewise


def seeds_per_width(spec: Mapping[str, Any]) -> list[int]:
    """The number of nets of each width: ``seeds`` is one number for all, or one per width."""
    seeds = spec["seeds"]
    return (
        [int(s) for s in seeds] if isinstance(seeds, list) else [int(seeds)] * len(spec["widths"])
    )


def run(spec: Mapping[str, Any], data=None, *, key) -> Run:
    gammas = datasets.uniform_angles(spec["n_angles"])
    x_train, x_test = datasets.circle(TRAIN_ANGLES), datasets.circle(gammas)
    y_train = datasets.circle_target(x_train)
    mspec = model_spec(spec["model"], width=1, out_dim=1)
    times = np.array([float(spec["steps"]), np.inf])
    analytic = gram.analytic_kernels(mspec, x_train, x_test)
    rate = rates.resolve(spec["lr"], analytic["ntk_train_train"], m=len(x_train))
    lr = rate["lr"]
    gp = nt_reference.nt_gp_moments(mspec, x_train, y_train, x_test, times, lr=lr)
    ours = predict.gp_moments(analytic, y_train, times, lr=lr)
    on_nt = predict.gp_moments(
        nt_reference.nt_kernels(mspec, x_train, x_test), y_train, times, lr=lr
    )
    std = np.sqrt(np.clip(np.diagonal(gp["cov"], axis1=1, axis2=2), 0, None))  # (2, n_angles)
    seeds = seeds_per_width(spec)
    f_test = np.full((len(seeds), max(seeds), len(gammas)), np.nan)
    losses = np.full((len(seeds), max(seeds)), np.nan)
    for i, (width, n_seeds) in enumerate(zip(spec["widths"], seeds, strict=True)):
        wspec, params0 = init_width(
            spec["model"], width=width, out_dim=1, in_dim=2, seeds=n_seeds, key=key
        )
        params = full_batch_gd(wspec, params0, x_train, y_train, lr=lr, steps=spec["steps"])
        f_test[i, :n_seeds] = np.asarray(ensemble_apply(wspec, params, x_test), np.float64)[..., 0]
        losses[i, :n_seeds] = train.ensemble_mse_loss(
            ensemble_apply(wspec, params, x_train), y_train
        )
    return Run(
        gammas=gammas,
        train_angles=TRAIN_ANGLES,
        y_train=y_train,
        widths=np.array(spec["widths"]),
        lr=lr,
        eta_crit=rate["eta_crit"],
        gp_mean=gp["mean"][1, :, 0],
        gp_std=std[1],
        gp_mean_T=gp["mean"][0, :, 0],
        gp_std_T=std[0],
        nt_agreement=predict.gaussian_difference(ours, gp),
        nt_agreement_predict=predict.gaussian_difference(on_nt, gp),
        f_test=f_test,
        train_loss=losses,
    )


def nets_of(run: Run) -> list[np.ndarray]:
    """Each width's trained nets f(γ), (nets, angles), without the padding."""
    return [f[np.all(np.isfinite(f), axis=1)] for f in run.f_test]


def distances(f: np.ndarray, mean: np.ndarray, std: np.ndarray) -> tuple[float, float]:
    """(d_mean, d_std): the plain (not noise-corrected) distances of an ensemble's outputs f
    (nets, angles) from the Gaussian, in predictive-std units."""
    scale = np.sqrt(np.mean(std**2))
    d_mean = np.sqrt(np.mean((f.mean(0) - mean) ** 2)) / scale
    d_std = np.sqrt(np.mean((f.std(0, ddof=1) - std) ** 2)) / scale
    return float(d_mean), float(d_std)


def corrected_squares(f: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(D_mean², D_std²) of ensembles f (..., nets, angles), in σ̄² units, each with its
    sampling noise subtracted (the module docstring): shape (..., 2). Needs ≥ 3 nets (≥ 4
    for a jackknife over them)."""
    f = np.asarray(f, np.float64)
    n = f.shape[-2]
    total, squares = f.sum(-2, keepdims=True), (f**2).sum(-2, keepdims=True)
    f_bar = total[..., 0, :] / n
    var = np.maximum(squares[..., 0, :] - total[..., 0, :] ** 2 / n, 0.0) / (n - 1)
    # leave-one-net-out standard deviations, (..., nets, angles)
    rest = total - f
    loo = np.sqrt(np.maximum(squares - f**2 - rest**2 / (n - 1), 0.0) / (n - 2))
    loo_mean = loo.mean(-2)
    v_std = (n - 1) / n * np.sum((loo - loo_mean[..., None, :]) ** 2, axis=-2)
    s_jack = n * np.sqrt(var) - (n - 1) * loo_mean  # s with its O(1/S) bias removed
    scale2 = np.mean(std**2)
    d_mean2 = np.mean((f_bar - mean) ** 2 - var / n, axis=-1) / scale2
    d_std2 = np.mean((s_jack - std) ** 2 - v_std, axis=-1) / scale2
    return np.stack([d_mean2, d_std2], axis=-1)


def signed_root(x):
    """sign(x)·√|x|: a squared distance back in distance units (monotone, so intervals map)."""
    return np.sign(x) * np.sqrt(np.abs(x))


def _rooted(record: dict[str, Any]) -> dict[str, Any]:
    out = dict(record)
    for k in ("value", "lo", "hi"):
        out[k] = float(signed_root(record[k]))
    out["cdist"] = [float(v) for v in signed_root(np.asarray(record["cdist"]))]
    return out


def plugin_squares(f: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(D_mean², D_std²) of the nets f (nets, angles) taken as the whole population: the
    distances of their own mean and (ddof 0) standard deviation, in σ̄² units. In a bootstrap
    over these nets, this is the truth that ``corrected_squares`` of a resample estimates."""
    scale2 = np.mean(std**2)
    return np.array([np.mean((f.mean(0) - mean) ** 2), np.mean((f.std(0) - std) ** 2)]) / scale2


def corrected_distances(
    f: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    *,
    n_boot: int = fits.N_BOOT,
    seed: int = 0,
    chunk: int = 100,
) -> dict[str, dict[str, Any]]:
    """The noise-corrected distances of one width's nets f (nets, angles) from the Gaussian —
    ``mean``, ``std`` and ``total`` (√(D_mean² + D_std²)) — each an interval record in
    predictive-std units (the module docstring: BCa on the squared distance over the
    bootstrap's errors, mapped through the signed root)."""
    n = len(f)
    point = corrected_squares(f, mean, std)
    picks = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    boots = np.concatenate(
        [corrected_squares(f[p], mean, std) for p in np.array_split(picks, -(-n_boot // chunk))]
    )
    # the bootstrap's errors (resample's estimate − the resampled nets' own distance), put
    # around the estimate: a resample's noise correction aims at the plug-in, not at `point`
    replicates = point + (boots - plugin_squares(f, mean, std))
    jack = np.stack([corrected_squares(np.delete(f, i, axis=0), mean, std) for i in range(n)])
    out = {}
    for name, pick in (("mean", [0]), ("std", [1]), ("total", [0, 1])):
        squared = (point[pick].sum(), replicates[:, pick].sum(1))
        rec = fits.interval_record(
            *squared, jackknife=[jack[:, pick].sum(1)], n_seeds=n, key="value"
        )
        out[name] = _rooted(rec)
    return out


def analyze(
    runs: Sequence[Run], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    (run,) = runs  # one run file: this kind is not sharded
    widths, mean, std = run.widths, run.gp_mean, run.gp_std
    scale = float(np.sqrt(np.mean(std**2)))  # σ̄, the RMS predictive std
    nets = nets_of(run)
    corrected = [corrected_distances(f, mean, std) for f in nets]
    plain = [distances(f, mean, std) for f in nets]
    n_nets = [len(f) for f in nets]
    numbers = {
        **rates.numbers(run.lr, run.eta_crit),
        "widths": widths.tolist(),
        "n_nets": n_nets,
        "n_nets_min": int(min(n_nets)),
        "distance": [c["total"] for c in corrected],
        "mean_distance": [c["mean"] for c in corrected],
        "std_distance": [c["std"] for c in corrected],
        "distance_narrowest": corrected[0]["total"],
        "distance_widest": corrected[-1]["total"],
        # the plain distances, and their expected size for S exact draws of the Gaussian:
        # E d_mean² = 1/S, E d_std² = 2(1 − c4(S)) with c4(S) = E s/σ
        "mean_distance_plain": [d[0] for d in plain],
        "std_distance_plain": [d[1] for d in plain],
        "mean_distance_plain_expected": [float(1 / np.sqrt(s)) for s in n_nets],
        "std_distance_plain_expected": [float(np.sqrt(2 * (1 - c4(s)))) for s in n_nets],
        "final_train_loss": [float(np.nanmax(loss)) for loss in run.train_loss],
        "final_train_loss_max": float(np.nanmax(run.train_loss)),
        "gp_T_vs_inf": float(
            max(np.max(np.abs(run.gp_mean_T - mean)), np.max(np.abs(run.gp_std_T - std))) / scale
        ),
        "gp_rms_std": scale,
        "nt_agreement": run.nt_agreement,
        "nt_agreement_predict": run.nt_agreement_predict,
    }
    return numbers, {"gp_prediction": _figure(run, nets, corrected)}


def _figure(
    run: Run, nets: Sequence[np.ndarray], corrected: Sequence[Mapping[str, Any]]
) -> GpPrediction:
    """The figure's data: each width's nets and the Gaussian as percentiles of f(γ), and the
    corrected distances."""
    mean, std = run.gp_mean, run.gp_std
    return GpPrediction(
        gammas=run.gammas,
        train_angles=run.train_angles,
        widths=run.widths,
        gp={str(p): mean + norm.ppf(p / 100) * std for p in PERCENTILES},
        nets={
            str(w): {str(p): np.percentile(f, p, axis=0) for p in PERCENTILES}
            for w, f in zip(run.widths, nets, strict=True)
        },
        distances=Distances(
            total=Intervals.of([c["total"] for c in corrected]),
            mean=Intervals.of([c["mean"] for c in corrected]),
            std=Intervals.of([c["std"] for c in corrected]),
        ),
        margin=MARGIN,
    )


def c4(n: int) -> float:
    """E s/σ for the sample standard deviation (ddof 1) of n Gaussian draws."""
    return float(np.exp(0.5 * np.log(2 / (n - 1)) + gammaln(n / 2) - gammaln((n - 1) / 2)))
