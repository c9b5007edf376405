"""Kernels beyond memory: the analytic NTK of n up to 20 000 inputs, tiled, and the NTK-GP
prediction at t = ∞ (Cholesky solve), float64, with time, peak memory and fitted exponents.

    python benchmarks/bench_scale.py [--ns 1000 2000 ... 20000] [--block 2048] [--out PATH]
"""

from __future__ import annotations

import argparse
import resource
import time

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from ntkpaper.kernels import analytic as own
from ntkpaper.pipeline import io
from ntkpaper.statistics.fits import loglog_slope


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux: KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ns", type=int, nargs="+", default=[1000, 2000, 4000, 8000, 16000, 20000])
    parser.add_argument("--block", type=int, default=2048, help="tile size: memory bound")
    parser.add_argument("--out", default="results/bench/scale.json")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for n in args.ns:
        x = rng.normal(size=(n, 64))  # distinct inputs: a well-posed kernel at any n
        y = rng.normal(size=(n, 10))
        x_test = rng.normal(size=(100, 64))
        start = time.perf_counter()
        k = np.asarray(
            jax.block_until_ready(
                own.kernels(x, depth=4, block_size=args.block, dtype=jnp.float64).ntk
            )
        )
        k_star = np.asarray(own.kernels(x_test, x, depth=4, block_size=args.block).ntk)
        t_kernel = time.perf_counter() - start
        start = time.perf_counter()
        factor = scipy.linalg.cho_factor(k, overwrite_a=True, check_finite=False)
        mean = k_star @ scipy.linalg.cho_solve(factor, y, check_finite=False)
        t_solve = time.perf_counter() - start
        del k, factor
        rows.append(
            {
                "n": n,
                "kernel_s": t_kernel,
                "solve_s": t_solve,
                "kernel_entries_per_s": n * n / t_kernel,
                "peak_rss_gb": peak_rss_gb(),
                "finite": bool(np.all(np.isfinite(mean))),
            }
        )
        print(
            f"n={n:6d} kernel {t_kernel:7.2f} s  solve {t_solve:7.2f} s  "
            f"peak RSS {rows[-1]['peak_rss_gb']:.2f} GB",
            flush=True,
        )
    ns = np.array([r["n"] for r in rows])
    result = {
        "block": args.block,
        "rows": rows,
        "exponent_kernel": loglog_slope(ns, [r["kernel_s"] for r in rows])[0],
        "exponent_solve": loglog_slope(ns, [r["solve_s"] for r in rows])[0],
        # Fixed overheads flatten the small sizes; the asymptotic growth shows at the top.
        "exponent_kernel_largest_three": loglog_slope(ns[-3:], [r["kernel_s"] for r in rows[-3:]])[
            0
        ],
        "exponent_solve_largest_three": loglog_slope(ns[-3:], [r["solve_s"] for r in rows[-3:]])[0],
    }
    print(
        f"fitted exponents: kernel {result['exponent_kernel']:.2f} (expected 2), "
        f"solve {result['exponent_solve']:.2f} (expected 3)"
    )
    io.write_json(args.out, result)


if __name__ == "__main__":
    main()
