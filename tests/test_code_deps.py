"""Code dependencies are derived from imports, and each kind of job imports only what it
uses: compute never imports matplotlib, figures and reports never import JAX, and importing
ntkpaper has no side effects. (The edits that prove the rules rerun exactly the right jobs
are in test_workflow.py, on a finished quick build.)"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from ntkpaper import workflow

from .conftest import ROOT

SRC = ROOT / "src/ntkpaper"
HEAVY_COMPUTE = re.compile(r"^\s*(import|from) (jax|flax|optax|neural_tangents)\b", re.M)
MATPLOTLIB = re.compile(r"^\s*(import|from) matplotlib\b", re.M)


def closure(script: str, *modules: str) -> set[str]:
    return set(workflow.code_inputs(f"workflow/scripts/{script}", *modules))


def test_closure_follows_imports_transitively():
    files = closure("analytic_kernels.py")
    # the script imports infinite, which imports kernels (our recursion) and models
    for name in ("infinite", "kernels", "models", "_compat", "io", "cli", "__init__"):
        assert f"src/ntkpaper/{name}.py" in files, name
    for name in ("plotting", "predict", "train", "report"):
        assert f"src/ntkpaper/{name}.py" not in files, name


def test_runtime_imports_join_the_closure_with_their_packages():
    files = closure("run_study.py", "ntkpaper.studies.lr_limit")
    assert {"src/ntkpaper/studies/__init__.py", "src/ntkpaper/studies/lr_limit.py"} <= files
    assert "src/ntkpaper/studies/eigendecay.py" not in files


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
    for path in closure("plot.py", f"ntkpaper.figures.{kind}"):
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
        for path in closure(script, f"ntkpaper.studies.{kind}"):
            assert not MATPLOTLIB.search((ROOT / path).read_text()), path


def test_only_figure_modules_and_plotting_import_matplotlib():
    importers = {
        str(p.relative_to(SRC)) for p in SRC.rglob("*.py") if MATPLOTLIB.search(p.read_text())
    }
    assert importers and all(p == "plotting.py" or p.startswith("figures/") for p in importers)


def test_imports_have_no_side_effects_and_stay_in_their_lane():
    """Run in fresh interpreters: what each kind of job actually loads."""
    figures = [f"ntkpaper.figures.{p.stem}" for p in SRC.glob("figures/[!_]*.py")]
    probe = (
        "import sys, importlib\n"
        "for m in sys.argv[2:]: importlib.import_module(m)\n"
        "bad = [m for m in sys.argv[1].split(',') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    cases = [
        ("jax,matplotlib,neural_tangents", ["ntkpaper"]),
        ("jax,neural_tangents", ["ntkpaper.config", "ntkpaper.report", "ntkpaper.workflow",
                                 "ntkpaper.cli", "ntkpaper.io", *figures]),
        ("matplotlib", [f"ntkpaper.studies.{k}" for k in workflow.study_kinds()]),
    ]  # fmt: skip
    for banned, modules in cases:
        out = subprocess.run([sys.executable, "-c", probe, banned, *modules],
                             capture_output=True, text=True)  # fmt: skip
        assert out.returncode == 0, out.stderr[-2000:]


def test_every_kind_is_in_the_schema_and_declares_known_settings():
    schema = yaml.safe_load((ROOT / "experiments/config.schema.yaml").read_text())
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
