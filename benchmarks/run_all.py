"""`make bench`: every benchmark, one after another, then one summary table of ratios.

    python benchmarks/run_all.py [--quick] [--table-only]
Each benchmark measures ours and the alternative side by side in one run and writes
results/bench/<name>.json; this script prints and writes results/bench/summary.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ntkpaper.pipeline import io
from ntkpaper.pipeline.blas import safe_environment

BENCHMARKS = {
    "empirical_ntk": ["benchmarks/bench_empirical_ntk.py"],
    "recursion": ["benchmarks/bench_recursion.py"],
    "spectral": ["benchmarks/bench_spectral.py"],
    "ensemble": ["benchmarks/bench_ensemble.py"],
    "full_batch": ["benchmarks/bench_full_batch.py"],
    "scale": ["benchmarks/bench_scale.py"],
}
QUICK_ARGS = {
    "scale": ["--ns", "500", "1000", "2000"],
    "full_batch": ["--widths", "256", "512", "--steps", "8"],
}


def flat(tree, prefix=""):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from flat(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from flat(value, f"{prefix}.{i}")
    else:
        yield prefix, tree


NT_IMPLEMENTATIONS = (3, 2, 1)  # structured derivatives, NTK-vector products, Jacobians


def table_rows(results: dict[str, dict]) -> list[dict]:
    """The rows of the paper's benchmark table: ours beside the alternative, same run."""
    rows = []

    def row(what, setting, ours, other, ratio):
        rows.append(
            {"what": what, "setting": setting, "ours": ours, "other": other, "ratio": ratio}
        )

    emp = results.get("empirical_ntk")
    for r in emp["widths"] if emp else []:
        w, med = r["width"], r["median_s"]
        for impl in NT_IMPLEMENTATIONS:
            if f"nt_impl{impl}" in med:
                row(
                    f"empirical NTK (s) vs nt impl. {impl}",
                    f"width {w}",
                    med["ours"],
                    med[f"nt_impl{impl}"],
                    r[f"ratio_ours_over_impl{impl}"],
                )
        row(
            "empirical NTK GFLOP/s vs matmul",
            f"width {w}",
            r["ours_gflops"],
            r["dense_gflops"],
            r["ours_fraction_of_dense"],
        )
    if emp:
        e = emp["ensemble"]
        row(
            "empirical NTK of seeds (s) vs loop",
            f"width {e['width']}, {e['n_seeds']} seeds",
            e["median_s"]["ensemble"],
            e["median_s"]["loop"],
            e["ratio_ensemble_over_loop"],
        )
    rec = results.get("recursion")
    if rec:
        for timed in (rec["digits"], rec["scaling"][-1]):  # all digits, the largest n
            row(
                "analytic NTK (s) vs nt.stax",
                f"N = {timed['n']}",
                timed["seconds"]["ours"],
                timed["seconds"]["nt"],
                timed["ratio_ours_over_nt"],
            )
        ns = [s["n"] for s in rec["scaling"]]
        exp = rec["loglog_exponent"]
        row(
            "analytic NTK, fitted exponent",
            f"N = {ns[0]}..{ns[-1]}",
            exp["ours"]["all_sizes"],
            exp["nt"]["all_sizes"],
            None,
        )
        untiled, tiled = rec["memory"]
        row(
            "kernel memory, tiled vs not",
            f"N = {tiled['n']}, block {tiled['block_size']}",
            tiled["peak_growth_over_output"],
            untiled["peak_growth_over_output"],
            tiled["peak_growth_over_output"] / untiled["peak_growth_over_output"],
        )
    spec = results.get("spectral")
    if spec:
        sec = spec["seconds"]
        row(
            "error curve (s), closed form vs GD",
            f"{spec['setup']['n_times']} time points",
            sec["closed_form_discrete"],
            sec["stepping_discrete"],
            sec["closed_form_discrete"] / sec["stepping_discrete"],
        )
    ens = results.get("ensemble")
    for r in ens["results"] if ens else []:
        row(
            "training (s), ensemble vs loop",
            f"width {r['width']}",
            r["seconds_warm"]["ensemble"],
            r["seconds_warm"]["loop"],
            1 / r["ratio_warm_loop_over_ensemble"],
        )
    fb = results.get("full_batch")
    for r in fb["results"] if fb else []:
        row(
            "E3 training (s), low-rank vs optax GD",
            f"width {r['width']}",
            r["seconds_warm"]["ours"],
            r["seconds_warm"]["alternative"],
            r["ratio_ours_over_alternative"],
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smallest sizes (a smoke run)")
    parser.add_argument(
        "--table-only",
        action="store_true",
        help="rebuild summary.md and table.json from the JSON files already there",
    )
    args = parser.parse_args()
    out_dir = Path("results/bench")
    lines = ["# Benchmarks (ratios measured side by side in one run)", ""]
    results, started_all = {}, time.time()
    for name, cmd in BENCHMARKS.items():
        extra = QUICK_ARGS.get(name, []) if args.quick else []
        started = time.time()
        print(f"== {name}", flush=True)
        if not args.table_only:
            subprocess.run(
                [sys.executable, *cmd, *extra, "--out", str(out_dir / f"{name}.json")],
                check=True,
                env={**os.environ, **safe_environment()},  # bench_scale's n = 16000 Cholesky
            )
        result = results[name] = json.loads((out_dir / f"{name}.json").read_text())
        ratios = [
            (k, v) for k, v in flat(result) if "ratio" in k or "exponent" in k or "fraction" in k
        ]
        lines += [f"## {name} ({time.time() - started:.0f} s)", ""]
        lines += [
            f"- `{k}`: {v:.3g}" if isinstance(v, float) else f"- `{k}`: {v}" for k, v in ratios
        ] + [""]
    (out_dir / "summary.md").write_text("\n".join(lines))
    print("\n".join(lines))
    # The paper's E11 section includes this table when it exists (rule bench_table).
    table = out_dir / "table.json"
    io.write_json(
        table,
        {"rows": table_rows(results), "scale": results["scale"], "quick": args.quick},
    )
    # A rebuilt table keeps the provenance of the run that measured it.
    if not (args.table_only and io.meta_path(table).exists()):
        started = None if args.table_only else started_all
        io.write_provenance(table, config={"quick": args.quick}, seed=0, started=started)
    print(f"wrote {table}")


if __name__ == "__main__":
    main()
