"""E3's training: full-batch GD with deferred low-rank updates vs updating every step.
Usage: python benchmarks/bench_full_batch.py [--out results/bench/full_batch.json]

Setup (E3, the kernel-convergence study): 16 random points of the unit circle, target
x_1·x_2; the depth-4 ReLU MLP, NTK parameterization, W_std 1, b_std 0.1, float32; full-batch
GD at lr 1.0 for --steps steps, --seeds nets per width.

  ours:        ntkpaper.networks.full_batch_gd (updates kept as factors, folded in every 16 steps).
  alternative: ntkpaper.networks.train.train, i.e. jax.grad and optax.sgd on every weight
  every step.

Warm times are medians of --repeats interleaved calls after one compiling call each; the
ratio is ours / alternative (< 1: ours is faster). Both final parameter sets are compared.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
from pathlib import Path

import jax
import numpy as np

from ntkpaper.data import datasets
from ntkpaper.networks import train
from ntkpaper.networks.finite import init_width
from ntkpaper.networks.full_batch_gd import DEFAULT_FLUSH_EVERY, full_batch_gd
from ntkpaper.networks.models import make_apply
from ntkpaper.pipeline import io, keys
from ntkpaper.statistics.timing import time_call

MODEL = {"depth": 4, "activation": "relu", "parameterization": "ntk", "W_std": 1.0, "b_std": 0.1}


def max_abs_diff(a, b) -> float:
    """Largest entry-wise difference between two parameter pytrees of one structure."""
    return max(
        float(np.max(np.abs(u - v)))
        for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


def bench_width(width: int, args: argparse.Namespace) -> dict:
    key = keys.run_key(0, "bench", "full_batch")
    x = datasets.circle(datasets.random_angles(args.n_train, key=keys.fold(key, "x")))
    y = datasets.circle_target(x)
    spec, params0 = init_width(MODEL, width=width, out_dim=1, in_dim=2, seeds=args.seeds, key=key)
    apply_fn = make_apply(spec)

    def ours():
        return full_batch_gd(spec, params0, x, y, lr=args.lr, steps=args.steps)

    def alternative():
        return train.train(
            apply_fn, params0, x, y, x, y, lr=args.lr, steps=args.steps,
            record_steps=[0, args.steps],
        )[1]  # fmt: skip

    cold = {"ours": time_call(ours)[0], "alternative": time_call(alternative)[0]}
    runs = {"ours": [], "alternative": []}
    for _ in range(args.repeats):  # interleaved, so load changes hit both alike
        seconds, p_ours = time_call(ours)
        runs["ours"].append(seconds)
        seconds, p_alt = time_call(alternative)
        runs["alternative"].append(seconds)
    warm = {name: statistics.median(times) for name, times in runs.items()}
    diff, moved = max_abs_diff(p_ours, p_alt), max_abs_diff(p_alt, params0)
    result = {
        "width": width,
        "seconds_cold": cold,
        "seconds_warm": warm,
        "seconds_warm_runs": runs,
        "ms_per_step_per_net": {k: 1e3 * v / (args.steps * args.seeds) for k, v in warm.items()},
        "ratio_ours_over_alternative": warm["ours"] / warm["alternative"],
        "max_abs_diff_params": diff,
        "max_abs_change_params": moved,
    }
    print(
        f"width {width:5d}: ours {warm['ours']:.2f}s, optax GD {warm['alternative']:.2f}s "
        f"(ratio {result['ratio_ours_over_alternative']:.3f}); params differ by {diff:.1e} "
        f"after moving {moved:.2f}",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/bench/full_batch.json"))
    parser.add_argument("--widths", type=int, nargs="+", default=[1024, 2048, 4096])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--n-train", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    report = {
        "benchmark": "full_batch",
        "setup": {**{k: v for k, v in vars(args).items() if k != "out"}, "model": MODEL,
                  "dtype": "float32", "flush_every": DEFAULT_FLUSH_EVERY},
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                    "jax": jax.__version__, "backend": jax.default_backend()},
        "results": [bench_width(w, args) for w in args.widths],
    }  # fmt: skip
    io.write_json(args.out, report)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
