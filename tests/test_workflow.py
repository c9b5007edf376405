"""The quick workflow end to end, in a scratch copy of the repository (as a clean clone):
the PDF exists, every claim is evaluated, the paper has no undefined reference, number or
verdict, a second run does no work, and single figures build on their own."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ntkpaper.figures import check as figure_check
from ntkpaper.paper import html_report
from ntkpaper.pipeline import workflow

from .conftest import ROOT, copy_repo

# One quick build serves every test here: `make test` runs two pytest-xdist workers with
# --dist loadfile, so the whole module stays on one worker and the session fixture builds once.
pytestmark = pytest.mark.slow
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--cores", "2"]
QUICK = ["--configfile", "experiments/quick.yaml"]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def snakemake(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd / "src")}
    out = subprocess.run([*SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True, env=env)
    if check and out.returncode:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    started = time.time()
    snakemake(repo, *QUICK)
    print(f"quick workflow: {time.time() - started:.0f} s")
    return repo


def test_pdf_and_claims_exist(quick_run):
    assert (quick_run / "results/paper/ntk.pdf").stat().st_size > 50_000
    written = json.loads((quick_run / "results/claims.json").read_text())
    claims = written["claims"]
    assert claims, "no claim was evaluated"
    keys = {"id", "family", "primary", "experiment", "statement", "source", "expected", "reason",
            "measured", "outcome", "class"}  # fmt: skip
    for claim in claims:
        assert keys <= set(claim) and claim["outcome"] in ("holds", "fails", "inconclusive", "n/a")
    science = [c for c in claims if c["category"] == "science"]
    assert written["counts"]["science"]["total"] == len(science)
    assert sum(written["counts"]["science"][o] for o in ("holds", "fails", "inconclusive",
                                                          "n/a")) == len(science)  # fmt: skip


def test_every_declared_claim_is_in_the_scorecard(quick_run):
    declared = {c["id"] for c in yaml.safe_load((ROOT / "experiments/claims.yaml").read_text())}
    evaluated = {
        c["claim"] for c in json.loads((quick_run / "results/claims.json").read_text())["claims"]
    }
    assert declared == evaluated
    scorecard = (quick_run / "results/paper/scorecard.tex").read_text()
    for claim_id in declared:
        assert f"\\texttt{{{claim_id}}}\\newline" in scorecard  # the id, its instance below


def test_latex_log_has_no_undefined_reference_citation_number_or_verdict(quick_run):
    log = (quick_run / "results/paper/build/ntk.log").read_text(errors="replace")
    for pattern in ("undefined", "Undefined number", "Undefined verdict", "Citation .* undefined"):
        assert not re.search(pattern, log), f"LaTeX log matches {pattern!r}"


def test_every_included_figure_is_produced_by_the_workflow(quick_run):
    included = set()
    for tex in (ROOT / "paper").rglob("*.tex"):
        included |= set(re.findall(r"\\figpath\{([^}]*)\}", tex.read_text()))
    assert included
    for figure in included:
        assert (quick_run / "results/figures" / figure).exists(), figure
        assert (quick_run / "results/figures" / figure).with_suffix(".npz").exists(), figure


def test_every_figure_of_the_build_passes_the_figure_check(quick_run):
    """plotting.save checked every figure as the build drew it (<figure>.check.json)."""
    checks = figure_check.read_checks(quick_run / "results/figures")
    assert checks
    bad = {k: v for k, v in checks.items() if v}
    assert not bad, "\n".join(f"{k}: {v}" for k, v in bad.items())


def test_every_caption_describes_the_panels_its_figure_draws(quick_run):
    """A caption names exactly the panels ("(a)", "(b)", ...) its figure files draw, as
    recorded by plotting.save in each <figure>.check.json."""
    figures = html_report.paper_figures(ROOT / "paper/ntk.tex")
    assert figures
    for f in figures:
        drawn = set()
        for target in f.targets:
            sidecar = figure_check.check_path(quick_run / "results/figures" / f"{target}.pdf")
            drawn |= set(json.loads(sidecar.read_text())["panels"])
        described = html_report.caption_panels(f, figures)
        assert described == drawn, (
            f"Figure {f.number} {f.targets}: caption {sorted(described)}, drawn {sorted(drawn)}"
        )


def test_no_result_is_typed_into_the_text():
    """Numbers in prose come from \\N{} macros; only small integers in the method text
    (depths, section counts), citations' years and quotations of a source may be typed."""
    for tex in (ROOT / "paper/sections").glob("*.tex"):
        text = re.sub(
            r"\\(N|V|cref|Cref|citep|citet|label|ref|figpath)\{[^}]*\}", "", tex.read_text()
        )
        text = re.sub(r"\\includegraphics\[[^]]*\]", "", text)
        text = re.sub(r"\\begin\{verbatim\}.*?\\end\{verbatim\}", "", text, flags=re.S)
        # A source's own words, quoted (``learning rate 1.0''), are not our results.
        text = re.sub(r"``.*?''", "", text, flags=re.S)
        decimals = re.findall(r"(?<![\w.])\d+\.\d+", text)
        assert not decimals, f"{tex.name}: typed decimals {decimals}"


# How a document was made is not its science: no earlier or later builds, no sessions, no
# tools used to write it, no promises. The reproducibility appendix describes the software
# the reader runs, which these phrases never need.
PROCESS_WORDS = re.compile(
    r"\b(earlier|previous|last|next|later|future|coming)\s+(build|version|session|draft)s?\b"
    r"|\bsessions?\b|\blook-?up\s+tool|\bsearch\s+tool|\btext\s+search|\bpromised?\b"
    r"|\bTODO\b|\bto\s+be\s+(added|done)\b|\b(could|did)\s+not\s+(check|verify|find\s+out)\b"
    r"|\blanguage\s+model|\bchatbot|\bLLM\b",
    re.IGNORECASE,
)


def _process_phrases(text: str) -> list[str]:
    return [m.group(0) for m in PROCESS_WORDS.finditer(text)]


def test_the_process_check_catches_what_it_should():
    assert _process_phrases("an earlier build gave one verdict; the next build adds a table")
    assert _process_phrases("what the look-up tool could not check") == [
        "look-up tool", "could not check"]  # fmt: skip
    assert _process_phrases("we could\nnot check it with our text search") == [
        "could\nnot check", "text search"]  # fmt: skip
    assert not _process_phrases("the build prepares only the data sets some instance uses")


def test_the_paper_never_speaks_of_how_it_was_made(quick_run):
    """Neither the hand-written sections nor the text the build generates (scorecard,
    verdicts, stage costs) speak of how the document was produced."""
    written = [*(ROOT / "paper").rglob("*.tex")]
    generated = [*(quick_run / "results/paper").glob("*.tex")]
    assert written and generated
    for tex in written + generated:
        found = _process_phrases(tex.read_text())
        assert not found, f"{tex.name}: {found}"


def test_provenance_sidecars(quick_run):
    meta = json.loads((quick_run / "results/data/digits.npz.meta.json").read_text())
    assert meta["packages"]["jax"] == "0.5.3" and meta["jax_enable_x64"] is True
    assert "commit" in meta["git"] and meta["config"]["source"] == "digits"


def test_second_run_does_no_work(quick_run):
    out = snakemake(quick_run, *QUICK, "--dry-run")
    assert "Nothing to be done" in out.stdout + out.stderr


def test_a_figure_rebuilds_on_its_own(quick_run):
    figure = quick_run / "results/figures/width_sweep/digits_relu/lazy.pdf"
    figure.unlink()
    # The target goes before --configfile, which would take it for one more config file.
    out = snakemake(quick_run, str(figure.relative_to(quick_run)), *QUICK)
    assert figure.exists()
    assert "run_width_sweep" not in out.stdout + out.stderr  # redrawing never retrains


def jobs_after_editing(repo: Path, relpath: str) -> set[str]:
    """The jobs Snakemake would run after a real edit of one file (a comment appended; a bare
    touch proves nothing, since an input whose checksum did not change is skipped), by rule
    name; the file and its mtime are restored after."""
    path = repo / relpath
    text, stat = path.read_bytes(), path.stat()
    try:
        path.write_bytes(text + b"\n# an edit\n")
        out = snakemake(repo, "--dry-run", "--rerun-triggers", "mtime", *QUICK)
    finally:
        path.write_bytes(text)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    jobs, rule = set(), None
    for line in out.stdout.splitlines():
        if m := re.match(r"^(?:local)?rule (\w+):$", line):
            rule = m[1]
            jobs.add(rule)
    return jobs


PAPER = {"paper", "all"}  # the PDF, and the default target that names it
REPORT = {"macros", "claims", "stage_costs"}  # read every numbers file
STAGE_COSTS = {"stage_costs"}  # waits for every figure, to report every job's cost
# every kind with a figures module (derived, as the rules derive it)
FIGURE_KINDS = tuple(k for k in workflow.study_kinds() if workflow.study_kind(k).figures)
PLOTS = {f"plot_{kind}" for kind in FIGURE_KINDS}


def stage(kind: str) -> set[str]:
    return {f"run_{kind}", f"analyze_{kind}"} | ({f"plot_{kind}"} & PLOTS)


@pytest.mark.parametrize(
    ("edited", "expected"),
    [
        # Our recursion: the kernels, every study that computes kernels itself, and what reads
        # them; never the width-sweep training, the learning-rate or optimizer studies.
        (
            "src/ntkpaper/kernels/analytic.py",
            {"analytic_kernels", *stage("recursion_check"), *stage("cost"),
             *stage("kernel_convergence"), *stage("gp_prediction"), *stage("eigendecay"),
             *stage("early_stopping"), *stage("learning_curves"), *stage("conv_ntk"),
             "analyze_width_sweep", "plot_width_sweep",
             *REPORT, *PAPER},
        ),
        # Restyling a figure redraws that kind's figures: no run, no analysis.
        ("src/ntkpaper/studies/eigendecay/figures.py", {"plot_eigendecay", *STAGE_COSTS, *PAPER}),
        ("src/ntkpaper/figures/plotting.py", {*PLOTS, *STAGE_COSTS, *PAPER}),
        # One kind's compute module: that kind only.
        ("src/ntkpaper/studies/lr_limit/compute.py", {*stage("lr_limit"), *REPORT, *PAPER}),
        # Atomic writes and provenance: every script writes through io, so every job.
        (
            "src/ntkpaper/pipeline/io.py",
            {"prepare_data", "analytic_kernels", "build_info", "bench_table", *REPORT, *PAPER,
             *(job for kind in (*FIGURE_KINDS, "recursion_check") for job in stage(kind))},
        ),
    ],
    ids=["kernels", "one-figures-module", "plotting", "one-compute-module", "io"],
)  # fmt: skip
def test_an_edit_reruns_exactly_what_runs_the_file(quick_run, edited, expected):
    assert jobs_after_editing(quick_run, edited) == expected


def test_full_config_dag_lists_every_stage():
    # --forceall: list every stage even when results/ of a finished build is up to date.
    out = snakemake(
        ROOT, "--dry-run", "--forceall", "--quiet", "rules", "--directory", str(ROOT), check=False
    )
    env_out = out.stdout + out.stderr
    assert out.returncode == 0, env_out
    for rule in ("prepare_data", "run_width_sweep", "analytic_kernels", "paper"):
        assert rule in env_out


def test_invalid_config_fails_fast_naming_the_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("experiments:\n  width_sweep:\n    digits_relu:\n      widths: [0, 16]\n")
    out = snakemake(ROOT, "--dry-run", "--configfile", str(bad), check=False)
    assert out.returncode != 0
    assert "experiments.width_sweep.digits_relu.widths[0]" in out.stderr
    assert "Building DAG" not in out.stdout + out.stderr  # refused before any job is planned


def test_html_report_has_every_figure_with_its_caption_and_claims(quick_run):
    """make report's two steps (its texts, then Snakemake's report): every figure is in the
    report with the paper's caption and its instance's claims, and the front page holds the
    scorecard and the stage costs."""
    snakemake(quick_run, "results/report/texts", *QUICK)  # targets first: see the README
    snakemake(quick_run, *QUICK, "--report", "results/report.html")
    html = (quick_run / "results/report.html").read_text(errors="replace")
    texts = quick_run / "results/report/texts"
    for figure in (quick_run / "results/figures").rglob("*.pdf"):
        assert figure.name in html, figure
        text = (texts / figure.relative_to(quick_run / "results/figures")).with_suffix(".rst")
        assert text.read_text().strip(), text
    caption = (texts / "width_sweep/digits_relu/linearization.rst").read_text()
    assert (
        caption.startswith("**Figure 2**") and "Claims about ``width_sweep/digits_relu``" in caption
    )
    assert "??" not in caption  # every number and verdict filled in
    for needle in ("Linearization (E2)", "E2-cost", "Scorecard", "Stage costs"):
        assert needle in html, needle
    assert "Lazy training and linearization" in html
    browser = next(filter(None, map(shutil.which, BROWSERS)), None)
    if browser is None and os.environ.get("NTKPAPER_REQUIRE_BROWSER"):
        pytest.fail(f"NTKPAPER_REQUIRE_BROWSER is set but none of {BROWSERS} is installed")
    if browser is None:
        pytest.skip(
            f"no headless browser ({', '.join(BROWSERS)}): Debian's chromium; CI installs it"
        )
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=30000",
         "--dump-dom", (quick_run / "results/report.html").as_uri()],
        capture_output=True, text=True, timeout=180,
    ).stdout  # fmt: skip
    assert "Lazy training and linearization" in dom, dom[-2000:]  # the app ran and drew its menu
