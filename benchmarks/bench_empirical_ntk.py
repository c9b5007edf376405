"""Empirical NTK: ours (layerwise, ntkpaper.networks.empirical) vs neural-tangents
implementations 3, 2, 1.
Usage: python benchmarks/bench_empirical_ntk.py [--out results/bench/empirical_ntk.json]

Setup: K(x, x) for n = 256 digits (sklearn load_digits, first 256 after a seed-0 shuffle,
standardized per pixel, d = 64), a ReLU MLP of depth 4 (3 hidden layers), NTK
parameterization, W_std 1, b_std 0.1, out_dim 1, float32 throughout (x64 is on globally, so
dtypes are explicit). neural-tangents is called as ``empirical_ntk_fn(apply, trace_axes=(-1,),
vmap_axes=0, implementation=i)``, jitted. Every function is compiled ahead of time (AOT), then
the methods of one width are timed interleaved, one call each per round, median over rounds
(≥ --rounds, more for cheap calls, see timed_rounds): the machine is shared, so only same-run
ratios mean anything. A dense 4096×4096 float32 matmul ("dense") and one matmul of the shape
that dominates our work, W (m×m) @ a (m×256) ("mWa"), are timed in --rounds of those rounds;
"our GFLOP/s" counts the matmuls our algorithm must do
(``empirical.ntk_flops``: hidden-layer forward, δ backward, per-layer Gram products; elementwise
work not counted). Implementations 1 and 2 run at widths ≤ 2048 only, once per width (a single
call costs seconds to a minute, next to ours timed just before and after); they are skipped,
with the reason recorded, when their Jacobians would not fit in available memory or the call
is predicted (from the previous width, × width²) to exceed --slow-budget-s. Last section:
ensemble_empirical_ntk, a jax.vmap and a lax.map of empirical_ntk (each one compiled program),
vs a plain Python loop over the seeds.
"""

from __future__ import annotations

import argparse
import json
import math
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
from sklearn.datasets import load_digits

from ntkpaper.networks import empirical, models
from ntkpaper.networks.models import MLPSpec

N_INPUTS = 256
DEPTH = 4
DENSE_SIZE = 4096
# Targets from the issue (ratio = our time / their time, measured in the same run).
TARGET_RATIO_VS_IMPL3 = 0.8
TARGET_SPEEDUP_VS_IMPL1 = 100.0
TARGET_DENSE_FRACTION = 0.5
MAX_ROUNDS = 41
TARGET_ROUND_SECONDS = 3.0  # per width, for the frequent (cheap) methods together


def digits_inputs(n: int) -> np.ndarray:
    x = load_digits().data.astype(np.float64)
    x = x[np.random.default_rng(0).permutation(len(x))[:n]]
    std = x.std(0)
    return ((x - x.mean(0)) / np.where(std > 0, std, 1.0)).astype(np.float32)


def compile_call(fn: Callable, *args) -> tuple[Callable[[], object], float]:
    """AOT-compile fn(*args); return a zero-argument call and the compile time."""
    start = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    return (lambda: compiled(*args)), time.perf_counter() - start


def time_once(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    jax.block_until_ready(call())
    return time.perf_counter() - start


def timed_rounds(
    calls: dict[str, Callable[[], object]],
    *,
    min_rounds: int,
    target_s: float,
    occasional: tuple[str, ...] = (),
) -> dict[str, list[float]]:
    """Interleaved rounds, one call of each method per round, after one untimed warm call.

    Enough rounds that the frequent methods take ~target_s in all (at least min_rounds, at most
    MAX_ROUNDS): cheap calls get many samples, so their medians resist load spikes. The
    ``occasional`` methods (the matmul references) run in min_rounds evenly spread rounds.
    """
    warm = {name: time_once(call) for name, call in calls.items()}
    per_round = sum(t for name, t in warm.items() if name not in occasional)
    rounds = int(min(MAX_ROUNDS, max(min_rounds, math.ceil(target_s / per_round))))
    stride = max(1, rounds // min_rounds)
    times: dict[str, list[float]] = {name: [] for name in calls}
    for round_index in range(rounds):
        for name, call in calls.items():
            if name in occasional and (round_index % stride or len(times[name]) >= min_rounds):
                continue
            times[name].append(time_once(call))
    return times


def available_bytes() -> int:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def bench_width(
    width: int,
    x: jax.Array,
    rounds: int,
    slow_max_width: int,
    slow_budget_s: float,
    slow_history: dict[str, tuple[int, float]],
) -> dict:
    spec = MLPSpec(width=width, depth=DEPTH)
    params = models.init_params(spec, key=jax.random.PRNGKey(width), in_dim=x.shape[1])
    n_params = sum(leaf.size for leaf in jax.tree.leaves(params))
    dense = jnp.asarray(
        np.random.default_rng(1).standard_normal((DENSE_SIZE, DENSE_SIZE)), jnp.float32
    )

    def kernel_ours(p, inputs):
        return empirical.empirical_ntk(spec, p, inputs)

    def nt_fn(implementation: int) -> Callable:
        return lambda p, inputs: empirical.nt_empirical_ntk(spec, p, inputs, None, implementation)

    calls, compile_s = {}, {}
    calls["ours"], compile_s["ours"] = compile_call(kernel_ours, params, x)
    calls["nt_impl3"], compile_s["nt_impl3"] = compile_call(nt_fn(3), params, x)
    calls["dense_matmul"], compile_s["dense_matmul"] = compile_call(lambda a: a @ a, dense)
    # Second reference: one matmul of the shape that dominates our work, W (m×m) @ a (m×n).
    hidden = params["params"]["Dense_1"]["kernel"]
    features = jnp.ones((width, x.shape[0]), jnp.float32)
    calls["shape_matmul"], compile_s["shape_matmul"] = compile_call(
        lambda w, a: w @ a, hidden, features
    )

    ours_kernel = calls["ours"]()
    assert ours_kernel.dtype == jnp.float32
    check = calls["nt_impl3"]()
    max_rel_diff = float(jnp.max(jnp.abs(ours_kernel - check)) / jnp.max(jnp.abs(check)))

    times = timed_rounds(
        calls,
        min_rounds=rounds,
        target_s=TARGET_ROUND_SECONDS,
        occasional=("dense_matmul", "shape_matmul"),
    )
    median = {name: statistics.median(ts) for name, ts in times.items()}

    flops = empirical.ntk_flops(spec, x.shape[1], x.shape[0])
    dense_gflops = 2 * DENSE_SIZE**3 / median["dense_matmul"] / 1e9
    shape_gflops = 2 * width * width * x.shape[0] / median["shape_matmul"] / 1e9
    ours_gflops = flops["total"] / median["ours"] / 1e9
    result = {
        "width": width,
        "n_params": int(n_params),
        "compile_s": compile_s,
        "times_s": times,
        "median_s": median,
        "flops_ours": flops,
        "dense_gflops": dense_gflops,
        "ours_gflops": ours_gflops,
        "ours_fraction_of_dense": ours_gflops / dense_gflops,
        "shape_matmul_gflops": shape_gflops,
        "ours_fraction_of_shape_matmul": ours_gflops / shape_gflops,
        "ratio_ours_over_impl3": median["ours"] / median["nt_impl3"],
        "max_rel_diff_ours_vs_impl3": max_rel_diff,
        "skipped": {},
    }

    # Implementations 1 and 2: one call each (after compiling), at small widths only.
    for implementation in (2, 1):
        name = f"nt_impl{implementation}"
        # Both hold per-layer Jacobians of all n inputs: ~n·n_params float32 at least.
        jacobian_bytes = 4 * x.shape[0] * n_params
        if width > slow_max_width:
            result["skipped"][name] = f"width {width} > --slow-max-width {slow_max_width}"
            continue
        if name in slow_history:
            # Cost ∝ parameters ∝ width² at fixed n (Jacobians of n inputs, then contraction).
            seen_width, seen_s = slow_history[name]
            predicted = seen_s * (width / seen_width) ** 2
            if predicted > slow_budget_s:
                result["skipped"][name] = (
                    f"predicted {predicted:.0f} s (from {seen_s:.1f} s at width {seen_width}, "
                    f"× width²) > --slow-budget-s {slow_budget_s:.0f}"
                )
                continue
        if jacobian_bytes > 0.6 * available_bytes():
            result["skipped"][name] = (
                f"Jacobians ~{jacobian_bytes / 2**30:.1f} GiB > 60% of available memory"
            )
            continue
        call, compile_s[name] = compile_call(nt_fn(implementation), params, x)
        ours_before = time_once(calls["ours"])
        elapsed = time_once(call)
        ours_after = time_once(calls["ours"])
        ours_around = statistics.median([ours_before, ours_after, median["ours"]])
        result["median_s"][name] = elapsed
        slow_history[name] = (width, elapsed)
        result[f"ratio_ours_over_impl{implementation}"] = ours_around / elapsed
        result[f"speedup_vs_impl{implementation}"] = elapsed / ours_around
        del call
    return result


def bench_ensemble(width: int, n_seeds: int, x: jax.Array, rounds: int) -> dict:
    """ensemble_empirical_ntk vs jax.vmap and lax.map of empirical_ntk vs a plain loop over
    pre-sliced seeds (ensemble_empirical_ntk is such a loop, slicing included)."""
    spec = MLPSpec(width=width, depth=DEPTH)
    stacked = models.init_ensemble(
        spec, key=jax.random.PRNGKey(0), in_dim=x.shape[1], n_seeds=n_seeds
    )
    members = [jax.tree.map(lambda a, s=s: a[s], stacked) for s in range(n_seeds)]

    def single(p, inputs):
        return empirical.empirical_ntk(spec, p, inputs)

    def ensemble() -> jax.Array:
        return empirical.ensemble_empirical_ntk(spec, stacked, x)

    vmapped, _ = compile_call(jax.vmap(single, in_axes=(0, None)), stacked, x)
    mapped, _ = compile_call(
        lambda p, inputs: jax.lax.map(lambda q: single(q, inputs), p), stacked, x
    )
    single_compiled = jax.jit(single).lower(members[0], x).compile()

    def loop() -> list:
        return [single_compiled(p, x) for p in members]

    looped = np.stack([np.asarray(k) for k in loop()])
    scale = float(np.max(np.abs(looped)))
    for name, call in (("ensemble", ensemble), ("vmap", vmapped), ("lax_map", mapped)):
        np.testing.assert_allclose(
            np.asarray(call()), looped, rtol=1e-5, atol=1e-5 * scale, err_msg=name
        )
    times = timed_rounds(
        {"ensemble": ensemble, "vmap": vmapped, "lax_map": mapped, "loop": loop},
        min_rounds=rounds,
        target_s=TARGET_ROUND_SECONDS,
    )
    median = {name: statistics.median(ts) for name, ts in times.items()}
    return {
        "width": width,
        "n_seeds": n_seeds,
        "times_s": times,
        "median_s": median,
        "ratio_ensemble_over_loop": median["ensemble"] / median["loop"],
        "ratio_vmap_over_loop": median["vmap"] / median["loop"],
        "ratio_lax_map_over_loop": median["lax_map"] / median["loop"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results/bench/empirical_ntk.json")
    parser.add_argument("--widths", type=int, nargs="+", default=[512, 2048, 8192])
    parser.add_argument("--rounds", type=int, default=5, help="fewest timed rounds per width")
    parser.add_argument(
        "--slow-budget-s",
        type=float,
        default=40.0,
        help="skip an nt implementation 1/2 call predicted to take longer",
    )
    parser.add_argument(
        "--slow-max-width",
        type=int,
        default=2048,
        help="largest width at which nt implementations 1 and 2 run",
    )
    parser.add_argument("--ensemble-width", type=int, default=512)
    parser.add_argument("--ensemble-seeds", type=int, default=8)
    args = parser.parse_args()

    started = time.perf_counter()
    x = jnp.asarray(digits_inputs(N_INPUTS))
    widths: list[dict] = []
    slow_history: dict[str, tuple[int, float]] = {}
    for width in sorted(args.widths):
        rounds = args.rounds if width < 8192 else max(3, args.rounds - 2)
        widths.append(
            bench_width(width, x, rounds, args.slow_max_width, args.slow_budget_s, slow_history)
        )
        print(f"width {width} done ({time.perf_counter() - started:.0f} s)", flush=True)
    ensemble = bench_ensemble(args.ensemble_width, args.ensemble_seeds, x, args.rounds)

    print(
        f"\nEmpirical NTK, depth {DEPTH}, n = {N_INPUTS}, d = {x.shape[1]}, float32 "
        f"(median s; ratio = ours / theirs)"
    )
    header = (
        f"{'width':>6} {'ours':>8} {'impl3':>8} {'ours/i3':>8} {'impl2':>8} {'ours/i2':>8} "
        f"{'impl1':>8} {'i1/ours':>8} {'GFLOP/s':>8} {'dense':>8} {'frac':>6} "
        f"{'mWa':>6} {'frac':>6}"
    )
    print(header)
    for r in widths:
        med = r["median_s"]
        cell = lambda v, fmt="8.4f": format(v, fmt) if v is not None else f"{'-':>8}"  # noqa: E731
        print(
            f"{r['width']:>6} {med['ours']:8.4f} {med['nt_impl3']:8.4f} "
            f"{r['ratio_ours_over_impl3']:8.3f} {cell(med.get('nt_impl2'))} "
            f"{cell(r.get('ratio_ours_over_impl2'), '8.4f')} {cell(med.get('nt_impl1'))} "
            f"{cell(r.get('speedup_vs_impl1'), '8.1f')} {r['ours_gflops']:8.1f} "
            f"{r['dense_gflops']:8.1f} {r['ours_fraction_of_dense']:6.2f} "
            f"{r['shape_matmul_gflops']:6.1f} {r['ours_fraction_of_shape_matmul']:6.2f}"
        )
        for name, reason in r["skipped"].items():
            print(f"       {name} skipped: {reason}")
    med = ensemble["median_s"]
    print(
        f"ensemble width {ensemble['width']}, {ensemble['n_seeds']} seeds: "
        f"ensemble_empirical_ntk {med['ensemble']:.4f} s, jax.vmap {med['vmap']:.4f} s, "
        f"lax.map {med['lax_map']:.4f} s, loop {med['loop']:.4f} s; ratios to the loop: "
        f"ensemble {ensemble['ratio_ensemble_over_loop']:.3f}, "
        f"vmap {ensemble['ratio_vmap_over_loop']:.3f}, "
        f"lax.map {ensemble['ratio_lax_map_over_loop']:.3f}"
    )

    by_width = {r["width"]: r for r in widths}
    checks = {
        f"ours/impl3 <= {TARGET_RATIO_VS_IMPL3} at {w}": by_width[w]["ratio_ours_over_impl3"]
        <= TARGET_RATIO_VS_IMPL3
        for w in by_width
    }
    if "speedup_vs_impl1" in by_width.get(2048, {}):
        checks[f"impl1/ours >= {TARGET_SPEEDUP_VS_IMPL1} at 2048"] = (
            by_width[2048]["speedup_vs_impl1"] >= TARGET_SPEEDUP_VS_IMPL1
        )
    if 8192 in by_width:
        checks[f"ours GFLOP/s >= {TARGET_DENSE_FRACTION} dense at 8192"] = (
            by_width[8192]["ours_fraction_of_dense"] >= TARGET_DENSE_FRACTION
        )
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")

    report = {
        "setup": {
            "n_inputs": N_INPUTS,
            "depth": DEPTH,
            "in_dim": int(x.shape[1]),
            "dtype": "float32",
            "activation": "relu",
            "parameterization": "ntk",
            "data": "digits standardized",
            "dense_matmul_size": DENSE_SIZE,
            "rounds": args.rounds,
            "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "cpu_count": os.cpu_count(),
            "load_average": os.getloadavg(),
            "jax": jax.__version__,
            "platform": platform.platform(),
        },
        "widths": widths,
        "ensemble": ensemble,
        "checks": checks,
        "wall_s": time.perf_counter() - started,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(report, handle, indent=1)
    os.replace(tmp, out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
