"""A run killed mid-training resumes through the README's own command: kill `make quick`
(the whole process group) while a width-sweep training job runs, rerun the same command
(no --unlock, no manual step) and get, bit for bit, the numbers and training records of the
same command run without interruption.

A file of its own, apart from tests/test_workflow.py's shared quick build, so that the two
pytest-xdist workers of `make test` (--dist loadfile) build them side by side.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from .conftest import make_repo

pytestmark = pytest.mark.slow

# The smallest sub-DAG that still trains: one data set, its kernels, the width sweep's three
# training jobs and their analysis.
SUB_DAG = "results/numbers/width_sweep/digits_relu.json"
# The README's command for the quick build, on the sub-DAG only; -o: the shared venv's stamp
# counts as current (a copy's newer pins must not reinstall the shared venv from the copy).
MAKE_QUICK = ["make", "-s", "-o", ".venv/.installed", "quick", f"TARGETS={SUB_DAG}", "CORES=2"]


def sub_dag_results(repo: Path) -> dict[str, object]:
    """The sub-DAG's numbers and every training record it wrote, as plain lists."""
    out: dict[str, object] = {"numbers": json.loads((repo / SUB_DAG).read_text())}
    for path in sorted((repo / "results/finite/width_sweep").rglob("*.npz")):
        with np.load(path, allow_pickle=False) as f:
            out[path.name] = {k: f[k].tolist() for k in f.files}
    return out


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict[str, object]:
    repo, env = make_repo(tmp_path_factory.mktemp("uninterrupted") / "repo")
    out = subprocess.run(MAKE_QUICK, cwd=repo, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return sub_dag_results(repo)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_interrupted_run_resumes_to_the_same_numbers(uninterrupted, tmp_path, sig):
    repo, env = make_repo(tmp_path / "repo")
    proc = subprocess.Popen(MAKE_QUICK, cwd=repo, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 300
    # A job's log appears once its script has imported JAX, just before training starts.
    while not list((repo / "results/logs/run_width_sweep").glob("*.log")):
        assert proc.poll() is None, "workflow ended before training started"
        assert time.time() < deadline, "training never started"
        time.sleep(0.2)
    time.sleep(1.0)
    os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        # Snakemake's SIGTERM handler exits gracefully: it waits for the jobs it runs. A job
        # spawned in the same instant as the signal never received it and trains to its end;
        # a user who waits no longer kills, as here.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    runs = list((repo / "results/finite/width_sweep").rglob("*.npz"))
    assert len(runs) < 3, "the kill came after training: nothing was interrupted"
    for path in (repo / "results").rglob("*.npz"):  # nothing half-written where a rule reads
        np.load(path, allow_pickle=False).close()
    out = subprocess.run(MAKE_QUICK, cwd=repo, env=env, capture_output=True,
                         text=True)  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    if sig == signal.SIGKILL:
        assert "removed the lock left by an interrupted run" in out.stderr
    assert sub_dag_results(repo) == uninterrupted
