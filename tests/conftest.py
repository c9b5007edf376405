"""Shared fixtures: the repository root and a scratch copy of it for workflow runs."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

# The tests' programs are tiny, and compiling them is most of the suite's CPU: as in
# quick.yaml, XLA skips its LLVM optimizations (before JAX starts; a user's XLA_FLAGS win).
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")

import ntkpaper._compat  # noqa: F401  (JAX configuration before any test uses JAX)

ROOT = Path(__file__).resolve().parents[1]


def tracked_files(root: Path = ROOT) -> list[str]:
    """Files a clean clone would have: tracked plus untracked-but-not-ignored."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return [f for f in out.stdout.splitlines() if (root / f).is_file()]


def copy_repo(dest: Path) -> Path:
    """A scratch copy of the repository (as a clean clone would see it) for workflow runs."""
    for rel in tracked_files():
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, target)
    return dest


def make_repo(dest: Path) -> tuple[Path, dict[str, str]]:
    """A scratch copy where the README's `make` commands run on the venv running these tests,
    and the environment to run them in. A `make test-fast VENV=… PYTHON=…` above us exports
    its command-line variables (and lists them in MAKEFLAGS): left in, the copy's `make` would
    build a fresh venv for every test."""
    repo = copy_repo(dest)
    (repo / ".venv").symlink_to(sys.prefix)
    flags = os.environ.get("MAKEFLAGS", "").partition(" -- ")[2]
    given = {word.partition("=")[0] for word in shlex.split(flags) if "=" in word}
    drop = given | {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return repo, {**env, "PYTHONPATH": str(repo / "src")}


def relative_error(actual, expected, *, ord=None) -> float:
    """‖actual − expected‖ / ‖expected‖ in float64: Frobenius (``ord=None``) or the largest
    entry of each (``ord=np.inf``). The one relative error every test uses."""
    a, e = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    if ord == np.inf:
        return float(np.max(np.abs(a - e)) / np.max(np.abs(e)))
    return float(np.linalg.norm(a - e) / np.linalg.norm(e))


def through_figure_file(record, plot, path: Path):
    """A figure's data record through its .npz, read back as the record `plot` draws, as
    analyze_study.py writes it and plot.py reads it."""
    from ntkpaper.figures import draw

    cls = draw.data_class(plot)
    assert type(record) is cls, (
        f"analyze gives a {type(record).__name__}, {plot.__name__} reads a {cls.__name__}"
    )
    record.to_npz(path)
    return cls.from_npz(path)


def through_run_file(run, path: Path):
    """A study's Run through its run file, as run_study.py writes and analyze_study.py
    reads it."""
    run.to_npz(path)
    return type(run).from_npz(path)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


# Longest first: `make test` runs two pytest-xdist workers (--dist loadfile) that take test
# files in collection order, alphabetical by default, which left the quick build
# (test_workflow.py, minutes) to start last while the other worker idled at the end.
LONGEST_FIRST = ("test_workflow.py", "test_slurm.py", "test_resume.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: the order within each file is kept
