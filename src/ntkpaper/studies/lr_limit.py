"""E9: the learning-rate phases of gradient descent (Lewkowycz et al. 2020).

On the linearized model full-batch GD, f_{t+1} − Y = (I − (η/m)Θ)(f_t − Y), is stable iff
η < η_crit = 2m/λ_max(Θ), with Θ the full (n·K)×(n·K) empirical NTK at initialization (every
output pair: with K = 10 outputs the trace-averaged n×n kernel underestimates λ_max enough to
put η_crit on the wrong side of the boundary). ``stability.full_ntk`` computes it exactly,
per seed. We then train each seed's network, and its linearization, by full-batch GD at
η = r·η_crit for r on a log grid (``ratio_grid``: ``per_octave`` points per factor 2, offset
by half a step so that r = 1, 2, 4, 8 fall between grid points, never on one), and record
the loss at every step, λ_max of the network's NTK at the end, and the test outputs.

Outcome of a run (``outcome``): diverged when its loss blew up (non-finite, or above
``DIVERGENCE_FACTOR`` times its start: the run is frozen from then on) or ended above its
start; converged when it ended below ``CONVERGED_FRACTION`` of its start; otherwise
undecided. A converged run is in the lazy phase when r < 1, in the catapult phase when
r > 1. A seed's boundary is bracketed (``bracket``) by the largest ratio at which it
converged and the smallest larger ratio at which it diverged; ``bracket_interval`` turns the
seeds' brackets into one interval record.

Cost: the seeds of one ratio train together (vmapped) in chunks of ``CHUNK`` steps; a chunk
after which every seed has diverged ends that ratio's run, so the divergent phase costs
little. The linearized model runs only up to ``lin_max_ratio``: above r = 1 it diverges within
a few chunks, and its distance to the network is defined only where it converges.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper import stability, train
from ntkpaper.finite import init_width
from ntkpaper.models import make_apply
from ntkpaper.records import Record

# A run converged when its final loss is below this fraction of its initial loss.
CONVERGED_FRACTION = 0.5
# A run blew up when its loss exceeded this multiple of its initial loss (as train.train).
DIVERGENCE_FACTOR = 1e6
# Steps per compiled chunk; after each chunk a ratio whose seeds all diverged stops.
CHUNK = 25
LEVEL = 0.9  # of the bootstrap intervals

# How the workflow runs this kind (read by ntkpaper.workflow without importing this module).
WORKFLOW = {"priority": 10}


def ratio_grid(lo: float, hi: float, per_octave: int) -> np.ndarray:
    """r_j = 2^((j + 1/2)/per_octave) for every j whose grid covers [lo, hi]: the smallest
    r_j ≤ lo, the largest r_j ≥ hi; r = 1, 2, 4, ... lie halfway (in log) between points."""
    first = int(np.floor(per_octave * np.log2(lo) - 0.5))
    last = int(np.ceil(per_octave * np.log2(hi) - 0.5))
    return 2.0 ** ((np.arange(first, last + 1) + 0.5) / per_octave)


# --------------------------------------------------------------------------- training


@functools.lru_cache(maxsize=8)
def _chunk_fn(apply_fn, linearize: bool, length: int):
    """Jitted: `length` GD steps of every member (vmapped), losses L(θ_t) of each step."""

    def member(params, dead, params0, lr, threshold, x, y):
        if linearize:
            # g(θ) = f(θ_0) + J_0(θ − θ_0): linearize once, then each step is one forward
            # tangent and its transpose (cheaper than differentiating through a jvp).
            f0, tangent = jax.linearize(lambda p: apply_fn(p, x), params0)
            cotangent = jax.linear_transpose(tangent, params0)

            def value_and_grad(p):
                delta = jax.tree.map(jnp.subtract, p, params0)
                residual = f0 + tangent(delta) - y
                (grads,) = cotangent(residual / residual.size)
                return 0.5 * jnp.vdot(residual, residual) / residual.size, grads

        else:
            value_and_grad = jax.value_and_grad(lambda p: train.mse_loss(apply_fn(p, x), y))

        def step(carry, _):
            params, dead = carry
            value, grads = value_and_grad(params)
            dead = dead | ~jnp.isfinite(value) | (value > threshold)
            stepped = jax.tree.map(lambda p, g: p - lr * g, params, grads)
            params = jax.tree.map(lambda new, old: jnp.where(dead, old, new), stepped, params)
            return (params, dead), jnp.where(dead, jnp.nan, value)

        (params, dead), losses = jax.lax.scan(step, (params, dead), None, length=length)
        final = value_and_grad(params)[0]
        dead = dead | ~jnp.isfinite(final) | (final > threshold)
        return params, dead, losses, jnp.where(dead, jnp.nan, final)

    batched = jax.vmap(member, in_axes=(0, 0, 0, 0, 0, None, None))
    return jax.jit(batched, donate_argnums=(0,))


def gd_losses(
    apply_fn, params0, x, y, lrs: np.ndarray, steps: int, *, linearize: bool = False
) -> dict[str, Any]:
    """Full-batch GD of every member of params0 (stacked) at its own rate, chunk by chunk.

    Returns the loss at every step, (steps + 1, members), NaN from a member's blow-up on
    (and for every step after an early stop), the blow-up flags, and the final parameters.
    """
    x, y = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)
    members = len(lrs)
    init_loss = np.asarray(
        jax.vmap(lambda p: train.mse_loss(apply_fn(p, x), y))(params0), np.float64
    )
    threshold = jnp.asarray(DIVERGENCE_FACTOR * init_loss, jnp.float32)
    lrs_device = jnp.asarray(lrs, jnp.float32)
    params = jax.tree.map(jnp.copy, params0)
    dead = jnp.zeros(members, bool)
    losses = np.full((steps + 1, members), np.nan)
    losses[0] = init_loss
    done = 0
    while done < steps:
        length = min(CHUNK, steps - done)
        fn = _chunk_fn(apply_fn, linearize, length)
        params, dead, chunk, final = fn(params, dead, params0, lrs_device, threshold, x, y)
        losses[done : done + length] = np.asarray(chunk, np.float64).T  # L(θ_t), t = done..
        done += length
        losses[done] = np.asarray(final, np.float64)
        if bool(np.all(dead)):
            break
    return {"loss": losses, "blew_up": np.asarray(dead), "params": params}


@dataclass(frozen=True)
class Sweep(Record):
    """The net, or its linearization, trained at every rate of the grid."""

    loss: np.ndarray  # (ratios, steps + 1, seeds), NaN once blown up or where not run
    f_test: np.ndarray  # (ratios, seeds, n_test, K) at the end, NaN where blown up
    ran: np.ndarray  # (ratios,) bool: trained at this rate (the linearization stops early)


@dataclass(frozen=True)
class Run(Record):
    """The whole instance (not sharded)."""

    ratios: np.ndarray  # (ratios,) η/η_crit
    eta_crit: np.ndarray  # (seeds,) 2m/λ_max(Θ̂_0) of each net
    lam_init: np.ndarray  # (seeds,) λ_max(Θ̂_0)
    m: int  # y.size
    y_test: np.ndarray  # (n_test, K)
    net: Sweep
    lin: Sweep
    lam_final: np.ndarray  # (ratios, seeds) λ_max(Θ̂_T) of the net, NaN where blown up


def run(spec: Mapping[str, Any], data: Mapping[str, np.ndarray], *, key) -> Run:
    n = spec["train_subset"]
    x, y = data["x_train"][:n], data["y_train"][:n]
    x_test, y_test = data["x_test"], data["y_test"]
    mspec, params0 = init_width(
        spec["model"],
        width=spec["width"],
        out_dim=y.shape[1],
        in_dim=x.shape[1],
        seeds=spec["seeds"],
        key=key,
    )
    apply_fn = make_apply(mspec)
    x32 = jnp.asarray(x, jnp.float32)
    lam0 = stability.lambda_max(stability.ensemble_full_ntk(mspec, params0, x32))
    eta_crit = 2.0 * y.size / lam0
    grid = spec["lr_grid"]
    ratios = ratio_grid(grid["lo"], grid["hi"], grid["per_octave"])
    steps, seeds = spec["steps"], spec["seeds"]

    def test_outputs(params, linearize):
        def one(p, p0):
            model = train.linearized_apply_fn(apply_fn, p0) if linearize else apply_fn
            return model(p, jnp.asarray(x_test, jnp.float32))

        return np.asarray(jax.vmap(one)(params, params0), np.float64)

    sweeps = {prefix: {"loss": [], "f_test": [], "ran": []} for prefix in ("net", "lin")}
    lam_final = []
    nan_outputs = np.full((seeds, *y_test.shape), np.nan)
    for ratio in ratios:
        for prefix, linearize in (("net", False), ("lin", True)):
            if linearize and ratio > spec["lin_max_ratio"]:
                result = {"loss": np.full((steps + 1, seeds), np.nan), "blew_up": None}
                f_test = nan_outputs
            else:
                result = gd_losses(
                    apply_fn, params0, x, y, ratio * eta_crit, steps, linearize=linearize
                )
                f_test = test_outputs(result["params"], linearize)
                f_test[result["blew_up"]] = np.nan
            sweeps[prefix]["loss"].append(result["loss"])
            sweeps[prefix]["f_test"].append(f_test)
            sweeps[prefix]["ran"].append(result["blew_up"] is not None)
            if not linearize:
                lam = stability.lambda_max(
                    stability.ensemble_full_ntk(mspec, result["params"], x32)
                )
                lam_final.append(np.where(result["blew_up"], np.nan, lam))
    net, lin = (Sweep(**{k: np.stack(v) for k, v in sweeps[p].items()}) for p in ("net", "lin"))
    return Run(ratios=ratios, eta_crit=eta_crit, lam_init=lam0, m=y.size,
               y_test=np.asarray(y_test, np.float64), net=net, lin=lin,
               lam_final=np.stack(lam_final))  # fmt: skip


# --------------------------------------------------------------------------- analysis


def outcome(loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(converged, diverged) per run from loss curves (..., steps + 1, seeds): the first
    entry is the initial loss; NaN marks a blow-up."""
    init, final = loss[..., 0, :], loss[..., -1, :]
    diverged = ~np.isfinite(final) | (final > init)
    converged = ~diverged & (final < CONVERGED_FRACTION * init)
    return converged, diverged


def bracket(ratios: np.ndarray, converged: np.ndarray, diverged: np.ndarray):
    """Per seed (columns of the (ratios, seeds) masks): (largest converged ratio, smallest
    larger ratio that diverged); NaN where a seed never converged, or never diverged above."""
    seeds = converged.shape[1]
    lower, upper = np.full(seeds, np.nan), np.full(seeds, np.nan)
    for s in range(seeds):
        conv = np.flatnonzero(converged[:, s])
        if conv.size == 0:
            continue
        lower[s] = ratios[conv[-1]]
        above = np.flatnonzero(diverged[:, s] & (ratios > lower[s]))
        if above.size:
            upper[s] = ratios[above[0]]
    return lower, upper


def bracket_interval(
    lower: np.ndarray, upper: np.ndarray, *, n_boot: int = 1000, seed: int = 0
) -> dict[str, Any]:
    """One interval record from per-seed brackets [lower_s, upper_s] of a boundary: value =
    geometric mean of the brackets' geometric midpoints; lo (hi) = the lower (upper) quantile
    of the bootstrap mean of the lower (upper) ends. Grid resolution and seed spread both
    widen it; a seed with no bracket makes it NaN (the grid missed the boundary)."""
    lower, upper = np.asarray(lower, np.float64), np.asarray(upper, np.float64)
    seeds = len(lower)
    record = {"value": float("nan"), "lo": float("nan"), "hi": float("nan"), "level": LEVEL}
    record["n_seeds"] = seeds
    if not (np.all(np.isfinite(lower)) and np.all(np.isfinite(upper))):
        return record
    picks = np.random.default_rng(seed).integers(0, seeds, size=(n_boot, seeds))
    alpha = (1 - LEVEL) / 2
    record["value"] = float(np.exp(np.mean(0.5 * np.log(lower * upper))))
    record["lo"] = float(np.quantile(lower[picks].mean(1), alpha))
    record["hi"] = float(np.quantile(upper[picks].mean(1), 1 - alpha))
    return record


def seed_interval(per_seed: np.ndarray, *, n_boot: int = 1000, seed: int = 0) -> dict:
    """Mean over seeds of a per-seed number with a percentile bootstrap interval."""
    per_seed = np.asarray(per_seed, np.float64)
    per_seed = per_seed[np.isfinite(per_seed)]
    if per_seed.size == 0:
        return {"mean": None, "lo": float("nan"), "hi": float("nan"), "n_seeds": 0}
    picks = np.random.default_rng(seed).integers(0, per_seed.size, (n_boot, per_seed.size))
    alpha = (1 - LEVEL) / 2
    lo, hi = np.quantile(per_seed[picks].mean(1), [alpha, 1 - alpha])
    return {
        "mean": float(per_seed.mean()),
        "lo": float(lo),
        "hi": float(hi),
        "level": LEVEL,
        "n_seeds": int(per_seed.size),
    }


PHASES = ("lazy", "catapult", "diverged", "undecided")


def phases(ratios: np.ndarray, converged: np.ndarray, diverged: np.ndarray) -> np.ndarray:
    """Phase index (into PHASES) of each run, (ratios, seeds)."""
    phase = np.full(converged.shape, 3)
    phase[diverged] = 2
    phase[converged & (ratios[:, None] < 1)] = 0
    phase[converged & (ratios[:, None] > 1)] = 1
    return phase


def _rms(a: np.ndarray, axis) -> np.ndarray:
    return np.sqrt(np.mean(np.square(a), axis=axis))


def analyze(
    runs: Sequence[Run], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    (run,) = runs  # one run file: this kind is not sharded
    ratios, lam0 = run.ratios, run.lam_init
    net_conv, net_div = outcome(run.net.loss)
    lin_conv, lin_div = outcome(run.lin.loss)
    lin_ran = run.lin.ran.astype(bool)
    phase = phases(ratios, net_conv, net_div)
    lam_ratio = run.lam_final / lam0  # λ_max(T)/λ_max(0), (ratios, seeds)
    # ηλ_max(T)/(2m) = r·λ_max(T)/λ_max(0): below 1 the final kernel is stable at rate η.
    sharpness = ratios[:, None] * lam_ratio
    init = run.net.loss[:, 0]
    peak = np.nanmax(np.where(np.isfinite(run.net.loss), run.net.loss, np.nan), axis=1)
    rise = peak / init  # largest loss over initial loss, (ratios, seeds)
    gap = _rms(run.net.f_test - run.lin.f_test, axis=(-2, -1))  # (ratios, seeds)
    lazy, catapult = phase == 0, phase == 1

    def per_seed_max(values, mask):
        return np.array(
            [np.max(v[m]) if m.any() else np.nan for v, m in zip(values.T, mask.T, strict=True)]
        )

    net_lower, net_upper = bracket(ratios, net_conv, net_div)
    lin_lower, lin_upper = bracket(ratios[lin_ran], lin_conv[lin_ran], lin_div[lin_ran])
    eta_max = bracket_interval(net_lower, net_upper)
    below = ratios < 1
    numbers: dict[str, Any] = {
        "ratios": ratios.tolist(),
        "ratio_min": float(ratios.min()),
        "ratio_max": float(ratios.max()),
        "n_ratios": len(ratios),
        "per_octave": spec["lr_grid"]["per_octave"],
        "depth": spec["model"]["depth"],
        "hidden_layers": spec["model"]["depth"] - 1,
        "m": run.m,
        "eta_crit_mean": float(run.eta_crit.mean()),
        "eta_crit_spread": float(run.eta_crit.std() / run.eta_crit.mean()),
        "lin_boundary": bracket_interval(lin_lower, lin_upper),
        "eta_max": eta_max,
        "net_converged_below_crit": float(net_conv[below].mean()) if below.any() else None,
        "lazy_kernel_change": seed_interval(per_seed_max(np.abs(lam_ratio - 1), lazy)),
        "catapult_runs": int(catapult.sum()),
        "catapult_rise_fraction": float(np.mean(rise[catapult] > 1)) if catapult.any() else None,
        "catapult_rise_median": float(np.median(rise[catapult])) if catapult.any() else None,
        "catapult_no_rise_ratio_max": float(ratios[np.any(catapult & (rise <= 1), axis=1)].max())
        if (catapult & (rise <= 1)).any()
        else None,
        "catapult_final_sharpness": seed_interval(per_seed_max(sharpness, catapult)),
        "catapult_lambda_drop_min": float(np.nanmin(lam_ratio[catapult]))
        if catapult.any()
        else None,
        "lazy_gap_max": float(np.nanmax(gap[lazy & lin_conv])) if (lazy & lin_conv).any() else None,
        "undecided_runs": int((phase == 3).sum()),
        "net_converged_fraction": net_conv.mean(axis=1).tolist(),
        "net_diverged_fraction": net_div.mean(axis=1).tolist(),
    }
    # The two published expectations for eta_max differ by architecture: the two-layer theory
    # for one hidden layer, "larger" for deeper ReLU nets (claims E9-max-*).
    numbers["eta_max_one_hidden" if spec["model"]["depth"] == 2 else "eta_max_deep"] = eta_max
    boundaries = np.array(
        [[lin_lower, lin_upper], [net_lower, net_upper]], np.float64
    )  # (lin/net, lower/upper, seeds)
    median_curve = np.nanmedian(run.net.loss / init[:, None, :], axis=2)
    # The phase of most seeds at each ratio.
    majority = np.array([np.bincount(p, minlength=len(PHASES)).argmax() for p in phase])
    figs = {
        "lr_phases": {
            "ratios": ratios,
            "net_final_loss": run.net.loss[:, -1] / init,
            "lin_final_loss": run.lin.loss[:, -1] / run.lin.loss[:, 0],
            "lam_ratio": lam_ratio,
            "rise": rise,
            "phase": phase,
            "boundaries": boundaries,
            "eta_max": np.array([eta_max["value"], eta_max["lo"], eta_max["hi"]]),
            "lin_boundary": np.array(
                [numbers["lin_boundary"][k] for k in ("value", "lo", "hi")], np.float64
            ),
        },
        "lr_trajectories": {
            "ratios": ratios,
            "loss": median_curve,  # (ratios, steps + 1), median over seeds of L_t / L_0
            "majority_phase": majority,
            "phase_names": np.array(PHASES),
        },
    }
    return numbers, figs
