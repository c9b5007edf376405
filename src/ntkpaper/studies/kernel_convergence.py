"""E3: the empirical NTK concentrates on its limit and freezes as width grows (Jacot Fig. 1).

Inputs on the unit circle, x_0 = (1, 0) and x(γ) = (cos γ, sin γ). For each width, an
ensemble of networks is initialized, its exact layerwise empirical NTK Θ(x_0, x(γ)) is
measured, the networks are trained by full-batch GD on the target x_1·x_2 at a few random
points of the circle (``full_batch_gd``: low-rank deferred updates), and the kernel is
measured again. Expected (Jacot et al.; Lee et al.
2019): the deviation from the analytic limit at init falls like n^{-1/2}, the drift during
training like n^{-1}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper import data as datasets
from ntkpaper import infinite, keys, train
from ntkpaper.empirical import ensemble_layerwise_ntk
from ntkpaper.finite import init_width
from ntkpaper.fits import bootstrap_slope
from ntkpaper.full_batch_gd import DEFAULT_FLUSH_EVERY, full_batch_gd
from ntkpaper.models import ensemble_apply, model_spec

X0 = np.array([[1.0, 0.0]])

# How the workflow runs this kind (read by ntkpaper.workflow without importing this module).
WORKFLOW = {"priority": 50}


def run(spec: Mapping[str, Any], data=None, *, key) -> dict[str, Any]:
    gammas = datasets.uniform_angles(spec["n_angles"])
    probe = datasets.circle(gammas)
    x_train = datasets.circle(datasets.random_angles(spec["n_train"], key=keys.fold(key, "x")))
    y_train = datasets.circle_target(x_train)
    analytic = infinite.analytic_kernels(model_spec(spec["model"], width=1, out_dim=1), X0, probe)
    out: dict[str, Any] = {
        "gammas": gammas,
        "widths": np.array(spec["widths"]),
        "analytic": analytic["ntk_test_train"][:, 0],
        "flush_every": np.asarray(DEFAULT_FLUSH_EVERY),
    }
    for width in spec["widths"]:
        mspec, params0 = init_width(
            spec["model"], width=width, out_dim=1, in_dim=2, seeds=spec["seeds"], key=key
        )
        x0, xp = jnp.asarray(X0, jnp.float32), jnp.asarray(probe, jnp.float32)
        before = np.asarray(ensemble_layerwise_ntk(mspec, params0, x0, xp))[:, :, 0, :]
        params = full_batch_gd(mspec, params0, x_train, y_train, lr=spec["lr"], steps=spec["steps"])
        after = np.asarray(ensemble_layerwise_ntk(mspec, params, x0, xp))[:, :, 0, :]
        f_train = ensemble_apply(mspec, params, x_train)
        out[f"w{width}_before"] = before  # (seeds, depth, n_angles), per layer
        out[f"w{width}_after"] = after
        out[f"w{width}_final_loss"] = train.ensemble_mse_loss(f_train, y_train)
    return out


def analyze(
    runs: Sequence[Mapping[str, np.ndarray]], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    (run,) = runs  # one run file: this kind is not sharded
    widths, limit = run["widths"], run["analytic"]
    deviation, drift, layer_drift = [], [], []
    for w in widths:
        before, after = run[f"w{w}_before"], run[f"w{w}_after"]
        k0, k1 = before.sum(1), after.sum(1)  # (seeds, n_angles)
        deviation.append(np.linalg.norm(k0 - limit, axis=-1) / np.linalg.norm(limit))
        drift.append(np.linalg.norm(k1 - k0, axis=-1) / np.linalg.norm(k0, axis=-1))
        layer_drift.append(
            np.mean(
                np.linalg.norm(after - before, axis=-1) / np.linalg.norm(k0, axis=-1)[:, None],
                axis=0,
            )
        )
    deviation, drift, layer_drift = map(np.stack, (deviation, drift, layer_drift))
    numbers = {
        "widths": widths.tolist(),
        "widths_text": ", ".join(str(int(w)) for w in widths),
        "width_max": int(widths.max()),
        "flush_every": int(run["flush_every"]),
        "slope_deviation": bootstrap_slope(widths, deviation),
        "slope_drift": bootstrap_slope(widths, drift),
        "deviation": deviation.mean(1).tolist(),
        "drift": drift.mean(1).tolist(),
        "layer_drift_widest": layer_drift[-1].tolist(),
        "final_train_loss": [float(np.nanmean(run[f"w{w}_final_loss"])) for w in widths],
    }
    curves = {
        "gammas": run["gammas"],
        "widths": widths,
        "analytic": limit,
        "deviation": deviation,
        "drift": drift,
        "layer_drift": layer_drift,
        **{f"before_{w}": run[f"w{w}_before"].sum(1) for w in widths},
        **{f"after_{w}": run[f"w{w}_after"].sum(1) for w in widths},
    }
    return numbers, {"kernel_convergence": curves}
