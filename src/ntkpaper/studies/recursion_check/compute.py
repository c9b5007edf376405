"""E4: our own implementation of the limiting recursion against neural-tangents.

`ntkpaper.kernels.analytic` computes Σ and Θ from the recursion (closed forms for ReLU and erf)
without neural-tangents; here we compare it with `nt.stax` over a grid of depths, bias
scales β = b_std, weight scales and input norms in float64, time both on the digits, and
show what the source slides' two typos would change (a third, numpy-only ReLU recursion
with switches for them).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper.data import datasets
from ntkpaper.kernels import analytic as own
from ntkpaper.networks.models import model_spec, stax_network
from ntkpaper.pipeline import keys
from ntkpaper.pipeline.records import Record
from ntkpaper.statistics.timing import median_time

INPUT_SCALES = (0.1, 1.0, 10.0)  # rows of the random inputs are scaled by these


def random_inputs(n: int, *, key) -> np.ndarray:
    x = np.asarray(jax.random.normal(key, (n, 5)), np.float64)
    return x * np.resize(INPUT_SCALES, n)[:, None]


def relative_error(ours: np.ndarray, reference: np.ndarray) -> float:
    return float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))


def relu_recursion(
    x: np.ndarray,
    *,
    depth: int,
    W_std: float,
    b_std: float,
    beta_in_derivative: bool = False,
    lagged_sigma: bool = False,
) -> np.ndarray:
    """NTK by the recursion in numpy, with switches for the slides' typos: β² added to Σ'
    and Θ_{k+1} = Θ_k Σ'_{k+1} + Σ_k instead of + Σ_{k+1}."""
    sigma = W_std**2 * x @ x.T / x.shape[1] + b_std**2
    theta = sigma
    for _ in range(depth - 1):
        q = np.sqrt(np.outer(np.diag(sigma), np.diag(sigma)))
        angle = np.arccos(np.clip(sigma / q, -1, 1))
        new_sigma = W_std**2 * q * (np.sin(angle) + (np.pi - angle) * np.cos(angle)) / (2 * np.pi)
        new_sigma += b_std**2
        derivative = W_std**2 * (np.pi - angle) / (2 * np.pi) + beta_in_derivative * b_std**2
        theta = theta * derivative + (sigma if lagged_sigma else new_sigma)
        sigma = new_sigma
    return theta


def relu_diagonal(x: np.ndarray, *, depth: int, W_std: float, b_std: float) -> np.ndarray:
    """Θ(x, x) by the scalar recursion at angle 0, where the arc-cosine kernel is exact:
    Σ_{k+1} = W²·Σ_k/2 + b², Σ' = W²/2."""
    sigma = W_std**2 * np.sum(x * x, axis=1) / x.shape[1] + b_std**2
    theta = sigma
    for _ in range(depth - 1):
        sigma = W_std**2 * sigma / 2 + b_std**2
        theta = theta * W_std**2 / 2 + sigma
    return theta


@dataclass(frozen=True)
class Run(Record):
    """The whole instance (not sharded): errors against neural-tangents over the grid of
    configurations, timings per activation, and the slides' typos."""

    activations: np.ndarray  # (activations,) str
    grid_activation: np.ndarray  # (configurations,) str
    grid: np.ndarray  # (configurations, 3): depth, b_std, W_std
    errors: np.ndarray  # (configurations, 2): relative error of NNGP, NTK
    timing_n: int
    time_ours: np.ndarray  # (activations,) seconds, one full kernel matrix on the digits
    time_nt: np.ndarray  # (activations,)
    numpy_recursion_error: float
    diag_error_ours: float
    diag_error_nt: float
    typo_beta_change: float
    typo_lag_change: float


def run(spec: Mapping[str, Any], data=None, *, key) -> Run:
    # Cross kernels K(x, x') on two input sets: on x = x' neural-tangents' own ReLU diagonal
    # is off by ~1e-8 (it gets |x|² and x·x from different reductions and then evaluates
    # arccos near 1); the diagonal is compared separately, below.
    x = random_inputs(spec["n_points"], key=keys.fold(key, "x"))
    x2 = random_inputs(spec["n_points"] + 3, key=keys.fold(key, "x2"))
    grid = list(
        itertools.product(spec["activations"], spec["depths"], spec["b_stds"], spec["W_stds"])
    )
    errors = np.zeros((len(grid), 2))  # nngp, ntk
    for i, (act, depth, b_std, w_std) in enumerate(grid):
        model = {"depth": depth, "activation": act, "W_std": w_std, "b_std": b_std}
        ref = stax_network(model_spec(model, width=1, out_dim=1))[2](x, x2, ("nngp", "ntk"))
        ours = own.kernels(
            x, x2, depth=depth, activation=act, W_std=w_std, b_std=b_std, method="closed"
        )
        errors[i] = (
            relative_error(np.asarray(ours.nngp), np.asarray(ref.nngp)),
            relative_error(np.asarray(ours.ntk), np.asarray(ref.ntk)),
        )
    # Timing on the digits: one full kernel matrix, both implementations jitted, float64.
    digits = datasets.prepare(
        "digits",
        {"source": "digits", "n_train": spec["timing_n"]},
        key=keys.fold(key, "digits"),
    )["x_train"]
    timings: dict[str, list[float]] = {"ours": [], "nt": []}
    for act in spec["activations"]:
        model = {"depth": 4, "activation": act, "W_std": 1.0, "b_std": 0.1}
        kernel_fn = jax.jit(
            stax_network(model_spec(model, width=1, out_dim=1))[2], static_argnames="get"
        )
        timings["nt"].append(median_time(lambda kf=kernel_fn: kf(digits, None, "ntk")))
        timings["ours"].append(
            median_time(
                lambda a=act: own.kernels(digits, depth=4, activation=a, method="closed").ntk
            )
        )
    # The slides' typos, on the same random inputs (ReLU, depth 4, β = 0.1).
    exact = relu_recursion(x, depth=4, W_std=1.0, b_std=0.1)
    typo_beta = relu_recursion(x, depth=4, W_std=1.0, b_std=0.1, beta_in_derivative=True)
    typo_lag = relu_recursion(x, depth=4, W_std=1.0, b_std=0.1, lagged_sigma=True)
    reference = np.asarray(stax_network(model_spec({}, width=1, out_dim=1))[2](x, None, "ntk"))
    # Diagonals on the digits: ours (exact scalar recursion) and nt's against numpy's.
    exact_diag = relu_diagonal(digits[:300], depth=4, W_std=1.0, b_std=0.1)
    nt_diag = np.diag(
        np.asarray(stax_network(model_spec({}, width=1, out_dim=1))[2](digits[:300], None, "ntk"))
    )
    own_diag = np.asarray(own.diagonal_kernels(digits[:300], depth=4).ntk)
    return Run(
        activations=np.array(spec["activations"]),
        grid_activation=np.array([g[0] for g in grid]),
        grid=np.array([g[1:] for g in grid], np.float64),
        errors=errors,
        timing_n=len(digits),
        time_ours=np.array(timings["ours"]),
        time_nt=np.array(timings["nt"]),
        numpy_recursion_error=relative_error(exact, reference),
        diag_error_ours=relative_error(own_diag, exact_diag),
        diag_error_nt=relative_error(nt_diag, exact_diag),
        typo_beta_change=relative_error(typo_beta, exact),
        typo_lag_change=relative_error(typo_lag, exact),
    )


def analyze(
    runs: Sequence[Run], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    (run,) = runs  # one run file: this kind is not sharded
    # Wall-clock numbers live under "timings": they differ from run to run, the rest not.
    numbers: dict[str, Any] = {
        "configurations": len(run.grid),
        "timing_n": run.timing_n,
        "timings": {},
    }
    worst = 0.0
    for i, act in enumerate(map(str, run.activations)):
        rows = run.grid_activation == act
        n = run.timing_n
        t_ours, t_nt = float(run.time_ours[i]), float(run.time_nt[i])
        numbers[act] = {
            "max_rel_err_nngp": float(run.errors[rows, 0].max()),
            "max_rel_err_ntk": float(run.errors[rows, 1].max()),
        }
        numbers["timings"][act] = {
            "ours_s": t_ours,
            "nt_s": t_nt,
            "ratio": t_ours / t_nt,
            "ns_per_entry_ours": 1e9 * t_ours / n**2,
        }
        worst = max(worst, float(run.errors[rows].max()))
    numbers["max_rel_err"] = worst
    for name in (
        "numpy_recursion_error",
        "typo_beta_change",
        "typo_lag_change",
        "diag_error_ours",
        "diag_error_nt",
    ):
        numbers[name] = getattr(run, name)
    return numbers, {}
