"""E12: learning curves of NTK regression from the kernel's spectrum (Bordelon, Canatar &
Pehlevan 2020; Canatar, Bordelon & Pehlevan 2021).

Population: the configured data set's training and test points together, N of them (all
1797 digits on the full config), with the uniform measure; its analytic NTK Θ (the cached
kernel blocks of the data set and architecture) and targets Y (one-hot minus 1/10 for the
digits, x_1·x_2 on the circle). ``ntkpaper.kernels.learning_theory`` states the conventions; the
error is the squared error averaged over points and outputs.

* Theory: eigenpairs of Θ/N, the target's power c_ρ² on each, κ from the self-consistent
  equation, E_g(P) for every training-set size P of ``sizes`` (those below N) at ridge 0 and
  at λ = ``ridge``·tr(Θ)/N.
* Measurement: NTK regression at t = ∞ (the infinitely wide net trained to convergence from
  f_0 = 0), f = Θ(·, S)(Θ_SS + λI)⁻¹Y_S, on ``draws`` random subsets S of size P drawn without
  replacement; the error on the N − P held-out points and on the whole population (E_g's
  own quantity: at λ = 0 the two differ by the factor N/(N − P) exactly); at ``mode_size``
  the whole-population error mode by mode.
* Finite nets: the configured MLP at ``widths``, ``seeds`` initializations each, trained by
  full-batch GD (lr = ``lr_ratio``·η_crit of the analytic kernel on S, η_crit = 2m/λ_max,
  m = P·K) for ``steps`` steps on the first subset of each P in ``net_sizes``. They are
  trained *centered*: on targets Y + f_0(S), predicting f_T − f_0, which is exactly
  training the net x ↦ f(θ, x) − f(θ_0, x) on Y; its infinite-width limit is the kernel
  predictor from f_0 = 0, so it is compared with that predictor after the same T steps of
  discrete GD (and with t = ∞, to say how converged T is).
* Exponents: a least-squares slope of log E against log P over ``fit_sizes`` (bootstrap over
  draws), against min(s, 2b) from power-law fits of the spectrum and the target's tail power
  over the mode indices ``spectrum_fit`` (``learning_theory.power_law_exponent``).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import threadpoolctl

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper.kernels import learning_theory
from ntkpaper.networks.models import init_ensemble, make_apply, model_spec
from ntkpaper.pipeline import keys
from ntkpaper.pipeline.records import Interval, Record
from ntkpaper.statistics import fits
from ntkpaper.statistics.fits import bootstrap_slope, loglog_slope
from ntkpaper.studies.learning_curves.figure_data import (
    Curves,
    HeldOut,
    ModeBins,
    Modes,
    NetGaps,
    RidgeCurve,
    SpectrumFit,
)

N_MODE_BINS = 24
RIDGES = ("ridge0", "ridge")  # ridge 0, and λ = ridge·tr(Θ)/N


@dataclass(frozen=True)
class Errors(Record):
    """NTK regression's error at one ridge, (sizes, draws): on the whole population and on
    the N − P points held out of the subset."""

    whole: np.ndarray
    rest: np.ndarray


@dataclass(frozen=True)
class Nets(Record):
    """The centred finite nets, on the first subset of each of the net sizes P_n."""

    rest: np.ndarray  # (P_n, W, S) their error on the held-out points
    dist: np.ndarray  # (P_n, W, S) RMS distance to the kernel predictor after the same steps
    kernel_T_rest: np.ndarray  # (P_n,) that predictor's held-out error
    kernel_inf_rest: np.ndarray  # (P_n,) the same at t = ∞
    lr: np.ndarray  # (P_n,)
    train_loss: np.ndarray  # (P_n, W, S) final


@dataclass(frozen=True)
class Run(Record):
    """The whole instance (not sharded)."""

    n: int  # the population's size N
    sizes: np.ndarray  # (P,) int64 training-set sizes below N
    eta: np.ndarray  # (N,) eigenvalues of Θ/N, descending
    c2: np.ndarray  # (N,) the target's power on each eigenvector
    ridge: float  # λ of the ridged curves
    ridge_rel: float  # λ·N/tr(Θ), as configured
    mode_size: int
    mode_errors: np.ndarray  # (draws, N) whole-population error per mode at mode_size
    target_variance: float
    errors: dict[str, Errors]  # keyed as RIDGES
    net_sizes: np.ndarray  # (P_n,) int64
    widths: np.ndarray  # (W,) int64
    steps: int
    nets: Nets | None  # absent without net sizes or widths


# ----------------------------------------------------------------------------- population


def population(data: Mapping[str, np.ndarray], kernels: Mapping[str, np.ndarray]):
    """Inputs, targets and the NTK of the training and test points together."""
    x = np.concatenate([data["x_train"], data["x_test"]])
    y = np.concatenate([data["y_train"], data["y_test"]]).reshape(len(x), -1)
    tt, st, ss = (kernels[f"ntk_{b}"] for b in ("train_train", "test_train", "test_test"))
    k = np.block([[tt, st.T], [st, ss]])
    return x, y, 0.5 * (k + k.T)


def subsets(key, n: int, p: int, draws: int) -> list[np.ndarray]:
    """``draws`` subsets of size p without replacement; adding draws changes no other."""
    rng = np.random.default_rng(np.asarray(keys.fold(key, "subsets", p)))
    return [rng.permutation(n)[:p] for _ in range(draws)]


# ----------------------------------------------------------------------------- finite nets


@functools.partial(jax.jit, static_argnames=("apply_fn", "steps"))
def _train_centered(apply_fn, params0, x, targets, lr, steps: int):
    """Full-batch GD on 0.5·mean((f − t_s)²), each seed s on its own targets (vmapped)."""

    def loss(params, t):
        r = apply_fn(params, x) - t
        return 0.5 * jnp.vdot(r, r) / r.size

    grad = jax.grad(loss)

    def one(params, t):
        step = lambda _, p: jax.tree.map(lambda a, g: a - lr * g, p, grad(p, t))  # noqa: E731
        return jax.lax.fori_loop(0, steps, step, params)

    return jax.vmap(one)(params0, targets)


def kernel_gd_predictor(theta, subset, y, lr: float, steps: float) -> np.ndarray:
    """The linearized infinite-width net from f_0 = 0 after ``steps`` steps of discrete GD on
    0.5·mean over m = P·K entries (steps = inf: kernel regression), on every population
    point: Θ(·, S)·V·diag((1 − (1 − ηλ/m)^t)/λ)·Vᵀ·Y_S."""
    y_s = y[subset]
    values, vectors = np.linalg.eigh(theta[np.ix_(subset, subset)])
    m = y_s.size
    if np.isinf(steps):
        gain = 1.0 / values
    else:  # integer steps, so a negative base 1 − ηλ/m (η above m/λ) keeps its sign
        gain = (1.0 - np.power(1.0 - lr * values / m, steps)) / values
    return theta[:, subset] @ (vectors @ (gain[:, None] * (vectors.T @ y_s)))


def train_nets(spec, x, y, theta, subset, *, width: int, key) -> dict[str, np.ndarray]:
    """One width's centered nets on one subset: their outputs f_T − f_0 on the population,
    the kernel predictor after the same steps and at t = ∞, the learning rate used and the
    nets' final training loss."""
    k_out = y.shape[1]
    mspec = model_spec(spec["model"], width=width, out_dim=k_out)
    apply_fn = make_apply(mspec)
    lam_max = np.linalg.eigvalsh(theta[np.ix_(subset, subset)])[-1]
    lr = float(spec["lr_ratio"] * 2 * y[subset].size / lam_max)
    params0 = init_ensemble(
        mspec,
        key=keys.fold(key, "nets", len(subset), width),
        in_dim=x.shape[1],
        n_seeds=spec["seeds"],
        dtype=jnp.float32,
    )
    xs = jnp.asarray(x, jnp.float32)
    f0 = jax.vmap(lambda p: apply_fn(p, xs))(params0)  # (S, N, K)
    targets = jnp.asarray(y[subset], jnp.float32)[None] + f0[:, subset]
    params = _train_centered(apply_fn, params0, xs[subset], targets, lr, int(spec["steps"]))
    f_t = jax.vmap(lambda p: apply_fn(p, xs))(params)
    train_loss = 0.5 * jnp.mean((f_t[:, subset] - targets) ** 2, axis=(1, 2))
    return {
        "f": np.asarray(f_t - f0, np.float64),
        "kernel_T": kernel_gd_predictor(theta, subset, y, lr, float(spec["steps"])),
        "kernel_inf": kernel_gd_predictor(theta, subset, y, lr, np.inf),
        "lr": np.float64(lr),
        "train_loss": np.asarray(train_loss, np.float64),
    }


# ----------------------------------------------------------------------------- run


def run(spec, data, *, key, kernels) -> Run:
    # Hundreds of small solves: one BLAS thread (on a loaded 2-core machine OpenBLAS's
    # threads spent 20× the CPU time of one thread on them, waiting for each other).
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        return _run(spec, data, key=key, kernels=kernels)


def _run(spec, data, *, key, kernels) -> Run:
    x, y, theta = population(data, kernels)
    n = len(x)
    sizes = np.array(sorted(p for p in spec["sizes"] if p < n), np.int64)
    if sizes.size == 0:
        raise ValueError(f"learning_curves: every size in {spec['sizes']} is >= N = {n}")
    spectrum = learning_theory.population_spectrum(theta, y)
    ridge = float(spec["ridge"] * np.trace(theta) / n)
    draws = int(spec["draws"])
    mode_size = int(min(spec["mode_size"], sizes[-1]))
    errors = {
        name: Errors(whole=np.zeros((sizes.size, draws)), rest=np.zeros((sizes.size, draws)))
        for name in RIDGES
    }
    for i, p in enumerate(sizes):
        for d, subset in enumerate(subsets(key, n, int(p), draws)):
            for name, lam in zip(RIDGES, (0.0, ridge), strict=True):
                e = learning_theory.subset_errors(theta, y, subset, lam)
                errors[name].whole[i, d], errors[name].rest[i, d] = e["whole"], e["rest"]
    # the whole-population error mode by mode at one size (the same subsets when it is a size)
    mode_errors = np.stack(
        [
            learning_theory.subset_errors(theta, y, subset, 0.0, spectrum["vectors"])["modes"]
            for subset in subsets(key, n, mode_size, draws)
        ]
    )

    net_sizes = np.array(sorted(p for p in spec["net_sizes"] if p < n), np.int64)
    widths = np.array(sorted(spec["widths"]), np.int64)
    finite = None
    if net_sizes.size and widths.size:
        nets = {
            "rest": [],
            "dist": [],
            "kernel_T_rest": [],
            "kernel_inf_rest": [],
            "lr": [],
            "train_loss": [],
        }
        for p in net_sizes:
            subset = subsets(key, n, int(p), 1)[0]
            rest = np.setdiff1d(np.arange(n), subset)
            per_width = [
                train_nets(spec, x, y, theta, subset, width=int(w), key=key) for w in widths
            ]
            ker_t = per_width[0]["kernel_T"][rest]
            nets["rest"].append(
                [np.mean((r["f"][:, rest] - y[rest]) ** 2, axis=(1, 2)) for r in per_width]
            )
            nets["dist"].append(
                [
                    np.sqrt(
                        np.mean((r["f"][:, rest] - ker_t) ** 2, axis=(1, 2)) / np.mean(ker_t**2)
                    )
                    for r in per_width
                ]
            )
            nets["kernel_T_rest"].append(np.mean((ker_t - y[rest]) ** 2))
            nets["kernel_inf_rest"].append(
                np.mean((per_width[0]["kernel_inf"][rest] - y[rest]) ** 2)
            )
            nets["lr"].append(per_width[0]["lr"])
            nets["train_loss"].append([r["train_loss"] for r in per_width])
        finite = Nets(**{name: np.asarray(v, np.float64) for name, v in nets.items()})
    return Run(
        n=n,
        sizes=sizes,
        eta=spectrum["eta"],
        c2=spectrum["c2"],
        ridge=ridge,
        ridge_rel=float(spec["ridge"]),
        mode_size=mode_size,
        mode_errors=mode_errors,
        target_variance=float(np.mean(y**2)),
        errors=errors,
        net_sizes=net_sizes,
        widths=widths,
        steps=int(spec["steps"]),
        nets=finite,
    )


# ----------------------------------------------------------------------------- analysis


def _binned(index: np.ndarray, values: np.ndarray, n_bins: int) -> tuple[np.ndarray, ...]:
    """Sums of ``values`` (..., n_modes) over log-spaced bins of the 1-based mode index, per
    unit index (the mean per mode in each bin), with the bins' geometric centres."""
    edges = np.unique(np.round(np.geomspace(1, index[-1] + 1, n_bins + 1)).astype(int))
    centres, means = [], []
    for lo, hi in itertools.pairwise(edges):
        sel = (index >= lo) & (index < hi)
        if sel.any():
            centres.append(np.sqrt(lo * (hi - 1)) if hi - 1 > lo else lo)
            means.append(values[..., sel].mean(-1))
    return np.array(centres), np.stack(means, -1)


def analyze(runs: Sequence[Run], *, spec: Mapping[str, Any]):
    """Numbers and figure data: the learning curves against the theory at both ridges, the
    exponents, the finite nets against the kernel, and the error mode by mode at one size."""
    (run,) = runs
    n, sizes = int(run.n), run.sizes.astype(np.float64)
    eta, ridge = run.eta, float(run.ridge)
    numbers: dict[str, Any] = {
        "n_population": n,
        "sizes": run.sizes.tolist(),
        "p_min": int(sizes[0]),
        "p_max": int(sizes[-1]),
        "n_sizes": int(sizes.size),
        "draws": int(spec["draws"]),
        "ridge_rel": float(run.ridge_rel),
        "ridge": ridge,
        "target_variance": float(run.target_variance),
        "eta_max": float(eta[0]),
        "n_modes": int(eta.size),
    }
    ridges, rest = _curves(run, sizes, numbers)
    curves = Curves(
        sizes=sizes,
        ridges=ridges,
        rest=rest,
        fit=_exponents(run, spec, sizes, ridges["ridge0"].theory, numbers),
        nets=_nets(run, spec, numbers),
    )
    return numbers, {"curves": curves, "modes": _modes(run, numbers)}


def _curves(
    run: Run, sizes: np.ndarray, numbers: dict[str, Any]
) -> tuple[dict[str, RidgeCurve], HeldOut]:
    """The measured error (whole population and held-out points) against the theory, at
    ridge 0 and at the configured ridge; the held-out error at ridge 0."""
    n, eta, c2, ridge = int(run.n), run.eta, run.c2, float(run.ridge)
    curves: dict[str, RidgeCurve] = {}
    held: dict[str, HeldOut] = {}
    for name, lam in zip(RIDGES, (0.0, ridge), strict=True):
        th = learning_theory.theory_curve(eta, c2, run.sizes, lam)
        held_out = learning_theory.held_out_error(th["E_g"], th["E_train"], sizes, n)
        whole, rest = run.errors[name].whole, run.errors[name].rest
        ratio = th["E_g"] / whole.mean(1)
        worst = int(np.argmax(np.abs(ratio - 1)))
        suffix = "" if name == "ridge0" else "_ridge"
        numbers.update(
            {
                f"theory{suffix}": th["E_g"].tolist(),
                f"measured_whole{suffix}": whole.mean(1).tolist(),
                f"measured_rest{suffix}": rest.mean(1).tolist(),
                f"theory_ratio{suffix}": ratio.tolist(),
                f"theory_max_rel_dev{suffix}": float(np.abs(ratio[worst] - 1)),
                f"theory_ratio_min{suffix}": float(ratio.min()),
                f"theory_underestimate_factor{suffix}": float(1 / ratio.min()),
                f"theory_ratio_max{suffix}": float(ratio.max()),
                f"theory_worst_p{suffix}": int(sizes[worst]),
                f"theory_mean_rel_dev{suffix}": float(np.mean(np.abs(ratio - 1))),
                f"rest_first{suffix}": float(rest[0].mean()),
                f"rest_last{suffix}": float(rest[-1].mean()),
            }
        )
        draws = whole.shape[1]  # the standard error of the mean over the label draws
        se = whole.std(1, ddof=1) / np.sqrt(draws) if draws > 1 else np.zeros(len(whole))
        curves[name] = RidgeCurve(theory=th["E_g"], whole_mean=whole.mean(1), whole_se=se)
        held[name] = HeldOut(theory=held_out, mean=rest.mean(1), lo=rest.min(1), hi=rest.max(1))
    return curves, held["ridge0"]


def _exponents(
    run: Run,
    spec: Mapping[str, Any],
    sizes: np.ndarray,
    theory: np.ndarray,
    numbers: dict[str, Any],
) -> SpectrumFit:
    """The measured curve's exponent (whole population, ridge 0) against the spectrum's;
    `theory` is the theory's curve at ridge 0."""
    eta, c2 = run.eta, run.c2
    lo, hi = (float(v) for v in spec["fit_sizes"])
    sel = (sizes >= lo) & (sizes <= hi)
    fit = learning_theory.power_law_exponent(eta, c2, *spec["spectrum_fit"])
    numbers.update(
        {
            "fit_p_lo": int(sizes[sel][0]),
            "fit_p_hi": int(sizes[sel][-1]),
            "spectrum_fit_lo": int(spec["spectrum_fit"][0]),
            "spectrum_fit_hi": int(spec["spectrum_fit"][1]),
            "eigen_exponent_b": fit["b"],
            "tail_exponent_s": fit["s"],
            "exponent_predicted": fit["exponent"],
        }
    )
    if sel.sum() >= 2:
        slope = bootstrap_slope(sizes[sel], run.errors["ridge0"].whole[sel])
        pred = fit["exponent"]
        theory_slope, _ = loglog_slope(sizes[sel], theory[sel])
        numbers.update(
            {
                "exponent_measured": -slope["slope"],
                "exponent_measured_lo": -slope["hi"],
                "exponent_measured_hi": -slope["lo"],
                "exponent_theory_curve": -theory_slope,
                "exponent_ratio": {
                    "ratio": -slope["slope"] / pred,
                    "lo": -slope["hi"] / pred,
                    "hi": -slope["lo"] / pred,
                    "level": slope["level"],
                    "n_draws": slope["n_seeds"],
                },
            }
        )
    else:
        numbers.update(
            {"exponent_measured": None, "exponent_theory_curve": None, "exponent_ratio": None}
        )
    return SpectrumFit(lo=lo, hi=hi, exponent=float(fit["exponent"]))


def _nets(run: Run, spec: Mapping[str, Any], numbers: dict[str, Any]) -> NetGaps | None:
    """The finite nets against the kernel after the same steps (None without them)."""
    widths = run.widths.astype(np.float64)
    numbers.update(
        {
            "widths": run.widths.tolist(),
            "net_sizes": run.net_sizes.tolist(),
            "widths_text": ", ".join(str(int(w)) for w in run.widths),
            "net_sizes_text": " and ".join(str(int(p)) for p in run.net_sizes),
            "width_min": int(widths.min()) if widths.size else None,
            "width_max": int(widths.max()) if widths.size else None,
            "seeds": int(spec["seeds"]),
            "steps": int(run.steps),
        }
    )
    if run.nets is not None:
        net, ker_t = run.nets.rest, run.nets.kernel_T_rest  # (P_n, W, S), (P_n,)
        gap = np.abs(net - ker_t[:, None, None]) / ker_t[:, None, None]
        gap_seed = gap.mean(0)  # (W, S): averaged over the sizes, per seed
        dist_seed = run.nets.dist.mean(0)
        numbers.update(
            {
                "net_rest": net.mean(2).tolist(),
                "kernel_T_rest": ker_t.tolist(),
                "kernel_inf_rest": run.nets.kernel_inf_rest.tolist(),
                "kernel_T_vs_inf": float(np.max(np.abs(ker_t / run.nets.kernel_inf_rest - 1))),
                "net_gap": gap_seed.mean(1).tolist(),
                "net_gap_smallest": float(gap_seed[0].mean()),
                "net_gap_widest": float(gap_seed[-1].mean()),
                "net_dist": dist_seed.mean(1).tolist(),
                "net_train_loss_max": float(run.nets.train_loss.max()),
                "net_lr": run.nets.lr.tolist(),
                "slope_net_gap": fits.asymptotic_rate(widths, gap_seed),
                "slope_net_dist": fits.asymptotic_rate(widths, dist_seed),
            }
        )
        return NetGaps(
            widths=widths,
            gap=gap_seed,
            dist=dist_seed,
            gap_rate=Interval.of(numbers["slope_net_gap"]),
            dist_rate=Interval.of(numbers["slope_net_dist"]),
        )
    numbers.update({"slope_net_gap": None, "slope_net_dist": None})
    return None


def _modes(run: Run, numbers: dict[str, Any]) -> Modes:
    """The error mode by mode at one training-set size, theory against measurement."""
    eta, c2 = run.eta, run.c2
    mode_size = int(run.mode_size)
    th = learning_theory.theory(eta, c2, mode_size, 0.0)
    index = np.arange(1, eta.size + 1)
    measured = run.mode_errors  # (draws, N)
    centres, binned = _binned(index, np.stack([th["modes"], measured.mean(0), c2]), N_MODE_BINS)
    cum_th = np.cumsum(th["modes"]) / th["modes"].sum()
    cum_meas = np.cumsum(measured.mean(0)) / measured.mean(0).sum()
    half = int(np.searchsorted(cum_th, 0.5)) + 1
    numbers.update(
        {
            "mode_size": mode_size,
            "mode_theory_total": float(th["modes"].sum()),
            "mode_measured_total": float(measured.sum(1).mean()),
            "mode_half_error_index": half,
            "mode_half_error_index_measured": int(np.searchsorted(cum_meas, 0.5)) + 1,
            "mode_learned_fraction": float(np.sum(th["learnability"] * c2) / c2.sum()),
            "mode_cum_max_dev": float(np.max(np.abs(cum_th - cum_meas))),
        }
    )
    return Modes(
        size=mode_size,
        index=index,
        measured=measured.mean(0),
        cum_theory=cum_th,
        cum_measured=cum_meas,
        learnability=th["learnability"],
        binned=ModeBins(centres=centres, theory=binned[0], measured=binned[1], c2=binned[2]),
    )
