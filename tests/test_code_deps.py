"""Code dependencies are derived from imports, and each kind of job imports only what it
uses: compute never imports matplotlib, figures and reports never import JAX, and importing
ntkpaper has no side effects. (The edits that prove the rules rerun exactly the right jobs
are in test_workflow.py, on a finished quick build.)"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from ntkpaper.pipeline import config, workflow

from .conftest import ROOT

SRC = ROOT / "src/ntkpaper"
HEAVY_COMPUTE = re.compile(r"^\s*(import|from) (jax|flax|optax|neural_tangents)\b", re.M)
MATPLOTLIB = re.compile(r"^\s*(import|from) matplotlib\b", re.M)


def closure(script: str, *modules: str) -> set[str]:
    return set(workflow.code_inputs(f"workflow/scripts/{script}", *modules))


def test_closure_follows_imports_transitively():
    files = closure("analytic_kernels.py")
    # the script imports kernels.gram, which imports kernels.analytic (our recursion) and
    # networks.models; with their packages' __init__ files
    for name in ("kernels/gram", "kernels/analytic", "networks/models", "_compat",
                 "pipeline/io", "pipeline/cli", "__init__", "kernels/__init__"):  # fmt: skip
        assert f"src/ntkpaper/{name}.py" in files, name
    for name in ("figures/plotting", "kernels/predict", "networks/train", "paper/macros"):
        assert f"src/ntkpaper/{name}.py" not in files, name


def test_runtime_imports_join_the_closure_with_their_packages():
    files = closure("run_study.py", "ntkpaper.studies.lr_limit.compute")
    assert {
        "src/ntkpaper/studies/__init__.py",
        "src/ntkpaper/studies/lr_limit/__init__.py",
        "src/ntkpaper/studies/lr_limit/compute.py",
    } <= files
    assert "src/ntkpaper/studies/eigendecay/compute.py" not in files


def test_relative_imports_are_followed(tmp_path):
    pkg = tmp_path / "src/ntkpaper"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub/__init__.py").write_text("from . import a\n")
    (pkg / "sub/a.py").write_text("from ..b import thing\n")
    (pkg / "b.py").write_text("thing = 1\n")
    script = tmp_path / "script.py"
    script.write_text("def f():\n    from ntkpaper.sub import a\n")
    files = workflow.code_inputs(script, src=tmp_path / "src")
    assert {"src/ntkpaper/__init__.py", "src/ntkpaper/sub/__init__.py", "src/ntkpaper/sub/a.py",
            "src/ntkpaper/b.py"} == set(files)  # fmt: skip


def test_rules_list_no_library_file_by_hand():
    for smk in (ROOT / "workflow/rules").glob("*.smk"):
        assert "src/ntkpaper" not in smk.read_text(), smk.name


@pytest.mark.parametrize("kind", workflow.study_kinds())
def test_figure_jobs_never_run_compute_code(kind):
    study = workflow.study_kind(kind)
    if not study.figures:
        return
    for path in closure("plot.py", f"ntkpaper.studies.{kind}.figures"):
        assert not HEAVY_COMPUTE.search((ROOT / path).read_text()), path


@pytest.mark.parametrize("script", ["make_macros.py", "evaluate_claims.py", "build_info.py",
                                    "stage_costs.py", "bench_table.py"])  # fmt: skip
def test_report_jobs_never_run_compute_or_plotting_code(script):
    for path in closure(script):
        text = (ROOT / path).read_text()
        assert not HEAVY_COMPUTE.search(text) and not MATPLOTLIB.search(text), path


@pytest.mark.parametrize("kind", workflow.study_kinds())
def test_compute_jobs_never_import_matplotlib(kind):
    for script in ("run_study.py", "analyze_study.py"):
        for path in closure(script, f"ntkpaper.studies.{kind}.compute"):
            assert not MATPLOTLIB.search((ROOT / path).read_text()), path


def test_only_figure_modules_and_plotting_import_matplotlib():
    importers = {
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if MATPLOTLIB.search(p.read_text())
    }
    assert importers
    assert all(p.startswith("figures/") or p.endswith("/figures.py") for p in importers)


def test_imports_have_no_side_effects_and_stay_in_their_lane():
    """Run in fresh interpreters: what each kind of job actually loads."""
    kinds = workflow.study_kinds()
    figures = [f"ntkpaper.studies.{k}.figures" for k in kinds if workflow.study_kind(k).figures]
    figure_data = [f.replace(".figures", ".figure_data") for f in figures]
    probe = (
        "import sys, importlib\n"
        "for m in sys.argv[2:]: importlib.import_module(m)\n"
        "bad = [m for m in sys.argv[1].split(',') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    cases = [
        ("jax,matplotlib,neural_tangents", ["ntkpaper", *figure_data]),
        ("jax,neural_tangents,numpy", [f"ntkpaper.studies.{k}.kind" for k in kinds]),
        ("jax,neural_tangents", ["ntkpaper.pipeline.config", "ntkpaper.paper.macros",
                                 "ntkpaper.pipeline.workflow", "ntkpaper.pipeline.memory",
                                 "ntkpaper.pipeline.cli", "ntkpaper.pipeline.io",
                                 "ntkpaper.figures.plotting", *figures]),
        ("matplotlib", [f"ntkpaper.studies.{k}.compute" for k in kinds]),
    ]  # fmt: skip
    for banned, modules in cases:
        out = subprocess.run([sys.executable, "-c", probe, banned, *modules],
                             capture_output=True, text=True)  # fmt: skip
        assert out.returncode == 0, out.stderr[-2000:]


def test_every_kind_is_in_the_schema_and_declares_known_settings():
    schema = config.load_schema()
    assert set(workflow.study_kinds()) == set(schema["properties"]["experiments"]["properties"])
    for kind in workflow.study_kinds():
        study = workflow.study_kind(kind)  # raises on an unknown WORKFLOW key
        assert set(study.run_inputs) | set(study.analyze_inputs) <= {"data", "kernels"}
        if study.shard_by:
            assert study.shard_by in schema["$defs"][kind]["properties"]


def test_shards_narrow_the_sharded_list():
    study = workflow.StudyKind(name="k", shard_by="widths")
    spec = {"widths": [16, 64], "seeds": 2}
    assert study.shards(spec) == ["widths-16", "widths-64"]
    assert study.shard_spec(spec, "widths-64") == {"widths": [64], "seeds": 2}
    with pytest.raises(ValueError, match="no shard 'widths-32'; expected one of widths-16"):
        study.shard_spec(spec, "widths-32")
    assert workflow.StudyKind(name="k").shards(spec) == ["all"]
