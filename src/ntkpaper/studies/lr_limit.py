"""E9: the learning-rate limit of the linear picture (Lee et al. 2019, §2.4 and App. F).

Discrete gradient descent on the linearized model, f_{t+1} = f_t − (η/m)Θ(f_t − y), is
stable iff η < η_crit = 2m/λ_max(Θ). Θ here is the full (n·K)×(n·K) empirical NTK at
initialization: at finite width its output blocks are not exactly Θ_avg ⊗ I, and with K = 10
outputs the trace-averaged n×n kernel underestimates λ_max by enough to put η_crit on the
wrong side of the boundary. We find λ_max matrix-free, by power iteration on v ↦ J(Jᵀv) (one
VJP and one JVP per step, no Jacobian), per seed, then train networks and their
linearizations at η = r·η_crit for each ratio r, and record whether each converged, its
final loss and its distance to the linear model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper import keys, train
from ntkpaper.finite import init_width
from ntkpaper.models import make_apply

# A run counts as converged when its final training loss is below this fraction of the
# initial one; diverged when it blew up (train's detector) or ended above its start.
CONVERGED_FRACTION = 0.5

# How the workflow runs this kind (read by ntkpaper.workflow without importing this module).
WORKFLOW = {"priority": 10}


def ntk_lambda_max(apply_fn, params, x, *, key, iters: int = 100) -> jax.Array:
    """Largest eigenvalue of the full empirical NTK J Jᵀ at `params` by power iteration."""
    f = lambda p: apply_fn(p, x)  # noqa: E731
    _, vjp = jax.vjp(f, params)

    def matvec(v):
        return jax.jvp(f, (params,), vjp(v))[1]

    def step(_, v):
        w = matvec(v)
        return w / jnp.linalg.norm(w)

    shape = jax.eval_shape(f, params)
    v0 = jax.random.normal(key, shape.shape, shape.dtype)
    v = jax.lax.fori_loop(0, iters, step, v0 / jnp.linalg.norm(v0))
    return jnp.vdot(v, matvec(v))  # Rayleigh quotient of the converged unit vector


def run(spec: Mapping[str, Any], data: Mapping[str, np.ndarray], *, key) -> dict[str, Any]:
    x, y = data["x_train"], data["y_train"]
    mspec, params0 = init_width(
        spec["model"],
        width=spec["width"],
        out_dim=y.shape[1],
        in_dim=x.shape[1],
        seeds=spec["seeds"],
        key=key,
    )
    apply_fn, x32 = make_apply(mspec), jnp.asarray(x, jnp.float32)
    lam = jax.jit(jax.vmap(lambda p: ntk_lambda_max(apply_fn, p, x32, key=keys.fold(key, "power"))))
    eta_crit = 2 * y.size / np.asarray(lam(params0), np.float64)
    record_steps = train.log_spaced_steps(spec["steps"], 20)
    out: dict[str, Any] = {
        "ratios": np.asarray(spec["lr_ratios"], np.float64),
        "eta_crit": eta_crit,
        "record_steps": record_steps,
    }
    per_ratio: dict[str, list] = {}
    for ratio in out["ratios"]:
        for prefix, lin in (("net", False), ("lin", True)):
            rec, _ = train.train(
                apply_fn,
                params0,
                x,
                y,
                data["x_test"],
                data["y_test"],
                lr=ratio * eta_crit,
                steps=spec["steps"],
                record_steps=record_steps,
                linearize=lin,
            )
            per_ratio.setdefault(f"{prefix}_train_loss", []).append(rec.train_loss)
            per_ratio.setdefault(f"{prefix}_init_loss", []).append(rec.init_train_loss)
            per_ratio.setdefault(f"{prefix}_blew_up", []).append(rec.diverged)
            per_ratio.setdefault(f"{prefix}_f_test", []).append(rec.f_test[-1])
    out.update({k: np.stack(v) for k, v in per_ratio.items()})
    return out


def outcome(train_loss: np.ndarray, init_loss: np.ndarray, blew_up: np.ndarray):
    """(converged, diverged) per seed from the loss records (n_records, n_seeds)."""
    final = train_loss[-1]
    diverged = blew_up | ~np.isfinite(final) | (final > init_loss)
    converged = ~diverged & (final < CONVERGED_FRACTION * init_loss)
    return converged, diverged


def boundary(ratios: np.ndarray, diverged_fraction: np.ndarray) -> float:
    """Midpoint between the largest ratio below which nothing diverged and the next one."""
    for i, frac in enumerate(diverged_fraction):
        if frac > 0.5:
            return float(np.sqrt(ratios[i - 1] * ratios[i])) if i else float(ratios[0])
    return float("nan")  # never diverged in the range tried


def analyze(
    runs: Sequence[Mapping[str, np.ndarray]], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    (run,) = runs  # one run file: this kind is not sharded
    ratios = run["ratios"]
    stats: dict[str, Any] = {}
    for prefix in ("net", "lin"):
        conv, div = zip(
            *(
                outcome(l, i, b)
                for l, i, b in zip(
                    run[f"{prefix}_train_loss"],
                    run[f"{prefix}_init_loss"],
                    run[f"{prefix}_blew_up"],
                    strict=True,
                )
            ),
            strict=True,
        )
        stats[f"{prefix}_converged_fraction"] = np.mean(conv, axis=1)
        stats[f"{prefix}_diverged_fraction"] = np.mean(div, axis=1)
        stats[f"{prefix}_final_loss"] = np.nanmedian(run[f"{prefix}_train_loss"][:, -1], axis=1)
    gap = np.sqrt(np.nanmean((run["net_f_test"] - run["lin_f_test"]) ** 2, axis=(2, 3)))
    below, above2 = ratios < 1, ratios > 2
    numbers = {
        "ratios": ratios.tolist(),
        "ratios_text": ", ".join(f"{r:g}" for r in ratios),
        "eta_crit_mean": float(run["eta_crit"].mean()),
        "eta_crit_spread": float(run["eta_crit"].std() / run["eta_crit"].mean()),
        "lin_boundary": boundary(ratios, stats["lin_diverged_fraction"]),
        "net_boundary": boundary(ratios, stats["net_diverged_fraction"]),
        "ratio_max": float(ratios.max()),
        "net_diverged_fraction_max": float(stats["net_diverged_fraction"].max()),
        "net_converged_below_crit": float(stats["net_converged_fraction"][below].min())
        if below.any()
        else None,
        "net_diverged_above_2crit": float(stats["net_diverged_fraction"][above2].min())
        if above2.any()
        else None,
        "gap_f_g": np.nanmean(gap, axis=1).tolist(),
        **{k: v.tolist() for k, v in stats.items()},
    }
    fig = {
        "ratios": ratios,
        "record_steps": run["record_steps"],
        "gap": gap,
        "net_train_loss": run["net_train_loss"],
        "lin_train_loss": run["lin_train_loss"],
        **stats,
    }
    return numbers, {"lr_limit": fig}
