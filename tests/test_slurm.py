"""One instance of the quick workflow through a real SLURM cluster (profiles/slurm), in a
scratch copy of the repository: every job — data, training shards, analysis, figures, the
instance's claims — is an `sbatch` job that SLURM reports COMPLETED, and the claims come out
as with the local run. (One instance, not the whole quick paper: on CI's one-node, two-CPU
cluster the jobs run one at a time, and the whole DAG took seven minutes of CI's fifteen;
every rule it leaves out runs through the same executor code.) CI brings up a single-node
cluster first with `bash .ci/slurm.sh up`; without a reachable cluster the test skips, saying
why (or fails, with NTKPAPER_REQUIRE_SLURM=1, as CI sets)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ntkpaper.pipeline import config, memory

from .conftest import ROOT, copy_repo

pytestmark = pytest.mark.slurm
TIMEOUT_S = 1800  # the instance takes well under a minute locally; queueing and polling add more
TARGET = "results/instances/width_sweep/digits_relu.json"
SUBMITTED = re.compile(r"submitted with SLURM jobid (\d+) \(log: \S*/slurm_logs/rule_(\w+)/")


def cluster_problem() -> str | None:
    """Why the quick workflow cannot run through SLURM here, or None if it can."""
    for tool in ("sinfo", "sbatch", "squeue"):
        if shutil.which(tool) is None:
            return f"`{tool}` not found (no SLURM client; CI runs `bash .ci/slurm.sh up`)"
    try:
        out = subprocess.run(
            ["sinfo", "--noheader", "--Node", "--format=%t"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired:
        return "`sinfo` timed out: slurmctld is not answering"
    if out.returncode:
        why = out.stderr.strip()
        return f"no SLURM cluster answers (`sinfo`: {why}); `bash .ci/slurm.sh up` starts one"
    states = out.stdout.split()
    if not any(s.rstrip("*~#") in ("idle", "mix", "alloc") for s in states):
        return f"no SLURM node is up (node states: {states or 'none'})"
    return None


def sacct_works() -> bool:
    """sacct answers only with accounting storage (slurmdbd); the CI cluster has none."""
    out = subprocess.run(["sacct", "--noheader", "-X"], capture_output=True, timeout=30)
    return out.returncode == 0


def slurm_states(job_ids: list[str], *, use_sacct: bool) -> dict[str, str]:
    """SLURM's own record of each job's final state: sacct, or squeue (which keeps finished
    jobs for MinJobAge seconds; .ci/slurm.sh sets 7200)."""
    if use_sacct:
        cmd = ["sacct", "--noheader", "-X", "--parsable2", "--format=JobIdRaw,State"]
    else:
        cmd = ["squeue", "--noheader", "--states=all", "--format=%i|%T"]
    out = subprocess.run(
        [*cmd, f"--jobs={','.join(job_ids)}"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return dict(line.split("|", 1) for line in out.stdout.split())


def run_until(cmd: list[str], *, cwd: Path, env: dict, timeout: float) -> tuple[int, str]:
    """Run Snakemake; on timeout interrupt it like Ctrl-C (it then scancels its jobs)."""
    with subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
            try:
                output, _ = proc.communicate(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate()
            ids = [m.group(1) for m in SUBMITTED.finditer(output)]
            if ids:  # in case Snakemake could not cancel them itself
                subprocess.run(["scancel", *ids], capture_output=True, timeout=60)
            raise AssertionError(f"timed out after {timeout:.0f} s:\n{output[-5000:]}") from None
    return proc.returncode, output


@pytest.fixture(scope="module")
def slurm_run(tmp_path_factory):
    problem = cluster_problem()
    if problem and os.environ.get("NTKPAPER_REQUIRE_SLURM") == "1":  # CI: never skip silently
        pytest.fail(f"NTKPAPER_REQUIRE_SLURM=1 but {problem}")
    if problem:
        pytest.skip(f"SLURM test skipped: {problem}")
    use_sacct = sacct_works()
    repo = copy_repo(tmp_path_factory.mktemp("slurm_repo"))
    venv_bin = str(Path(sys.executable).parent)
    # Jobs are submitted with --export=ALL: they inherit this PATH and PYTHONPATH, so the
    # job scripts (`<this python> -m snakemake ...`) and the rules' scripts use this venv.
    env = {
        **os.environ,
        "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(repo / "src"),
    }
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        TARGET,  # before --configfile, which takes every word after it as a config file
        "--configfile",
        "experiments/quick.yaml",
        "--profile",
        "profiles/slurm",
        # As the README says for clusters: profiles/default caps the memory of all running
        # jobs together at a laptop's (16 GB); on a cluster SLURM does the bookkeeping.
        "--workflow-profile",
        "none",
        # Poll job states after 5 s instead of 40 s: the quick jobs take seconds.
        "--slurm-init-seconds-before-status-checks",
        "5",
        # Keep every job's SLURM log, so they can be checked below.
        "--slurm-keep-successful-logs",
        "--latency-wait",
        "10",
        "--retries",
        "0",
    ]
    if not use_sacct:
        # No accounting storage (the CI cluster): sacct fails, so ask squeue. The plugin
        # accepts squeue because MinJobAge (7200 s) >= 3 x the 5 s first-poll delay.
        cmd += ["--slurm-status-command", "squeue"]
    started = time.time()
    returncode, output = run_until(cmd, cwd=repo, env=env, timeout=TIMEOUT_S)
    elapsed = time.time() - started
    print(f"one quick instance through SLURM: {elapsed:.0f} s")
    assert returncode == 0, f"snakemake --profile profiles/slurm failed:\n{output[-8000:]}"
    return repo, output, use_sacct


def test_figures_and_claims_exist(slurm_run):
    repo, _, _ = slurm_run
    figures = list((repo / "results/figures/width_sweep/digits_relu").glob("*.pdf"))
    assert figures and all(f.stat().st_size > 1000 for f in figures)
    claims = json.loads((repo / TARGET).read_text())["claims"]  # as results/claims.json
    assert claims and all("outcome" in claim for claim in claims)


def test_every_job_went_through_slurm_and_completed(slurm_run):
    repo, output, use_sacct = slurm_run
    submitted = {m.group(1): m.group(2) for m in SUBMITTED.finditer(output)}
    # Every computing rule ran as a SLURM job; the light ones (the Snakefile's localrules:
    # plots, claims, macros) ran where Snakemake runs, as no sbatch job of their own.
    rules_run = set(re.findall(r"^rule (\w+):", output, flags=re.M))
    local = set(re.findall(r"^localrule (\w+):", output, flags=re.M))
    assert rules_run >= {"prepare_data", "run_width_sweep", "analytic_kernels"}
    assert local >= {"plot_width_sweep", "instance"} and not local & rules_run
    assert set(submitted.values()) == rules_run
    assert "Falling back" not in output  # the status command we chose was used
    states = slurm_states(sorted(submitted), use_sacct=use_sacct)
    not_completed = {
        f"{job_id} ({rule})": states.get(job_id, "unknown to SLURM")
        for job_id, rule in submitted.items()
        if states.get(job_id) != "COMPLETED"
    }
    assert not not_completed, not_completed
    # SLURM wrote a log for each job (kept by --slurm-keep-successful-logs).
    logs = list((repo / ".snakemake/slurm_logs").rglob("*.log"))
    assert {log.stem for log in logs} >= set(submitted)


def allocated_tres(job_id: str, *, use_sacct: bool) -> dict[str, str]:
    """What SLURM allocated to a job, e.g. {'cpu': '2', 'mem': '6000M', 'node': '1'}."""
    if use_sacct:
        cmd = ["sacct", "--noheader", "-X", "--parsable2", "--format=AllocTRES", "-j", job_id]
    else:  # the controller keeps finished jobs for MinJobAge seconds
        cmd = ["scontrol", "show", "job", job_id]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    tres = out.stdout.strip() if use_sacct else re.search(r"\bTRES=(\S+)", out.stdout).group(1)
    return dict(item.split("=", 1) for item in tres.split(","))


def _quick_width_sweep_mb() -> int:
    """The mem_mb the quick config's width sweep jobs declare (ntkpaper.pipeline.memory's estimate;
    the same for each of its small widths)."""
    quick = config.load(ROOT / "experiments/config.yaml", ROOT / "experiments/quick.yaml")
    spec = quick["experiments"]["width_sweep"]["digits_relu"]
    declared = {memory.run_mb("width_sweep", {**spec, "widths": [w]}, quick["datasets"])
                for w in spec["widths"]}  # fmt: skip
    (mb,) = declared
    return mb


@pytest.mark.parametrize(
    ("rule", "cpus", "mem_mb"),
    [("run_width_sweep", 2, _quick_width_sweep_mb()), ("prepare_data", 1, 1000)],
)
def test_slurm_allocated_what_the_rule_declares(slurm_run, rule, cpus, mem_mb):
    """A rule's `threads` and `resources: mem_mb` reach sbatch as CPUs and memory."""
    _, output, use_sacct = slurm_run
    job_id = next(m.group(1) for m in SUBMITTED.finditer(output) if m.group(2) == rule)
    tres = allocated_tres(job_id, use_sacct=use_sacct)
    assert (tres["cpu"], tres["mem"]) == (str(cpus), f"{mem_mb}M"), tres
