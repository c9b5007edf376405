"""E3: the empirical NTK concentrates on its limit and freezes as width grows (Jacot Fig. 1).

Inputs on the unit circle, x_0 = (1, 0) and x(γ) = (cos γ, sin γ). For each width, an
ensemble of networks is initialized, its exact layerwise empirical NTK Θ(x_0, x(γ)) is
measured, the networks are trained by full-batch GD on the target x_1·x_2 at a few random
points of the circle (``full_batch_gd``: low-rank deferred updates), and the kernel is
measured again after T = ``steps`` steps (Jacot et al.'s 200 steps; the claims are about
that time). Metrics, per net, over the ``n_angles`` angles γ:

    deviation = ‖Θ_0 − Θ_∞‖ / ‖Θ_∞‖     (at init, against the analytic limit Θ_∞)
    drift     = ‖Θ_T − Θ_0‖ / ‖Θ_0‖     (movement during training)
    inflation = mean_γ(Θ_T − Θ_0) / mean_γ Θ_0   (signed: > 0 when the kernel grows)

Expected: deviation ∝ n^{-1/2} (the empirical NTK is an average over n units; Hanin & Nica
2019 give a relative standard deviation ∝ sqrt(depth/width)); drift at most ∝ n^{-1/2} (Lee
et al. 2019, Thm 2.1, a bound); Jacot et al. §6.1 see the kernel inflate during training,
much less for the wider network. Rates by the rule of ``ntkpaper.fits``.

Wide nets (Jacot's width 10 000 in experiments/jacot.yaml: 2·10^8 parameters, 0.8 GB per
net in float32) are initialized and trained ``seed_chunk`` seeds at a time, with the same
per-seed keys as the whole ensemble, so memory stays at a few nets whatever the seed count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper import data as datasets
from ntkpaper import fits, infinite, keys, rates, train
from ntkpaper.empirical import ensemble_layerwise_ntk
from ntkpaper.full_batch_gd import DEFAULT_FLUSH_EVERY, full_batch_gd
from ntkpaper.models import ensemble_apply, init_ensemble, init_params, model_spec
from ntkpaper.records import Record

X0 = np.array([[1.0, 0.0]])

# How the workflow runs this kind (read by ntkpaper.workflow without importing this module).
WORKFLOW = {"priority": 50}


# Seeds per chunk by width: one net of width 10 000 holds 0.8 GB in float32, and training
# keeps the initial and final parameters of the chunk.
CHUNK_PARAMS = 2e8  # parameters per chunk (≈ 0.8 GB float32)


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
    before: np.ndarray  # (widths, seeds, depth, n_angles), per layer
    after: np.ndarray  # (widths, seeds, depth, n_angles)
    final_loss: np.ndarray  # (widths, seeds)


def run(spec: Mapping[str, Any], data=None, *, key) -> Run:
    gammas = datasets.uniform_angles(spec["n_angles"])
    probe = datasets.circle(gammas)
    x_train = datasets.circle(datasets.random_angles(spec["n_train"], key=keys.fold(key, "x")))
    y_train = datasets.circle_target(x_train)
    limit_spec = model_spec(spec["model"], width=1, out_dim=1)
    analytic = infinite.analytic_kernels(limit_spec, X0, probe)
    train_ntk = infinite.analytic_kernels(limit_spec, x_train, x_train[:1])["ntk_train_train"]
    rate = rates.resolve(spec["lr"], train_ntk, m=len(x_train))
    per_width: dict[str, list[np.ndarray]] = {"before": [], "after": [], "final_loss": []}
    x0, xp = jnp.asarray(X0, jnp.float32), jnp.asarray(probe, jnp.float32)
    for width in spec["widths"]:
        mspec = model_spec(spec["model"], width=width, out_dim=1)
        before, after, loss = [], [], []
        for chunk in seed_chunks(spec["seeds"], width):
            if len(chunk) == spec["seeds"]:
                params0 = init_ensemble(mspec, key=keys.fold(key, "init", width), in_dim=2,
                                        n_seeds=spec["seeds"])  # fmt: skip
            else:
                params0 = _init_chunk(mspec, key=key, width=width, seeds=chunk)
            before.append(np.asarray(ensemble_layerwise_ntk(mspec, params0, x0, xp))[:, :, 0, :])
            params = full_batch_gd(mspec, params0, x_train, y_train, lr=rate["lr"],
                                   steps=spec["steps"])  # fmt: skip
            del params0
            after.append(np.asarray(ensemble_layerwise_ntk(mspec, params, x0, xp))[:, :, 0, :])
            loss.append(train.ensemble_mse_loss(ensemble_apply(mspec, params, x_train), y_train))
            del params
        for name, chunks in (("before", before), ("after", after), ("final_loss", loss)):
            per_width[name].append(np.concatenate(chunks))
    return Run(lr=rate["lr"], eta_crit=rate["eta_crit"], gammas=gammas,
               widths=np.array(spec["widths"]), analytic=analytic["ntk_test_train"][:, 0],
               flush_every=DEFAULT_FLUSH_EVERY,
               **{name: np.stack(arrays) for name, arrays in per_width.items()})  # fmt: skip


def _init_chunk(mspec, *, key, width: int, seeds: range) -> Any:
    """Seeds ``seeds`` of the ensemble, one net at a time (never the whole ensemble)."""
    base = keys.fold(key, "init", width)
    nets = [init_params(mspec, key=jax.random.fold_in(base, s), in_dim=2) for s in seeds]
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *nets)


def analyze(
    runs: Sequence[Run], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    (run,) = runs  # one run file: this kind is not sharded
    widths, limit = run.widths, run.analytic
    deviation, drift, inflation, layer_drift = [], [], [], []
    for before, after in zip(run.before, run.after, strict=True):
        k0, k1 = before.sum(1), after.sum(1)  # (seeds, n_angles)
        deviation.append(np.linalg.norm(k0 - limit, axis=-1) / np.linalg.norm(limit))
        drift.append(np.linalg.norm(k1 - k0, axis=-1) / np.linalg.norm(k0, axis=-1))
        inflation.append((k1 - k0).mean(-1) / k0.mean(-1))
        layer_drift.append(
            np.mean(
                np.linalg.norm(after - before, axis=-1) / np.linalg.norm(k0, axis=-1)[:, None],
                axis=0,
            )
        )
    deviation, drift, inflation, layer_drift = map(
        np.stack, (deviation, drift, inflation, layer_drift)
    )
    numbers = {
        **rates.numbers(run.lr, run.eta_crit),
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
        "layer_drift_widest": layer_drift[-1].tolist(),
        "final_train_loss": [float(np.nanmean(loss)) for loss in run.final_loss],
        "final_train_loss_max": float(max(np.nanmax(loss) for loss in run.final_loss)),
        "seeds": int(deviation.shape[1]),
    }
    for name in ("deviation", "drift", "inflation"):
        numbers[f"{name}_narrowest"] = numbers[name][0]
        numbers[f"{name}_widest"] = numbers[name][-1]
    curves = {
        "gammas": run.gammas,
        "widths": widths,
        "analytic": limit,
        "deviation": deviation,
        "drift": drift,
        "rate_deviation": fits.as_array(numbers["slope_deviation"]),
        "rate_drift": fits.as_array(numbers["slope_drift"]),
        "layer_drift": layer_drift,
        **{f"before_{w}": k.sum(1) for w, k in zip(widths, run.before, strict=True)},
        **{f"after_{w}": k.sum(1) for w, k in zip(widths, run.after, strict=True)},
    }
    return numbers, {"kernel_convergence": curves}
