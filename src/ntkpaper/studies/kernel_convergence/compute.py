"""E3: the empirical NTK concentrates on its limit and freezes as width grows (Jacot Fig. 1).

The kernel is probed on the unit circle, x_0 = (1, 0) and x(γ) = (cos γ, sin γ). For each
width, an ensemble of networks is initialized, its exact layerwise empirical NTK
Θ(x_0, x(γ)) is measured, the networks are trained by full-batch GD on the target x_1·x_2
(``full_batch_gd``: low-rank deferred updates) and the kernel is measured again after
T = ``steps`` steps (Jacot et al.'s 200 steps; the claims are about that time). The training
inputs (``inputs``) are, as Jacot et al. state, ``n_train`` random N(0, 1) points of R²
(``gaussian``), or random points of the circle (``circle``). Metrics, per net, over the
``n_angles`` angles γ:

    deviation = ‖Θ_0 − Θ_∞‖ / ‖Θ_∞‖     (at init, against the analytic limit Θ_∞)
    drift     = ‖Θ_T − Θ_0‖ / ‖Θ_0‖     (movement during training)
    inflation = mean_γ(Θ_T − Θ_0) / mean_γ Θ_0   (signed: > 0 when the kernel grows)
    level     = mean_γ Θ_0 / mean_γ Θ_∞ − 1       (signed: the kernel's size at init)

Expected: deviation ∝ n^{-1/2} (the empirical NTK is an average over n units; Hanin & Nica
2020 give a relative standard deviation ∝ sqrt(depth/width)); drift at most ∝ n^{-1/2} (Lee
et al. 2019, Thm 2.1, a bound); Jacot et al. §6.1 see the kernel inflate during training,
much less for the wider network, and the expectation of the NTK "very close for both
networks widths": expectation_gap, the difference of the mean level over initializations
between the narrowest and the widest width. (A signed mean, not the norm of the difference
of the mean curves: the norm's estimate carries the sampling noise of both means, and a
bootstrap interval of a norm near zero does not keep its coverage.) Rates by the rule of
``ntkpaper.statistics.fits``.

Wide nets (Jacot's width 10 000: 2·10^8 parameters, 0.8 GB per net in float32) are
initialized and trained a ``seed_chunks`` range at a time, with the same per-seed keys as the
whole ensemble, so memory stays at a few nets whatever the seed count. ``train_seeds`` (one
count per width) trains only the first initializations of a width, where training is the
cost (width 10 000: about two CPU-minutes per net); the others are measured at t = 0 only
and their t = T entries are NaN, which every statistic of the analysis skips.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper.data import datasets
from ntkpaper.kernels import gram
from ntkpaper.networks import train
from ntkpaper.networks.empirical import ensemble_layerwise_ntk
from ntkpaper.networks.full_batch_gd import DEFAULT_FLUSH_EVERY, full_batch_gd
from ntkpaper.networks.models import ensemble_apply, init_ensemble, init_params, model_spec
from ntkpaper.pipeline import keys
from ntkpaper.pipeline.records import Interval, Record
from ntkpaper.statistics import fits, rates
from ntkpaper.studies.kernel_convergence.figure_data import KernelConvergence
from ntkpaper.studies.kernel_convergence.kind import CHUNK_PARAMS

X0 = np.array([[1.0, 0.0]])


# Seeds per chunk by width: one net of width 10 000 holds 0.8 GB in float32, and training
# keeps the initial and final parameters of the chunk.


def seed_chunks(n_seeds: int, width: int, in_dim: int = 2) -> list[range]:
    """Consecutive seed ranges whose nets together hold at most CHUNK_PARAMS parameters."""
    per_net = in_dim * width + 2 * width * width + width
    size = max(1, min(n_seeds, int(CHUNK_PARAMS // per_net)))
    return [range(i, min(i + size, n_seeds)) for i in range(0, n_seeds, size)]


@dataclass(frozen=True)
class Run(Record):
    """The whole instance (not sharded): per width, each seed's layerwise NTK Θ(x_0, x(γ))
    before and after training."""

    lr: float
    eta_crit: float
    gammas: np.ndarray  # (n_angles,)
    widths: np.ndarray  # (widths,) int
    analytic: np.ndarray  # (n_angles,) the limiting Θ(x_0, x(γ))
    flush_every: int
    x_train: np.ndarray  # (n_train, 2) the training inputs (target x_1·x_2)
    before: np.ndarray  # (widths, seeds, depth, n_angles), per layer
    after: np.ndarray  # (widths, seeds, depth, n_angles), NaN for seeds not trained
    final_loss: np.ndarray  # (widths, seeds), NaN for seeds not trained


def run(spec: Mapping[str, Any], data=None, *, key) -> Run:
    gammas = datasets.uniform_angles(spec["n_angles"])
    probe = datasets.circle(gammas)
    x_train = training_inputs(spec, key=keys.fold(key, "x"))
    y_train = datasets.circle_target(x_train)
    limit_spec = model_spec(spec["model"], width=1, out_dim=1)
    analytic = gram.analytic_kernels(limit_spec, X0, probe)
    train_ntk = gram.analytic_kernels(limit_spec, x_train, x_train[:1])["ntk_train_train"]
    rate = rates.resolve(spec["lr"], train_ntk, m=len(x_train))
    per_width: dict[str, list[np.ndarray]] = {"before": [], "after": [], "final_loss": []}
    x0, xp = jnp.asarray(X0, jnp.float32), jnp.asarray(probe, jnp.float32)
    for width, n_trained in zip(spec["widths"], trained_seeds(spec), strict=True):
        mspec = model_spec(spec["model"], width=width, out_dim=1)
        before, after, loss = [], [], []
        for chunk in seed_chunks(spec["seeds"], width):
            if len(chunk) == spec["seeds"]:
                params0 = init_ensemble(
                    mspec, key=keys.fold(key, "init", width), in_dim=2, n_seeds=spec["seeds"]
                )
            else:
                params0 = _init_chunk(mspec, key=key, width=width, seeds=chunk)
            before.append(np.asarray(ensemble_layerwise_ntk(mspec, params0, x0, xp))[:, :, 0, :])
            k = len([s for s in chunk if s < n_trained])  # the chunk's seeds to train
            nan = np.full((len(chunk) - k, *before[-1].shape[1:]), np.nan)
            if k:
                params0 = jax.tree.map(lambda leaf, k=k: leaf[:k], params0)
                params = full_batch_gd(
                    mspec, params0, x_train, y_train, lr=rate["lr"], steps=spec["steps"]
                )
                del params0
                k1 = np.asarray(ensemble_layerwise_ntk(mspec, params, x0, xp))[:, :, 0, :]
                f = ensemble_apply(mspec, params, x_train)
                loss.append(np.concatenate([train.ensemble_mse_loss(f, y_train), nan[:, 0, 0]]))
                after.append(np.concatenate([k1, nan]))
                del params
            else:
                del params0
                after.append(nan)
                loss.append(nan[:, 0, 0])
        for name, chunks in (("before", before), ("after", after), ("final_loss", loss)):
            per_width[name].append(np.concatenate(chunks))
    return Run(
        lr=rate["lr"],
        eta_crit=rate["eta_crit"],
        gammas=gammas,
        widths=np.array(spec["widths"]),
        analytic=analytic["ntk_test_train"][:, 0],
        flush_every=DEFAULT_FLUSH_EVERY,
        x_train=x_train,
        **{name: np.stack(arrays) for name, arrays in per_width.items()},
    )


def trained_seeds(spec: Mapping[str, Any]) -> list[int]:
    """How many initializations are trained at each width: the first ``train_seeds[i]`` of the
    ``seeds`` at width i (empty, the default: all); the others are measured at t = 0 only."""
    return list(spec["train_seeds"] or [spec["seeds"]] * len(spec["widths"]))


def partly_trained_text(widths: Sequence[int], trained: Sequence[int], seeds: int) -> str:
    """Where not every initialization is trained, in words: "at widths 2000 and 10000 the
    first 5 and 3 of them" (empty when all are)."""
    part = [(int(w), int(k)) for w, k in zip(widths, trained, strict=True) if k < seeds]
    if not part:
        return ""

    def words(items: list[int]) -> str:
        head = ", ".join(map(str, items[:-1]))
        return f"{head} and {items[-1]}" if head else str(items[-1])

    widths_text, counts_text = words([w for w, _ in part]), words([k for _, k in part])
    plural = "s" if len(part) > 1 else ""
    return f"at width{plural} {widths_text} the first {counts_text} of them"


def training_inputs(spec: Mapping[str, Any], *, key) -> np.ndarray:
    """``n_train`` training inputs in R²: N(0, 1) entries (``gaussian``, Jacot et al. §6.1's
    "random N(0,1) inputs") or uniform random points of the unit circle (``circle``)."""
    n = spec["n_train"]
    if spec["inputs"] == "gaussian":
        return np.asarray(jax.random.normal(key, (n, 2), jnp.float64), np.float64)
    return datasets.circle(datasets.random_angles(n, key=key))


def _init_chunk(mspec, *, key, width: int, seeds: range) -> Any:
    """Seeds ``seeds`` of the ensemble, one net at a time (never the whole ensemble)."""
    base = keys.fold(key, "init", width)
    nets = [init_params(mspec, key=jax.random.fold_in(base, s), in_dim=2) for s in seeds]
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *nets)


def analyze(
    runs: Sequence[Run], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, KernelConvergence]]:
    (run,) = runs  # one run file: this kind is not sharded
    widths, limit = run.widths, run.analytic
    deviation, drift, inflation, layer_drift = [], [], [], []
    for before, after in zip(run.before, run.after, strict=True):
        k0, k1 = before.sum(1), after.sum(1)  # (seeds, n_angles)
        deviation.append(np.linalg.norm(k0 - limit, axis=-1) / np.linalg.norm(limit))
        drift.append(np.linalg.norm(k1 - k0, axis=-1) / np.linalg.norm(k0, axis=-1))
        inflation.append((k1 - k0).mean(-1) / k0.mean(-1))
        layer_drift.append(
            np.nanmean(
                np.linalg.norm(after - before, axis=-1) / np.linalg.norm(k0, axis=-1)[:, None],
                axis=0,
            )
        )
    deviation, drift, inflation, layer_drift = map(
        np.stack, (deviation, drift, inflation, layer_drift)
    )
    # per width and net: mean_γ Θ_0 / mean_γ Θ_∞ − 1, the kernel's level at init against the limit
    level = np.stack([k.sum(1).mean(-1) / limit.mean() - 1 for k in run.before])
    numbers = {
        **rates.numbers(run.lr, run.eta_crit),
        "inputs": spec["inputs"],
        "widths": widths.tolist(),
        "widths_text": ", ".join(str(int(w)) for w in widths),
        "width_min": int(widths.min()),
        "width_max": int(widths.max()),
        "flush_every": run.flush_every,
        "slope_deviation": fits.asymptotic_rate(widths, deviation),
        "slope_drift": fits.asymptotic_rate(widths, drift),
        "local_slopes_deviation": fits.sequence_of(fits.local_slopes(widths, deviation), "slope"),
        "local_slopes_drift": fits.sequence_of(fits.local_slopes(widths, drift), "slope"),
        "deviation": [fits.bootstrap_mean(v) for v in deviation],
        "drift": [fits.bootstrap_mean(v) for v in drift],
        "inflation": [fits.bootstrap_mean(v) for v in inflation],
        # Jacot §6.1: inflation "much less apparent for the wider network" (paired by nothing:
        # the two widths are independent initializations, resampled separately)
        "inflation_narrow_minus_wide": fits.difference_of_means(inflation[0], inflation[-1]),
        # Jacot §6.1: "the expectation of the NTK is very close for both networks widths"
        # (independent initializations at the two widths, each resampled on its own)
        "level": [fits.bootstrap_mean(v) for v in level],
        "expectation_gap": fits.difference_of_means(level[0], level[-1]),
        "layer_drift_widest": layer_drift[-1].tolist(),
        "final_train_loss": [float(np.nanmean(loss)) for loss in run.final_loss],
        "final_train_loss_max": float(max(np.nanmax(loss) for loss in run.final_loss)),
        "seeds": int(deviation.shape[1]),
        "train_seeds": trained_seeds(spec),
        "train_seeds_widest": trained_seeds(spec)[-1],
        "train_seeds_text": partly_trained_text(widths, trained_seeds(spec), spec["seeds"]),
    }
    for name in ("deviation", "drift", "inflation", "level"):
        numbers[f"{name}_narrowest"] = numbers[name][0]
        numbers[f"{name}_widest"] = numbers[name][-1]
    curves = KernelConvergence(
        gammas=run.gammas,
        widths=widths,
        steps=int(spec["steps"]),
        analytic=limit,
        before=np.stack([k.sum(1) for k in run.before]),  # summed over the layers
        after=np.stack([k.sum(1) for k in run.after]),
        deviation=deviation,
        drift=drift,
        rate_deviation=Interval.of(numbers["slope_deviation"]),
        rate_drift=Interval.of(numbers["slope_drift"]),
    )
    return numbers, {"kernel_convergence": curves}
