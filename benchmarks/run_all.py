"""`make bench`: every benchmark, one after another, then one summary table of ratios.

    python benchmarks/run_all.py [--quick]
Each benchmark measures ours and the alternative side by side in one run and writes
results/bench/<name>.json; this script prints and writes results/bench/summary.md.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

BENCHMARKS = {
    "empirical_ntk": ["benchmarks/bench_empirical_ntk.py"],
    "recursion": ["benchmarks/bench_recursion.py"],
    "spectral": ["benchmarks/bench_spectral.py"],
    "ensemble": ["benchmarks/bench_ensemble.py"],
    "scale": ["benchmarks/bench_scale.py"],
}
QUICK_ARGS = {"scale": ["--ns", "500", "1000", "2000"]}


def flat(tree, prefix=""):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from flat(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from flat(value, f"{prefix}.{i}")
    else:
        yield prefix, tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smallest sizes (a smoke run)")
    args = parser.parse_args()
    out_dir = Path("results/bench")
    lines = ["# Benchmarks (ratios measured side by side in one run)", ""]
    for name, cmd in BENCHMARKS.items():
        extra = QUICK_ARGS.get(name, []) if args.quick else []
        started = time.time()
        print(f"== {name}", flush=True)
        subprocess.run(
            [sys.executable, *cmd, *extra, "--out", str(out_dir / f"{name}.json")], check=True
        )
        result = json.loads((out_dir / f"{name}.json").read_text())
        ratios = [
            (k, v) for k, v in flat(result) if "ratio" in k or "exponent" in k or "fraction" in k
        ]
        lines += [f"## {name} ({time.time() - started:.0f} s)", ""]
        lines += [
            f"- `{k}`: {v:.3g}" if isinstance(v, float) else f"- `{k}`: {v}" for k, v in ratios
        ] + [""]
    (out_dir / "summary.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
