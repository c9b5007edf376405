"""Seeds of one width: one vmapped, jitted ensemble vs a Python loop of per-seed jitted runs.
Usage: python benchmarks/bench_ensemble.py [--out results/bench/ensemble.json] [--steps 10]

Setup: digits (ntkpaper.data.datasets.prepare: seeded split, standardized with the training
statistics), n_train = 512, test = the other 1285; targets one-hot minus the class mean 1/K
(out_dim 10); a stax ReLU MLP of depth 4 (3 hidden layers), NTK parameterization,
W_std 1, b_std 0.1, float32; full-batch GD with lr 1.0, records (train and test sets) at
steps 0 and --steps only, so the timing is mostly training.

  ensemble: ntkpaper.networks.train.train on the n_seeds parameter sets stacked (one vmapped run).
  loop:     the same train() once per seed on a 1-seed stack (each run jitted; the compiled
            functions are shared between seeds, as a per-seed script would reuse them).
"Cold" is a first call, compilation included; "warm" is the median of --repeats further
calls, ensemble and loop interleaved. Ratios are loop time / ensemble time (> 1: the
ensemble is faster).
Width 1024 at 500 steps is ~17 TFLOP per mode (~15 min on a shared 2-core machine), so the
default is 10 steps (2 to 4 minutes in all, by load); each width's warm time grows linearly in
--steps, and the per-call overheads the ensemble saves weigh less as --steps grows.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ntkpaper._compat import stax
from ntkpaper.data import datasets
from ntkpaper.networks import train as tr
from ntkpaper.pipeline import keys
from ntkpaper.statistics.timing import time_call

N_TRAIN = 512


def digits_regression(*, n_train: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_test, y_test) of the workflow's own digits preparation."""
    spec = {"source": "digits", "n_train": n_train, "n_test": 1797 - n_train}
    d = datasets.prepare("digits", spec, key=keys.run_key(seed, "data", "digits"))
    return d["x_train"], d["y_train"], d["x_test"], d["y_test"]


def mlp(width: int, depth: int, out_dim: int) -> tuple[Callable, Callable]:
    layers = []
    for _ in range(depth - 1):
        layers += [stax.Dense(width, 1.0, 0.1, parameterization="ntk"), stax.Relu()]
    init_fn, apply_fn, _ = stax.serial(
        *layers, stax.Dense(out_dim, 1.0, 0.1, parameterization="ntk")
    )
    return init_fn, apply_fn


def bench_width(width: int, args: argparse.Namespace, data: tuple[np.ndarray, ...]) -> dict:
    x_train, y_train, x_test, y_test = (np.asarray(a, np.float32) for a in data)
    init_fn, apply_fn = mlp(width, args.depth, y_train.shape[1])
    per_seed = [
        jax.tree.map(lambda a: a.astype(jnp.float32), init_fn(jax.random.key(s), x_train.shape)[1])
        for s in range(args.seeds)
    ]
    stacked = tr.stack_params(per_seed)
    singles = [tr.stack_params([p]) for p in per_seed]
    record_steps = [0, args.steps]

    def run(params):
        rec, final = tr.train(
            apply_fn, params, x_train, y_train, x_test, y_test,
            lr=args.lr, steps=args.steps, record_steps=record_steps,
        )  # fmt: skip
        return rec.train_loss, final

    def ensemble():
        return run(stacked)

    def loop():
        return [run(p) for p in singles]

    # Cold: the ensemble from emptied caches; then the loop, whose 1-seed shapes compile
    # afresh (only shape-independent tracing caches stay warm, which favours the loop).
    tr._build_ensemble_fns_cached.cache_clear()
    jax.clear_caches()
    cold_ensemble, (ens_loss, _) = time_call(ensemble)
    cold_loop, loop_out = time_call(loop)
    loop_loss = np.concatenate([loss for loss, _ in loop_out], axis=1)
    cold = {"ensemble": cold_ensemble, "loop": cold_loop}
    warm_runs = {"ensemble": [], "loop": []}
    for _ in range(args.repeats):  # interleaved, so load changes hit both alike
        warm_runs["ensemble"].append(time_call(ensemble)[0])
        warm_runs["loop"].append(time_call(loop)[0])
    warm = {name: statistics.median(runs) for name, runs in warm_runs.items()}
    n_params = sum(int(np.prod(a.shape)) for a in jax.tree.leaves(per_seed[0]))
    result = {
        "width": width,
        "n_params_per_seed": n_params,
        "seconds_cold": cold,
        "seconds_warm": warm,
        "seconds_warm_runs": warm_runs,
        "ratio_cold_loop_over_ensemble": cold["loop"] / cold["ensemble"],
        "ratio_warm_loop_over_ensemble": warm["loop"] / warm["ensemble"],
        "max_rel_diff_final_train_loss": float(
            np.max(np.abs(ens_loss[-1] - loop_loss[-1]) / np.abs(loop_loss[-1]))
        ),
        "final_train_loss": ens_loss[-1].tolist(),
    }
    print(
        f"width {width:5d}: warm ensemble {warm['ensemble']:.2f}s loop {warm['loop']:.2f}s "
        f"(ratio {result['ratio_warm_loop_over_ensemble']:.2f}); cold ensemble "
        f"{cold['ensemble']:.2f}s loop {cold['loop']:.2f}s "
        f"(ratio {result['ratio_cold_loop_over_ensemble']:.2f})",
        flush=True,
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/bench/ensemble.json"))
    parser.add_argument("--widths", type=int, nargs="+", default=[64, 256, 1024])
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    data = digits_regression(n_train=N_TRAIN)
    results = [bench_width(w, args, data) for w in args.widths]
    report = {
        "benchmark": "ensemble",
        "setup": {**{k: v for k, v in vars(args).items() if k != "out"}, "n_train": N_TRAIN,
                  "n_test": len(data[2]), "dtype": "float32", "optimizer": "full-batch GD"},
        "machine": {"platform": platform.platform(), "cpu_count": os.cpu_count(),
                    "jax": jax.__version__, "backend": jax.default_backend()},
        "results": results,
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, suffix=".json.tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(report, f, indent=2)
    os.replace(tmp, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
