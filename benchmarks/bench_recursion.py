"""Time ntkpaper.kernels.analytic (our NNGP/NTK recursion) against neural-tangents'
analytic kernel_fn.
Usage: python benchmarks/bench_recursion.py [--out results/bench/recursion.json] [--repeats 5]

Both are jitted and run on the same inputs in the same process (timings on a shared machine are
noisy; the ratios are what to read): the 1797 standardized scikit-learn digits at float64,
depth 4, ReLU, W_std 1, b_std 0.1; then n = 256..4096 rows (resampled digits) with a fitted
log-log exponent; then peak memory of the tiled path against the untiled one, each in a fresh
subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.datasets import load_digits

import ntkpaper  # noqa: F401  (x64 and shims before neural_tangents)
from ntkpaper._compat import stax
from ntkpaper.kernels.analytic import kernels

DEPTH, ACTIVATION, W_STD, B_STD = 4, "relu", 1.0, 0.1


def standardized_digits() -> np.ndarray:
    """Digits pixels scaled to zero mean, unit variance per pixel (constant pixels → 0)."""
    x = load_digits().data.astype(np.float64)
    std = x.std(axis=0)
    return (x - x.mean(axis=0)) / np.where(std > 0, std, 1.0)


def ours_fn():
    def run(x):
        return tuple(kernels(x, depth=DEPTH, activation=ACTIVATION, W_std=W_STD, b_std=B_STD))

    return jax.jit(run)


def nt_fn():
    hidden = []
    for _ in range(DEPTH - 1):
        hidden += [stax.Dense(512, W_STD, B_STD, parameterization="ntk"), stax.Relu()]
    _, _, kernel_fn = stax.serial(*hidden, stax.Dense(1, W_STD, B_STD, parameterization="ntk"))

    def run(x):
        out = kernel_fn(x, None, ("nngp", "ntk"))
        return out.nngp, out.ntk

    return jax.jit(run)


def median_seconds(fns: dict, x: jax.Array, repeats: int) -> dict[str, float]:
    """Median wall time per function; calls interleaved so load drifts hit both alike."""
    for fn in fns.values():
        jax.block_until_ready(fn(x))  # compile and warm up
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            jax.block_until_ready(fn(x))
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}


def exact_relu_diagonal(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Σ_L(x, x), Θ_L(x, x) for ReLU in numpy: at ρ = 1, E[σ²] = q/2 and E[σ'²] = 1/2."""
    q = W_STD**2 * np.sum(x * x, axis=1) / x.shape[1] + B_STD**2
    theta = q
    for _ in range(DEPTH - 1):
        q = W_STD**2 * q / 2 + B_STD**2
        theta = theta * W_STD**2 / 2 + q
    return q, theta


def diagonal_errors(kernel, exact) -> float:
    return float(np.max(np.abs(np.diag(np.asarray(kernel)) - exact) / exact))


def relative_differences(ours, reference) -> dict[str, float]:
    ours, reference = np.asarray(ours), np.asarray(reference)
    scale = np.max(np.abs(reference))
    off_diagonal = ~np.eye(len(reference), dtype=bool)
    difference = np.abs(ours - reference)
    return {
        "max_rel_all": float(np.max(difference) / scale),
        "max_rel_off_diagonal": float(np.max(difference[off_diagonal]) / scale),
        "max_rel_diagonal": float(np.max(np.diag(difference)) / scale),
    }


_MEMORY_PROBE = """
import sys, numpy as np, jax
import ntkpaper
from ntkpaper.kernels.analytic import kernels

def status(key):
    return next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith(key))

n, block = int(sys.argv[1]), (None if sys.argv[2] == "none" else int(sys.argv[2]))
x = np.random.default_rng(0).normal(size=(n, 64))
kernels(x[: 2 * (block or 1)], depth=4, block_size=block)  # compile the tile, warm up
before = status("VmRSS:")
open("/proc/self/clear_refs", "w").write("5")  # reset the peak (VmHWM) to the current RSS
out = kernels(x, depth=4, block_size=block)
jax.block_until_ready(out)
print(before, status("VmHWM:"))
"""


def peak_memory(n: int, block_size: int | None) -> dict[str, float]:
    """Peak resident memory growth of one kernels() call, in a fresh process (Linux /proc)."""
    result = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE, str(n), str(block_size or "none")],
        capture_output=True,
        text=True,
        check=True,
    )
    before, after = map(int, result.stdout.split())
    output_bytes = 2 * n * n * 8  # nngp and ntk in float64
    return {
        "n": n,
        "block_size": block_size,
        "peak_growth_bytes": after - before,
        "output_bytes": output_bytes,
        "peak_growth_over_output": (after - before) / output_bytes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/bench/recursion.json"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048, 4096])
    parser.add_argument("--memory-n", type=int, default=4096)
    parser.add_argument("--memory-block", type=int, default=512)
    args = parser.parse_args()

    digits = standardized_digits()
    fns = {"ours": ours_fn(), "nt": nt_fn()}
    x = jnp.asarray(digits)
    seconds = median_seconds(fns, x, args.repeats)
    ours_out, nt_out = fns["ours"](x), fns["nt"](x)
    n = len(digits)
    exact_diagonal = exact_relu_diagonal(digits)
    digits_result = {
        "n": n,
        "n0": digits.shape[1],
        "seconds": seconds,
        "ratio_ours_over_nt": seconds["ours"] / seconds["nt"],
        "ns_per_entry": {name: 1e9 * t / n**2 for name, t in seconds.items()},
        "nngp": relative_differences(ours_out[0], nt_out[0]),
        "ntk": relative_differences(ours_out[1], nt_out[1]),
        # Which diagonal is right: max relative error against the exact scalar recursion.
        "diagonal_vs_exact": {
            f"{impl}_{name}": diagonal_errors(out[i], exact_diagonal[i])
            for impl, out in (("ours", ours_out), ("nt", nt_out))
            for i, name in enumerate(("nngp", "ntk"))
        },
    }
    print(json.dumps(digits_result, indent=2))

    rng = np.random.default_rng(0)
    scaling = []
    for size in args.sizes:
        rows = rng.choice(n, size=size, replace=size > n)
        timing = median_seconds(fns, jnp.asarray(digits[rows]), max(2, args.repeats // 2))
        scaling.append(
            {"n": size, "seconds": timing, "ratio_ours_over_nt": timing["ours"] / timing["nt"]}
        )
        print(f"n={size}: ours {timing['ours']:.4f} s, nt {timing['nt']:.4f} s")
    log_n = np.log([s["n"] for s in scaling])
    exponents = {}
    for name in fns:
        log_t = np.log([s["seconds"][name] for s in scaling])
        exponents[name] = {
            "all_sizes": float(np.polyfit(log_n, log_t, 1)[0]),
            # The smallest sizes are dominated by fixed overheads, not the n² work.
            "largest_three": float(np.polyfit(log_n[-3:], log_t[-3:], 1)[0]),
        }

    memory = [peak_memory(args.memory_n, None), peak_memory(args.memory_n, args.memory_block)]
    for m in memory:
        print(
            f"memory n={m['n']} block={m['block_size']}: peak growth / output "
            f"{m['peak_growth_over_output']:.2f}"
        )

    result = {
        "settings": {
            "depth": DEPTH,
            "activation": ACTIVATION,
            "W_std": W_STD,
            "b_std": B_STD,
            "dtype": "float64",
            "repeats": args.repeats,
            "cpu_count": os.cpu_count(),
            "jax": jax.__version__,
        },
        "digits": digits_result,
        "scaling": scaling,
        "loglog_exponent": exponents,
        "memory": memory,
        "peak_rss_bytes_this_process": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    print(json.dumps({"ratio": digits_result["ratio_ours_over_nt"], "exponents": exponents}))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=args.out.parent, suffix=".tmp", delete=False) as f:
        json.dump(result, f, indent=2)
    os.replace(f.name, args.out)


if __name__ == "__main__":
    main()
