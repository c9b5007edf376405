"""Test-MSE-vs-steps curve of kernel gradient descent: one eigendecomposition vs stepping GD.
Usage: python benchmarks/bench_spectral.py [--out results/bench/spectral.json] [--lr 50]

Setup: digits (ntkpaper.data.datasets.prepare: seeded split, standardized with the training
statistics, constant pixels left at 0), n_train = 1000, test = the other 797; targets one-hot
minus the class mean 1/K (K = 10, m = 10^4); analytic relu NTK, depth 4 (3 hidden layers),
W_std 1, b_std 0.1, float64, via stax's kernel_fn; f_0 = 0 on train and test (the
infinite-width mean). The curve is test MSE = mean((f*_t − y*)²) at 200 distinct integer steps
log-spaced in [1, t_max] of discrete GD f_{t+1} = f_t − (η/m)Θ(f_t − y).

  closed form: spectral_dynamics(..., discrete=True) (eigendecomposition included) and
               predict_test at all 200 steps at once, then the MSE.
  stepping:    jitted jax loop over the train residual r_t, accumulating S_t = Σ_{s<t} r_s so
               test predictions f*_t = f*_0 − (η/m)Θ(x*,X)·S_t are formed only at the 200
               recorded steps (cheaper than updating the test set every step).
Also timed: the gradient-flow curve from ntkpaper and from nt.predict.gradient_descent_mse.
The default η = 50 is stable (η_crit = 2m/λ_max ≈ 130 here) and 50× Jacot's η = 1, so
t_max = 2000 steps covers what η = 1 reaches at t = 10^5 (time only enters as η·t).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ntkpaper._compat import nt, stax
from ntkpaper.data import datasets
from ntkpaper.kernels import spectral
from ntkpaper.pipeline import keys

N_TRAIN = 1000
N_TIMES = 200


def digits_regression(*, n_train: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) of the workflow's own digits preparation."""
    spec = {"source": "digits", "n_train": n_train, "n_test": 1797 - n_train}
    d = datasets.prepare("digits", spec, key=keys.run_key(seed, "data", "digits"))
    return d["x_train"], d["y_train"], d["x_test"], d["y_test"]


def relu_ntk_fn(*, depth: int = 4, b_std: float = 0.1) -> Callable:
    layers = []
    for _ in range(depth - 1):
        layers += [stax.Dense(512, W_std=1.0, b_std=b_std), stax.Relu()]
    _, _, kernel_fn = stax.serial(*layers, stax.Dense(1, W_std=1.0, b_std=b_std))
    return kernel_fn


def log_spaced_steps(t_max: int, count: int) -> np.ndarray:
    """``count`` distinct integers, log-spaced in [1, t_max] (denser grids until unique)."""
    for oversample in range(count, 50 * count):
        steps = np.unique(np.round(np.geomspace(1, t_max, oversample)).astype(np.int64))
        if steps.size >= count:
            return steps[np.round(np.linspace(0, steps.size - 1, count)).astype(int)]
    raise ValueError(f"t_max = {t_max} has fewer than {count} integers")


def median_time(fn: Callable[[], object], repeats: int) -> tuple[float, list[float], object]:
    """Median wall time of fn() over repeats (after one warm-up call), and its last result."""
    result = jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def closed_form_curve(k_train, k_test, y_train, y_test, steps, *, lr, discrete):
    dynamics = spectral.spectral_dynamics(
        k_train, y_train, lr=lr, k_test_train=k_test, discrete=discrete
    )
    f_test = dynamics.predict_test(steps, 0.0, 0.0)
    return np.mean((f_test - y_test) ** 2, axis=(1, 2))


def nt_flow_curve(k_train, k_test, y_train, y_test, steps, *, lr):
    predict_fn = nt.predict.gradient_descent_mse(k_train, y_train, learning_rate=lr)
    f_test = predict_fn(steps, None, jnp.zeros_like(y_test), k_test)
    return jnp.mean((f_test - y_test) ** 2, axis=(1, 2))


@jax.jit
def _advance(k_train, residual, accumulated, n_steps, step_size):
    def body(_, state):
        r, s = state
        return r - step_size * (k_train @ r), s + r

    return jax.lax.fori_loop(0, n_steps, body, (residual, accumulated))


def stepped_curve(k_train, k_test, y_train, y_test, steps, *, lr):
    """Discrete GD on the kernel dynamics, f_0 = 0: test MSE at each recorded step."""
    step_size = lr / y_train.size
    residual, accumulated = -y_train, jnp.zeros_like(y_train)
    curve, done = [], 0
    for t in steps:
        residual, accumulated = _advance(k_train, residual, accumulated, int(t) - done, step_size)
        done = int(t)
        f_test = -step_size * (k_test @ accumulated)
        curve.append(jnp.mean((f_test - y_test) ** 2))
    return jnp.stack(curve)


def write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(payload, handle, indent=2)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/bench/spectral.json"))
    parser.add_argument("--lr", type=float, default=50.0)
    parser.add_argument("--t-max", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    x_train, y_train, x_test, y_test = digits_regression(n_train=N_TRAIN)
    kernel_fn = relu_ntk_fn()
    start = time.perf_counter()
    k_train = np.asarray(jax.block_until_ready(kernel_fn(x_train, None, "ntk")))
    k_test = np.asarray(jax.block_until_ready(kernel_fn(x_test, x_train, "ntk")))
    kernel_s = time.perf_counter() - start
    assert k_train.dtype == np.float64

    lam = spectral.eigendecompose(k_train).gram_values
    lr_crit = spectral.critical_learning_rate(lam, m=y_train.size)
    if args.lr >= lr_crit:
        raise SystemExit(f"--lr {args.lr} is not stable: η_crit = {lr_crit:.3f}")
    steps = log_spaced_steps(args.t_max, N_TIMES)
    k_train_j, k_test_j = jnp.asarray(k_train), jnp.asarray(k_test)
    y_train_j, y_test_j = jnp.asarray(y_train), jnp.asarray(y_test)

    closed_s, closed_runs, closed = median_time(
        lambda: closed_form_curve(
            k_train, k_test, y_train, y_test, steps, lr=args.lr, discrete=True
        ),
        args.repeats,
    )
    flow_s, flow_runs, flow = median_time(
        lambda: closed_form_curve(
            k_train, k_test, y_train, y_test, steps, lr=args.lr, discrete=False
        ),
        args.repeats,
    )
    nt_s, nt_runs, nt_flow = median_time(
        lambda: nt_flow_curve(k_train_j, k_test_j, y_train_j, y_test_j, steps, lr=args.lr),
        args.repeats,
    )
    step_s, step_runs, stepped = median_time(
        lambda: stepped_curve(k_train_j, k_test_j, y_train_j, y_test_j, steps, lr=args.lr),
        args.repeats,
    )
    stepped, nt_flow = np.asarray(stepped), np.asarray(nt_flow)
    scale = float(np.max(np.abs(stepped)))
    diff_step = float(np.max(np.abs(closed - stepped)))
    diff_nt = float(np.max(np.abs(flow - nt_flow)))
    assert diff_step <= 1e-9 * scale, f"closed form vs stepping differ by {diff_step:.3e}"
    assert diff_nt <= 1e-9 * scale, f"flow vs neural-tangents differ by {diff_nt:.3e}"
    seconds_per_step = step_s / float(steps[-1])

    results = {
        "benchmark": "spectral",
        "setup": {
            "data": "sklearn digits, standardized; targets one-hot minus mean",
            "n_train": N_TRAIN,
            "n_test": len(x_test),
            "out_dim": y_train.shape[1],
            "kernel": "analytic relu NTK, depth 4, W_std 1.0, b_std 0.1, float64",
            "lr": args.lr,
            "lr_crit": lr_crit,
            "lr_times_lambda_max_over_m": args.lr * float(lam[0]) / y_train.size,
            "t_max": int(steps[-1]),
            "n_times": int(steps.size),
            "repeats": args.repeats,
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "jax_backend": jax.default_backend(),
        },
        "seconds": {
            "kernel_train_and_test": kernel_s,
            "closed_form_discrete": closed_s,
            "closed_form_flow": flow_s,
            "nt_gradient_descent_mse_flow": nt_s,
            "stepping_discrete": step_s,
            "stepping_per_step": seconds_per_step,
        },
        "runs": {
            "closed_form_discrete": closed_runs,
            "closed_form_flow": flow_runs,
            "nt_gradient_descent_mse_flow": nt_runs,
            "stepping_discrete": step_runs,
        },
        "ratios": {
            "stepping_over_closed_form": step_s / closed_s,
            "nt_flow_over_closed_form_flow": nt_s / flow_s,
            "break_even_steps": closed_s / seconds_per_step,
        },
        "agreement": {
            "max_abs_diff_closed_vs_stepping": diff_step,
            "max_abs_diff_flow_vs_nt": diff_nt,
            "max_abs_diff_flow_vs_discrete": float(np.max(np.abs(flow - closed))),
            "test_mse_range": [float(np.min(stepped)), float(np.max(stepped))],
        },
    }
    write_json(args.out, results)
    for name, value in results["seconds"].items():
        print(f"{name:32s} {value:10.4f} s")
    for name, value in results["ratios"].items():
        print(f"{name:32s} {value:10.2f}")
    print(f"closed form vs stepping: max |ΔMSE| = {diff_step:.2e}; wrote {args.out}")


if __name__ == "__main__":
    main()
