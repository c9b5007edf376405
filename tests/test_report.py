"""Numbers become macros, claims are evaluated honestly, the claims file is validated."""

from __future__ import annotations

import math
import os

import pytest

from ntkpaper.paper import macros


def test_flatten_and_macros():
    tex = macros.numbers_to_macros({"k.inst": {"slope": -0.5123, "n": 1000, "a": [1.5, None]}})
    assert r"\csname ntk@k.inst.slope\endcsname{\ensuremath{-0.512}}" in tex
    assert r"\csname ntk@k.inst.n\endcsname{1\,000}" in tex
    assert r"ntk@k.inst.a.0\endcsname{1.50}" in tex
    assert r"ntk@k.inst.a.1\endcsname{\textemdash{}}" in tex


def test_configured_constants_print_as_configured():
    tex = macros.numbers_to_macros(
        {"k.inst": {"config": {"b_std": 0.1, "lr": 20.0, "eps": 0.05, "tol": 1e-10}, "b": 0.1}}
    )
    assert r"ntk@k.inst.config.b_std\endcsname{0.1}" in tex
    assert r"ntk@k.inst.config.lr\endcsname{20}" in tex
    assert r"ntk@k.inst.config.eps\endcsname{0.05}" in tex
    assert r"ntk@k.inst.config.tol\endcsname{\ensuremath{10^{-10}}}" in tex
    assert r"ntk@k.inst.b\endcsname{0.100}" in tex  # measured: three digits


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.000123, r"1.23\times10^{-4}"),
        (123456.0, r"1.23\times10^{5}"),
        (2.0, "2.00"),
        (math.nan, r"\textemdash{}"),
        (True, "yes"),
    ],
)
def test_format_number(value, text):
    assert macros.format_number(value) == text


def test_latex_escape_covers_what_ot1_would_garble():
    assert macros.latex_escape("a<b>c^2_d") == r"a\textless{}b\textgreater{}c\textasciicircum{}2\_d"


def test_scorecard_lists_every_result():
    results = [
        {
            "id": "C/a_b",
            "claim": "C",
            "instance": "a_b",
            "family": "C",
            "primary": True,
            "reason": "why",
            "category": "science",
            "statement": "50% s with $n^{-1/2}$",
            "source": "x",
            "expected_text": "≤ 1",
            "expected": {"max": 1},
            "measured": 0.5,
            "outcome": "holds",
            "holm": None,
            "class": None,
        },
    ]
    tex = macros.scorecard_tex(results)
    assert r"\texttt{C}" in tex and r"a\_\allowbreak b" in tex and "holds" in tex
    assert r"$\star$" in tex and "Margin:} why" in tex
    verdicts = macros.verdicts_tex(results)
    assert r"\newcommand{\claimsheld}{1}" in verdicts and r"{\claimsfailedlist}{none}" in verdicts
    # The prose quotes a claim's bound through \N{claims.C.max}, never typing it.
    assert r"\csname ntk@claims.C.max\endcsname{1}" in verdicts
    # A negative bound prints as a minus sign, in math mode, in running text too.
    negative = macros.verdicts_tex([{**results[0], "expected": {"max": -0.5, "tol": 0.1}}])
    assert r"\csname ntk@claims.C.max\endcsname{\ensuremath{-0.5}}" in negative
    assert r"50\% s with $n^{-1/2}$" in tex and r"\caption{" in tex
    assert tex.index("Scientific claims") < tex.index("C}")


def test_stage_costs_sum_jobs_and_span_the_build(tmp_path):
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    paths = []
    for rule, job, seconds, cpu, rss, end in (
        ("train", "w16", 10.0, 15.0, 300.0, 1000.0),
        ("train", "w64", 20.0, 30.0, 500.0, 1030.0),
        ("plot_cost", "a", 2.0, 1.0, 100.0, 1040.0),
        ("plot_lr_limit", "b", 3.0, 2.0, 150.0, 1035.0),
    ):
        path = tmp_path / rule / f"{job}.tsv"
        path.parent.mkdir(exist_ok=True)
        path.write_text(header + f"{seconds}\t0:00:10\t{rss}\t0\t0\t0\t0\t0\t50\t{cpu}\n")
        os.utime(path, (end, end))
        paths.append(str(path))
    tex = macros.stage_costs_tex(paths)
    train = next(line for line in tex.splitlines() if "{train}" in line)
    assert train.split(" & ")[1:5] == ["2", "30.0", "45.0", "20.0"]
    plots = next(line for line in tex.splitlines() if "{plot}" in line)  # one row for all
    assert plots.split(" & ")[1:5] == ["2", "5.00", "3.00", "3.00"] and "plot_cost" not in tex
    # Jobs overlap: the build spans from the first start (1000 − 10) to the last end (1040).
    elapsed = next(line for line in tex.splitlines() if line.startswith("elapsed"))
    assert "50.0" in elapsed


def test_bench_tex_with_and_without_results():
    assert "make bench" in macros.bench_tex(None, None)
    assert r"\let\ntkbench\relax" in macros.bench_tex(None, None)
    table = {
        "rows": [
            {"what": "empirical NTK (s)", "setting": "width 512", "ours": 0.01, "other": 0.02,
             "ratio": 0.5},
            {"what": "exponent", "setting": "n = 256..4096", "ours": 2.1, "other": 2.2,
             "ratio": None},
        ],
        "scale": {
            "rows": [{"n": 20000, "kernel_s": 100.0, "solve_s": 200.0, "peak_rss_gb": 9.5}],
            "exponent_kernel": 2.0,
            "exponent_solve": 2.9,
        },
    }  # fmt: skip
    meta = {"git": {"commit": "0123456789abcdef", "dirty": False}, "written_at": "2026-11-29T06:00",
            "wall_time_s": 600.0}  # fmt: skip
    tex = macros.bench_tex(table, meta)
    assert "0123456789ab" in tex and "2026-11-29" in tex and "10.0 min" in tex
    assert "$0.500$" in tex and r"\textemdash{}" in tex and "$20\\,000$" in tex
    assert tex.count(r"\begin{tabular}") == 2 == tex.count(r"\end{tabular}")
    assert tex.count("{") == tex.count("}") and r"\def\ntkbench{" in tex
