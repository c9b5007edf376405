"""E10: how far each optimizer takes a network from its linearization, across widths.

Lee et al. (2019) find the linearized model g tracks the trained network f for gradient
descent and its variants. Here, at every width, each seed's network and its linearization
train from the same initialization with the same optimizer, learning rate and minibatch
sequence (``train.train``), for the optimizers of ``OPTIMIZERS``: full-batch GD, minibatch
SGD at two batch sizes, and heavy-ball momentum and Adam, both on the full batch.
The distance is the test RMSE between f_T and g_T after the same number of steps.

Learning rates are a fraction ``lr_fraction`` of each optimizer's stable range on the
linearized model at initialization, per seed (``ntkpaper.networks.stability``): 2m/λ_max(Θ) for GD;
the smallest 2bK/λ_max(Θ_BB) over the first batches the run draws for SGD; 2(1 + β)m/λ_max(Θ)
for heavy-ball momentum β; and for Adam, whose normalized step has no such bound, the
range over which its first step, −η·sign(∇L), decreases the linearized loss. The kind
keeps its old name (gd_vs_sgd) so that the workflow's targets stay stable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper.networks import empirical, stability, train
from ntkpaper.networks.finite import init_width
from ntkpaper.networks.models import make_apply
from ntkpaper.pipeline import keys
from ntkpaper.pipeline.records import Interval, Record
from ntkpaper.statistics import rates
from ntkpaper.statistics.fits import asymptotic_rate, bootstrap_ratio
from ntkpaper.studies.gd_vs_sgd.figure_data import OptimizerGap, Optimizers

# name: (batch: "full" | "large" | "small", optimizer); "large"/"small" are the configured
# batch sizes. Momentum and Adam take the full batch, so that each differs from GD in the
# optimizer alone (and momentum's stable range is exact: on minibatches heavy-ball momentum
# at half its full-batch range diverged on the linearized model at every width we tried).
OPTIMIZERS = {
    "gd": ("full", "sgd"),
    "sgd_large": ("large", "sgd"),
    "sgd_small": ("small", "sgd"),
    "momentum": ("full", "momentum"),
    "adam": ("full", "adam"),
}
LABELS = {
    "gd": "GD (full batch)",
    "sgd_large": "SGD, batch {large}",
    "sgd_small": "SGD, batch {small}",
    "momentum": "GD + momentum (full batch)",
    "adam": "Adam (full batch)",
}

# SGD's range is the smallest bound over the first BOUND_BATCHES batches a run draws (every
# batch's eigenvalues cost a decomposition; the runs' divergence flags check the rest).
BOUND_BATCHES = 50


@dataclass(frozen=True)
class Training(Record):
    """One training (the net or its linearization) of a width's seeds."""

    f_test: np.ndarray  # (2, seeds, n_test, K): test outputs at init and at the end
    train_loss: np.ndarray  # (records, seeds)
    param_dist: np.ndarray  # (seeds,) ‖θ_T − θ_0‖
    diverged: np.ndarray  # (seeds,) bool


@dataclass(frozen=True)
class OptimizerRun(Record):
    """One optimizer at one width: the net f, its linearization g, and the rates they used."""

    net: Training
    lin: Training
    lr: np.ndarray  # (seeds,)


@dataclass(frozen=True)
class Run(Record):
    """One width's shard."""

    width: int
    record_steps: np.ndarray  # (records,)
    optimizers: dict[str, OptimizerRun]  # keyed as OPTIMIZERS


def batch_size(spec: Mapping[str, Any], which: str) -> int | None:
    large, small = sorted(spec["batch_sizes"], reverse=True)
    return {"full": None, "large": large, "small": small}[which]


def make_optimizer(kind: str, momentum: float):
    if kind == "sgd":
        return optax.sgd
    if kind == "momentum":
        return lambda lr: optax.sgd(lr, momentum=momentum)
    return optax.adam


def drawn_batches(key, steps: int, *, n: int, batch: int) -> np.ndarray:
    """The example indices of every minibatch ``train.train`` draws in ``steps`` steps."""
    draw = jax.jit(jax.vmap(lambda t: train.batch_indices(key, t, n=n, batch_size=batch)))
    return np.asarray(draw(jnp.arange(steps)))


def learning_rates(spec, mspec, params0, x, y, key) -> dict[str, np.ndarray]:
    """Per optimizer, the per-seed learning rate: lr_fraction of its stable range."""
    n, n_out = y.shape
    kernels = empirical.ensemble_full_ntk(mspec, params0, x)
    apply_fn = make_apply(mspec)
    ranges = {"gd": rates.critical_rate(kernels, y.size)}
    for which in ("large", "small"):
        b = batch_size(spec, which)
        steps = min(spec["steps"], BOUND_BATCHES)
        batches = drawn_batches(keys.fold(key, "batches", b), steps, n=n, batch=b)
        ranges[f"sgd_{which}"] = np.array([stability.sgd_bound(k, batches, n_out) for k in kernels])
    ranges["momentum"] = (1 + spec["momentum"]) * ranges["gd"]  # stability.momentum_bound
    adam = jax.jit(jax.vmap(lambda p: stability.adam_first_step_bound(apply_fn, p, x, y)))
    ranges["adam"] = np.asarray(adam(params0), np.float64)
    return {name: spec["lr_fraction"] * r for name, r in ranges.items()}


def run(spec: Mapping[str, Any], data: Mapping[str, np.ndarray], *, key) -> Run:
    (width,) = spec["widths"]
    n = spec["train_subset"]
    x = jnp.asarray(data["x_train"][:n], jnp.float32)
    y = jnp.asarray(data["y_train"][:n], jnp.float32)
    mspec, params0 = init_width(
        spec["model"],
        width=width,
        out_dim=y.shape[1],
        in_dim=x.shape[1],
        seeds=spec["seeds"],
        key=key,
    )
    apply_fn = make_apply(mspec)
    lrs = learning_rates(spec, mspec, params0, x, y, key)
    record_steps = train.log_spaced_steps(spec["steps"], spec["records"])
    optimizers = {}
    for name, (which, kind) in OPTIMIZERS.items():
        b = batch_size(spec, which)
        optimizer = make_optimizer(kind, spec["momentum"])
        trained = {}  # by linearize
        for linearize in (False, True):
            record, _ = train.train(
                apply_fn,
                params0,
                x,
                y,
                data["x_test"],
                data["y_test"],
                lr=lrs[name],
                steps=spec["steps"],
                record_steps=record_steps,
                batch_size=b,
                linearize=linearize,
                key=keys.fold(key, "batches", b) if b else None,
                make_optimizer=optimizer,
            )
            trained[linearize] = Training(
                f_test=record.f_test[[0, -1]],
                train_loss=record.train_loss,
                param_dist=record.param_dist[-1],
                diverged=record.diverged,
            )
        optimizers[name] = OptimizerRun(net=trained[False], lin=trained[True], lr=lrs[name])
    return Run(width=width, record_steps=record_steps, optimizers=optimizers)


def _rms(a: np.ndarray) -> np.ndarray:
    return np.sqrt(np.mean(np.square(a), axis=(-2, -1)))


def analyze(
    runs: Sequence[Run], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    runs = sorted(runs, key=lambda r: r.width)
    widths = np.array([r.width for r in runs])
    large, small = sorted(spec["batch_sizes"], reverse=True)

    gap, move, dist, loss, lr = {}, {}, {}, {}, {}
    for name in OPTIMIZERS:
        per_width = [r.optimizers[name] for r in runs]
        f = np.stack([o.net.f_test for o in per_width])  # (W, 2, S, n, K)
        g = np.stack([o.lin.f_test for o in per_width])
        gap[name] = _rms(f[:, -1] - g[:, -1])  # (widths, seeds)
        move[name] = _rms(f[:, -1] - f[:, 0])
        dist[name] = np.stack([o.net.param_dist for o in per_width])
        curve = np.stack([o.net.train_loss for o in per_width])  # (widths, records, seeds)
        loss[name] = curve[:, -1] / curve[:, 0]
        lr[name] = np.stack([o.lr for o in per_width])
    widest = len(widths) - 1
    numbers: dict[str, Any] = {
        "widths": widths.tolist(),
        "width_min": int(widths.min()),
        "width_max": int(widths.max()),
        "decades": float(np.log10(widths.max() / widths.min())),
        "batch_large": int(large),
        "batch_small": int(small),
        "bound_batches": BOUND_BATCHES,
        "slope": {name: asymptotic_rate(widths, gap[name]) for name in OPTIMIZERS},
        "gap_widest": {name: float(np.nanmean(gap[name][widest])) for name in OPTIMIZERS},
        "gap_narrowest": {name: float(np.nanmean(gap[name][0])) for name in OPTIMIZERS},
        "to_gd": {
            name: [bootstrap_ratio(gap[name][w], gap["gd"][w]) for w in range(len(widths))]
            for name in OPTIMIZERS
            if name != "gd"
        },
        "param_dist_widest": {name: float(np.nanmean(dist[name][widest])) for name in OPTIMIZERS},
        "train_loss_ratio_max": {name: float(np.nanmax(loss[name])) for name in OPTIMIZERS},
        "diverged_runs": int(
            sum(
                t.diverged.sum()
                for r in runs
                for o in r.optimizers.values()
                for t in (o.net, o.lin)
            )
        ),
        "lr_narrowest": {name: float(np.nanmean(lr[name][0])) for name in OPTIMIZERS},
        "lr_widest": {name: float(np.nanmean(lr[name][widest])) for name in OPTIMIZERS},
    }
    numbers["to_gd_widest"] = {name: r[widest] for name, r in numbers["to_gd"].items()}
    numbers["adam_to_gd_widest"] = numbers["to_gd"]["adam"][widest]
    numbers["adam_to_gd_narrowest"] = numbers["to_gd"]["adam"][0]
    # How far each network's function and parameters moved, relative to GD's (widest width).
    numbers["move_to_gd_widest"] = {
        name: float(np.nanmean(move[name][widest]) / np.nanmean(move["gd"][widest]))
        for name in OPTIMIZERS
    }
    numbers["param_dist_to_gd_widest"] = {
        name: float(np.nanmean(dist[name][widest]) / np.nanmean(dist["gd"][widest]))
        for name in OPTIMIZERS
    }
    labels = {n: LABELS[n].format(large=large, small=small) for n in OPTIMIZERS}
    fig = Optimizers(
        widths=widths,
        optimizers={
            n: OptimizerGap(
                label=labels[n],
                gap=gap[n],
                rate=Interval.of(numbers["slope"][n]),
                param_dist=dist[n],
            )
            for n in OPTIMIZERS
        },
    )
    return numbers, {"optimizers": fig}
