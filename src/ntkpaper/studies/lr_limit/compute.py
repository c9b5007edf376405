"""E9: the learning-rate phases of gradient descent (Lewkowycz et al. 2020).

On the linearized model full-batch GD, f_{t+1} − Y = (I − (η/m)Θ)(f_t − Y), is stable iff
η < η_crit = 2m/λ_max(Θ), with Θ the full (n·K)×(n·K) empirical NTK at initialization (every
output pair: with K = 10 outputs the trace-averaged n×n kernel underestimates λ_max enough to
put η_crit on the wrong side of the boundary). ``empirical.full_ntk`` computes it exactly,
per seed. We then train each seed's network, and its linearization, by full-batch GD at
η = r·η_crit for r on a log grid (``ratio_grid``: ``per_octave`` points per factor 2, offset
by half a step so that r = 1, 2, 4, 8 fall between grid points, never on one), and record
the loss at every step, the residual's component along the top eigenvector of Θ_0 at every
step (the top mode), λ_max of the network's NTK at the end, and the test outputs.

The top mode. Let v be the unit top eigenvector of Θ_0 and c_t = ⟨v, f_t − Y⟩. On the
linearized model c_{t+1} = (1 − ηλ_max/m)c_t = (1 − 2r)c_t exactly: above η_crit it grows by
|1 − 2r| > 1 per step, below it shrinks. This is what the catapult mechanism starts from; the
loss itself rises only once the top mode's share, c_t²/(2m), outweighs what the other modes
shed, which just above η_crit takes long or never happens. ``top_growth`` is the top mode's
largest size after the start, max_{t≥1}|c_t|/|c_0|: above 1 when the mode grew.

Outcome of a run (``outcome``): diverged when its loss blew up (non-finite, or above
``DIVERGENCE_FACTOR`` times its start: the run is frozen from then on) or ended above its
start; converged when it ended below ``CONVERGED_FRACTION`` of its start; otherwise
undecided. A converged run is in the lazy phase when r < 1, in the catapult phase when
r > 1. A seed's boundary is bracketed (``bracket``) by the largest ratio at which it
converged and the smallest larger ratio at which it diverged; ``bracket_interval`` turns the
seeds' brackets into one interval record.

Laziness over widths: at each of ``lazy_widths`` (besides ``width``) the networks are trained
at the grid's ratios below 1 only, and the relative change of λ_max, largest over a seed's
lazy runs, is fitted against width by the rate rule (``fits.asymptotic_rate``).

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
from ntkpaper.networks import empirical, stability, train
from ntkpaper.networks.finite import init_width
from ntkpaper.networks.models import make_apply
from ntkpaper.pipeline.records import Interval, Record
from ntkpaper.statistics import fits
from ntkpaper.studies.lr_limit.figure_data import Boundaries, LrPhases, LrTopMode, LrTrajectories

# A run converged when its final loss is below this fraction of its initial loss.
CONVERGED_FRACTION = 0.5
# A run blew up when its loss exceeded this multiple of its initial loss (as train.train).
DIVERGENCE_FACTOR = 1e6
# Steps per compiled chunk; after each chunk a ratio whose seeds all diverged stops.
CHUNK = 25
LEVEL = fits.LEVEL  # of the bracket intervals


def ratio_grid(lo: float, hi: float, per_octave: int) -> np.ndarray:
    """r_j = 2^((j + 1/2)/per_octave) for every j whose grid covers [lo, hi]: the smallest
    r_j ≤ lo, the largest r_j ≥ hi; r = 1, 2, 4, ... lie halfway (in log) between points."""
    first = int(np.floor(per_octave * np.log2(lo) - 0.5))
    last = int(np.ceil(per_octave * np.log2(hi) - 0.5))
    return 2.0 ** ((np.arange(first, last + 1) + 0.5) / per_octave)


# --------------------------------------------------------------------------- training


@functools.lru_cache(maxsize=8)
def _chunk_fn(apply_fn, linearize: bool, length: int):
    """Jitted: `length` GD steps of every member (vmapped); per step the loss L(θ_t) and the
    residual's component ⟨v, f(θ_t) − Y⟩ along the member's direction v (example-major)."""

    def member(params, dead, params0, lr, threshold, direction, x, y):
        if linearize:
            # g(θ) = f(θ_0) + J_0(θ − θ_0): linearize once, then each step is one forward
            # tangent and its transpose (cheaper than differentiating through a jvp).
            f0, tangent = jax.linearize(lambda p: apply_fn(p, x), params0)
            cotangent = jax.linear_transpose(tangent, params0)

            def value_and_grad(p):
                delta = jax.tree.map(jnp.subtract, p, params0)
                residual = f0 + tangent(delta) - y
                (grads,) = cotangent(residual / residual.size)
                return (0.5 * jnp.vdot(residual, residual) / residual.size, residual), grads

        else:

            def loss(p):
                residual = apply_fn(p, x) - y
                return 0.5 * jnp.vdot(residual, residual) / residual.size, residual

            value_and_grad = jax.value_and_grad(loss, has_aux=True)

        def observe(p):
            (value, residual), grads = value_and_grad(p)
            return value, jnp.vdot(direction, residual.reshape(-1)), grads

        def step(carry, _):
            params, dead = carry
            value, top, grads = observe(params)
            dead = dead | ~jnp.isfinite(value) | (value > threshold)
            stepped = jax.tree.map(lambda p, g: p - lr * g, params, grads)
            params = jax.tree.map(lambda new, old: jnp.where(dead, old, new), stepped, params)
            return (params, dead), (jnp.where(dead, jnp.nan, value), jnp.where(dead, jnp.nan, top))

        (params, dead), (losses, tops) = jax.lax.scan(step, (params, dead), None, length=length)
        final, top, _ = observe(params)
        dead = dead | ~jnp.isfinite(final) | (final > threshold)
        final, top = jnp.where(dead, jnp.nan, final), jnp.where(dead, jnp.nan, top)
        return params, dead, losses, tops, final, top

    batched = jax.vmap(member, in_axes=(0, 0, 0, 0, 0, 0, None, None))
    return jax.jit(batched, donate_argnums=(0,))


def gd_losses(
    apply_fn,
    params0,
    x,
    y,
    lrs: np.ndarray,
    steps: int,
    *,
    linearize: bool = False,
    directions: np.ndarray | None = None,
) -> dict[str, Any]:
    """Full-batch GD of every member of params0 (stacked) at its own rate, chunk by chunk.

    Returns the loss at every step, (steps + 1, members), NaN from a member's blow-up on
    (and for every step after an early stop); ``top``, the same for the residual's component
    along each member's unit vector in ``directions`` (members, y.size; zero when None); the
    blow-up flags; and the final parameters.
    """
    x, y = jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32)
    members = len(lrs)
    if directions is None:
        directions = np.zeros((members, y.size))
    directions = jnp.asarray(directions, jnp.float32)

    def start(p, v):
        residual = apply_fn(p, x) - y
        return train.mse_loss(apply_fn(p, x), y), jnp.vdot(v, residual.reshape(-1))

    init_loss, init_top = (np.asarray(a, np.float64) for a in jax.vmap(start)(params0, directions))
    threshold = jnp.asarray(DIVERGENCE_FACTOR * init_loss, jnp.float32)
    lrs_device = jnp.asarray(lrs, jnp.float32)
    params = jax.tree.map(jnp.copy, params0)
    dead = jnp.zeros(members, bool)
    losses, tops = np.full((steps + 1, members), np.nan), np.full((steps + 1, members), np.nan)
    losses[0], tops[0] = init_loss, init_top
    done = 0
    while done < steps:
        length = min(CHUNK, steps - done)
        fn = _chunk_fn(apply_fn, linearize, length)
        params, dead, chunk, chunk_top, final, top = fn(
            params, dead, params0, lrs_device, threshold, directions, x, y
        )
        losses[done : done + length] = np.asarray(chunk, np.float64).T  # L(θ_t), t = done..
        tops[done : done + length] = np.asarray(chunk_top, np.float64).T
        done += length
        losses[done], tops[done] = np.asarray(final, np.float64), np.asarray(top, np.float64)
        if bool(np.all(dead)):
            break
    return {"loss": losses, "top": tops, "blew_up": np.asarray(dead), "params": params}


@dataclass(frozen=True)
class Sweep(Record):
    """The net, or its linearization, trained at every rate of the grid."""

    loss: np.ndarray  # (ratios, steps + 1, seeds), NaN once blown up or where not run
    top: np.ndarray  # (ratios, steps + 1, seeds) ⟨v, f_t − Y⟩, v the top eigenvector of Θ_0
    f_test: np.ndarray  # (ratios, seeds, n_test, K) at the end, NaN where blown up
    ran: np.ndarray  # (ratios,) bool: trained at this rate (the linearization stops early)


@dataclass(frozen=True)
class Run(Record):
    """The whole instance (not sharded)."""

    ratios: np.ndarray  # (ratios,) η/η_crit
    eta_crit: np.ndarray  # (seeds,) 2m/λ_max(Θ̂_0) of each net
    lam_init: np.ndarray  # (seeds,) λ_max(Θ̂_0)
    lam_second: np.ndarray  # (seeds,) the second eigenvalue of Θ̂_0
    m: int  # y.size
    y_test: np.ndarray  # (n_test, K)
    net: Sweep
    lin: Sweep
    lam_final: np.ndarray  # (ratios, seeds) λ_max(Θ̂_T) of the net, NaN where blown up
    lazy_widths: np.ndarray  # (W,) the width series below η_crit (``width`` not included)
    lazy_final_loss: np.ndarray  # (W, lazy ratios, seeds) L_T/L_0, NaN where blown up
    lazy_lam_ratio: np.ndarray  # (W, lazy ratios, seeds) λ_max(Θ̂_T)/λ_max(Θ̂_0)


def _top_modes(mspec, params, x32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per seed: the two largest eigenvalues of the full NTK and the top unit eigenvector."""
    values, vectors = np.linalg.eigh(empirical.ensemble_full_ntk(mspec, params, x32))
    return values[:, -1], values[:, -2], vectors[:, :, -1]


def _lazy_series(spec, x, y, ratios, *, key) -> tuple[np.ndarray, np.ndarray]:
    """L_T/L_0 and λ_max(Θ̂_T)/λ_max(Θ̂_0) of the net at each lazy width and ratio."""
    final_loss, lam_ratio = [], []
    x32 = jnp.asarray(x, jnp.float32)
    for width in spec["lazy_widths"]:
        mspec, params0 = init_width(
            spec["model"],
            width=width,
            out_dim=y.shape[1],
            in_dim=x.shape[1],
            seeds=spec["seeds"],
            key=key,
        )
        lam0 = stability.lambda_max(empirical.ensemble_full_ntk(mspec, params0, x32))
        apply_fn = make_apply(mspec)  # one function per width: its chunks compile once
        rows_loss, rows_lam = [], []
        for ratio in ratios:
            eta = ratio * 2.0 * y.size / lam0
            result = gd_losses(apply_fn, params0, x, y, eta, spec["steps"])
            lam = stability.lambda_max(empirical.ensemble_full_ntk(mspec, result["params"], x32))
            rows_loss.append(result["loss"][-1] / result["loss"][0])
            rows_lam.append(np.where(result["blew_up"], np.nan, lam / lam0))
        final_loss.append(rows_loss)
        lam_ratio.append(rows_lam)
    shape = (0, int(np.sum(ratios < 1)), spec["seeds"])
    if not final_loss:
        return np.zeros(shape), np.zeros(shape)
    return np.asarray(final_loss, np.float64), np.asarray(lam_ratio, np.float64)


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
    lam0, lam_second, top_vector = _top_modes(mspec, params0, x32)
    eta_crit = 2.0 * y.size / lam0
    grid = spec["lr_grid"]
    ratios = ratio_grid(grid["lo"], grid["hi"], grid["per_octave"])
    steps, seeds = spec["steps"], spec["seeds"]

    def test_outputs(params, linearize):
        def one(p, p0):
            model = train.linearized_apply_fn(apply_fn, p0) if linearize else apply_fn
            return model(p, jnp.asarray(x_test, jnp.float32))

        return np.asarray(jax.vmap(one)(params, params0), np.float64)

    sweeps = {p: {"loss": [], "top": [], "f_test": [], "ran": []} for p in ("net", "lin")}
    lam_final = []
    nan_outputs = np.full((seeds, *y_test.shape), np.nan)
    not_run = np.full((steps + 1, seeds), np.nan)
    for ratio in ratios:
        for prefix, linearize in (("net", False), ("lin", True)):
            if linearize and ratio > spec["lin_max_ratio"]:
                result = {"loss": not_run, "top": not_run, "blew_up": None}
                f_test = nan_outputs
            else:
                result = gd_losses(
                    apply_fn,
                    params0,
                    x,
                    y,
                    ratio * eta_crit,
                    steps,
                    linearize=linearize,
                    directions=top_vector,
                )
                f_test = test_outputs(result["params"], linearize)
                f_test[result["blew_up"]] = np.nan
            for field in ("loss", "top"):
                sweeps[prefix][field].append(result[field])
            sweeps[prefix]["f_test"].append(f_test)
            sweeps[prefix]["ran"].append(result["blew_up"] is not None)
            if not linearize:
                lam = stability.lambda_max(
                    empirical.ensemble_full_ntk(mspec, result["params"], x32)
                )
                lam_final.append(np.where(result["blew_up"], np.nan, lam))
    net, lin = (Sweep(**{k: np.stack(v) for k, v in sweeps[p].items()}) for p in ("net", "lin"))
    widths = np.array([w for w in spec["lazy_widths"] if w != spec["width"]], np.int64)
    lazy_loss, lazy_lam = _lazy_series(
        {**spec, "lazy_widths": widths.tolist()}, x, y, ratios[ratios < 1], key=key
    )
    return Run(
        ratios=ratios,
        eta_crit=eta_crit,
        lam_init=lam0,
        lam_second=lam_second,
        m=y.size,
        y_test=np.asarray(y_test, np.float64),
        net=net,
        lin=lin,
        lam_final=np.stack(lam_final),
        lazy_widths=widths,
        lazy_final_loss=lazy_loss,
        lazy_lam_ratio=lazy_lam,
    )


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


def seed_mean(per_seed: np.ndarray) -> dict[str, Any]:
    """Mean over seeds of a per-seed number with its BCa interval (``fits.bootstrap_mean``);
    NaN entries (seeds without such a run) left out, an empty record below two seeds."""
    per_seed = np.asarray(per_seed, np.float64)
    finite = per_seed[np.isfinite(per_seed)]
    if finite.size < 2:
        return {
            "mean": None,
            "lo": float("nan"),
            "hi": float("nan"),
            "level": LEVEL,
            "n_seeds": int(finite.size),
        }
    return fits.bootstrap_mean(finite)


def top_growth(top: np.ndarray) -> np.ndarray:
    """max_{t≥1} |c_t| / |c_0| of top-mode curves (..., steps + 1, seeds): how far the top
    mode grew after the start (below 1 when it only shrank); NaN steps (blown up) ignored."""
    top = np.abs(np.asarray(top, np.float64))
    with np.errstate(all="ignore"):
        later = np.where(np.isfinite(top[..., 1:, :]), top[..., 1:, :], -np.inf).max(axis=-2)
        return np.where(np.isfinite(later), later, np.nan) / top[..., 0, :]


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


def _per_seed(values: np.ndarray, mask: np.ndarray, reduce) -> np.ndarray:
    """reduce over the masked runs of each seed (columns of (ratios, seeds)); NaN where a seed
    has none."""
    return np.array(
        [reduce(v[m]) if m.any() else np.nan for v, m in zip(values.T, mask.T, strict=True)]
    )


def lazy_width_series(run: Run, spec: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Widths (ascending) and, per width and seed, the largest |λ_max(Θ̂_T)/λ_max(Θ̂_0) − 1|
    over the seed's converged runs below η_crit (NaN for a seed without one)."""
    lazy = run.ratios < 1
    final = run.net.loss[lazy, -1] / run.net.loss[lazy, 0]
    rows = [(spec["width"], final, run.lam_final[lazy] / run.lam_init)]
    rows += list(
        zip(run.lazy_widths.tolist(), run.lazy_final_loss, run.lazy_lam_ratio, strict=True)
    )
    rows.sort(key=lambda row: row[0])
    change = [
        _per_seed(np.abs(lam - 1), np.isfinite(loss) & (loss < CONVERGED_FRACTION), np.max)
        for _, loss, lam in rows
    ]
    return np.array([row[0] for row in rows], np.float64), np.array(change, np.float64)


def analyze(
    runs: Sequence[Run], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Numbers and figure data of E9. Over 80 lines by design: the phase of every run,
    computed at its top, decides every number and every figure array."""
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
    with np.errstate(all="ignore"):
        peak = np.nanmax(run.net.loss[:, 1:], axis=1)
    rise = peak / init  # largest loss after the start over the initial loss, (ratios, seeds)
    growth = top_growth(run.net.top)  # max_{t≥1}|c_t|/|c_0|, (ratios, seeds)
    with np.errstate(all="ignore"):
        onset = np.abs(run.net.top[:, 1] / run.net.top[:, 0])  # |c_1/c_0|, (ratios, seeds)
        log_growth = np.log10(growth)
        peak_step = np.nanargmax(
            np.where(np.isfinite(run.net.top), np.abs(run.net.top), -1.0), axis=1
        )
    predicted_onset = np.abs(1 - 2 * ratios)  # the linearized model's factor per step
    gap = _rms(run.net.f_test - run.lin.f_test, axis=(-2, -1))  # (ratios, seeds)
    lazy, catapult = phase == 0, phase == 1

    net_lower, net_upper = bracket(ratios, net_conv, net_div)
    lin_lower, lin_upper = bracket(ratios[lin_ran], lin_conv[lin_ran], lin_div[lin_ran])
    eta_max = bracket_interval(net_lower, net_upper)
    below = ratios < 1
    widths, change = lazy_width_series(run, spec)
    lazy_rate = fits.asymptotic_rate(widths, change) if len(widths) >= 3 else None

    def catapult_only(values, reduce=np.median):
        return float(reduce(values[catapult])) if catapult.any() else None

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
        "top_gap_mean": float(np.mean(1 - run.lam_second / lam0)),
        "lin_boundary": bracket_interval(lin_lower, lin_upper),
        "eta_max": eta_max,
        "net_converged_below_crit": float(net_conv[below].mean()) if below.any() else None,
        "lazy_kernel_change": seed_mean(_per_seed(np.abs(lam_ratio - 1), lazy, np.max)),
        "lazy_widths": widths.astype(int).tolist(),
        "lazy_n_widths": len(widths),
        "lazy_width_min": int(widths.min()),
        "lazy_width_max": int(widths.max()),
        "lazy_kernel_change_by_width": [seed_mean(c) for c in change],
        "lazy_kernel_change_narrowest": seed_mean(change[0]),
        "lazy_kernel_change_widest": seed_mean(change[-1]),
        "catapult_runs": int(catapult.sum()),
        # The top mode (claim E9-grow): log10 max_{t≥1}|c_t|/|c_0|, smallest over a seed's
        # catapult runs; the same per ratio, over the seeds that did not blow up.
        "catapult_top_growth": seed_mean(_per_seed(log_growth, catapult, np.min)),
        "top_growth_by_ratio": [seed_mean(g[np.isfinite(g)]) for g in log_growth],
        "catapult_top_growth_median": catapult_only(growth),
        "catapult_top_peak_step_median": catapult_only(peak_step),
        # the first step's factor over the linearized model's |1 − 2r|, per catapult run
        "catapult_onset_ratio_median": catapult_only(onset / predicted_onset[:, None]),
        "lazy_top_growth_max": float(np.nanmax(growth[lazy])) if lazy.any() else None,
        "catapult_rise_fraction": float(np.mean(rise[catapult] > 1)) if catapult.any() else None,
        "catapult_rise_median": catapult_only(rise),
        "catapult_final_sharpness": seed_mean(_per_seed(sharpness, catapult, np.max)),
        "catapult_lambda_drop_min": catapult_only(lam_ratio, np.nanmin),
        "catapult_lambda_ratio_max": catapult_only(lam_ratio, np.nanmax),
        "lazy_gap_max": float(np.nanmax(gap[lazy & lin_conv])) if (lazy & lin_conv).any() else None,
        "undecided_runs": int((phase == 3).sum()),
        "net_converged_fraction": net_conv.mean(axis=1).tolist(),
        "net_diverged_fraction": net_div.mean(axis=1).tolist(),
    }
    if lazy_rate is not None:
        numbers["lazy_rate"] = lazy_rate
    # The two published expectations for eta_max differ by architecture: the two-layer theory
    # for one hidden layer, "larger" for deeper ReLU nets (claims E9-max-*).
    numbers["eta_max_one_hidden" if spec["model"]["depth"] == 2 else "eta_max_deep"] = eta_max
    figures = _figures(
        run,
        numbers,
        phase=phase,
        lam_ratio=lam_ratio,
        growth=growth,
        rise=rise,
        widths=widths,
        change=change,
        lazy_rate=lazy_rate,
    )
    return numbers, figures


def _figures(
    run: Run,
    numbers: Mapping[str, Any],
    *,
    phase: np.ndarray,
    lam_ratio: np.ndarray,
    growth: np.ndarray,
    rise: np.ndarray,
    widths: np.ndarray,
    change: np.ndarray,
    lazy_rate: dict[str, Any] | None,
) -> dict[str, Any]:
    """The three figures' records, from the run and what analyze computed of it."""
    ratios, init = run.ratios, run.net.loss[:, 0]
    # Blown-up steps count as +∞ (not as missing): the median over seeds then follows the
    # majority, and a ratio at which most seeds diverge shows a curve that blows up.
    blown = np.where(np.isnan(run.net.loss), np.inf, run.net.loss / init[:, None, :])
    median_curve = np.median(blown, axis=2)
    blown_top = np.where(np.isnan(run.net.top), np.inf, np.abs(run.net.top))
    median_top = np.median(blown_top / np.abs(run.net.top[:, :1]), axis=2)
    # The phase of most seeds at each ratio.
    majority = np.array([np.bincount(p, minlength=len(PHASES)).argmax() for p in phase])
    fit = np.full(0, np.nan)
    if lazy_rate is not None:
        grid = np.geomspace(widths.min(), widths.max(), 50)
        fit = np.stack(
            [
                grid,
                np.exp(
                    lazy_rate["intercept"]
                    + lazy_rate["slope"] * np.log(grid)
                    + lazy_rate["correction"] * grid**-0.5
                ),
            ]
        )
    boundaries = Boundaries(
        net=Interval.of(numbers["eta_max"]),
        lin=Interval.of(numbers["lin_boundary"]),
    )
    figs = {
        "lr_phases": LrPhases(
            ratios=ratios,
            net_final_loss=run.net.loss[:, -1] / init,
            lin_final_loss=run.lin.loss[:, -1] / run.lin.loss[:, 0],
            lam_ratio=lam_ratio,
            phase=phase,
            boundaries=boundaries,
            lazy_widths=widths,
            lazy_change=change,
            lazy_fit=fit,
            lazy_rate=Interval.of(lazy_rate),
        ),
        "lr_top_mode": LrTopMode(
            ratios=ratios,
            top_growth=growth,
            rise=rise,
            top=np.where(np.isfinite(median_top), median_top, np.nan),
            phase=phase,
            majority_phase=majority,
            boundaries=boundaries,
        ),
        "lr_trajectories": LrTrajectories(
            ratios=ratios,
            loss=np.where(np.isfinite(median_curve), median_curve, np.nan),
            phase=phase,
            majority_phase=majority,
            phase_names=np.array(PHASES),
        ),
    }
    return figs
