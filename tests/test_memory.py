"""The memory estimate (ntkpaper.pipeline.memory): how it grows with the config, and that it bounds
the peak of real run jobs."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import yaml

from ntkpaper.pipeline import config as cfg
from ntkpaper.pipeline import memory
from ntkpaper.pipeline.workflow import study_kind, study_kinds

from .conftest import ROOT

BASE = cfg.load(ROOT / "experiments/config.yaml")
QUICK = cfg.load(ROOT / "experiments/config.yaml", ROOT / "experiments/quick.yaml")
KINDS = {name: study_kind(name) for name in study_kinds()}


def sweep(width=64, seeds=2, depth=3, n_train=64, n_test=64, source="digits"):
    datasets = {"d": {"source": source, "n_train": n_train, "n_test": n_test}}
    spec = {"data": "d", "model": {"depth": depth}, "widths": [width], "seeds": seeds,
            "train_subset": 64}  # fmt: skip
    return memory.run_estimate("width_sweep", spec, datasets) - memory.BASELINE_MB


def test_estimate_grows_with_width_seeds_and_points():
    # hidden-to-hidden weights: width² per net (activations grow like width), times seeds
    assert 3.5 < sweep(width=8192) / sweep(width=4096) < 4
    assert sweep(width=65536) / sweep(width=32768) == pytest.approx(4, rel=0.02)
    assert 1.9 < sweep(width=4096, seeds=4) / sweep(width=4096, seeds=2) <= 2  # one NTK at a time
    assert sweep(width=4096, depth=4) > 1.8 * sweep(width=4096, depth=3)  # 2 width² layers
    # the full empirical NTK on every point: more test points, more memory
    assert sweep(n_test=797) > sweep(n_test=64)
    # kernels: the n² term of the data set's kernels
    spec = BASE["experiments"]["eigendecay"]["digits_relu"]
    small = {"digits": {**BASE["datasets"]["digits"], "n_train": 300, "n_test": 100}}
    big = {"digits": {**BASE["datasets"]["digits"], "n_train": 1000, "n_test": 797}}
    grown = memory.run_estimate("eigendecay", spec, big) - memory.run_estimate(
        "eigendecay", spec, small
    )
    entries = 4 * (1797**2 - 400**2) * 8 * memory.KERNEL_COPIES / memory.MB
    assert grown == pytest.approx(entries, rel=0.01)


# (config, its largest measured peak, the most any of its jobs may declare): the quick grid's
# jobs peak at 0.3-0.6 GB; the full grid's largest is E3's width-10 000 nets (2.9 GB
# measured), which must fit under profiles/default's 20 GB cap.
@pytest.mark.parametrize(("config", "peak", "high"), [(QUICK, 600, 2000), (BASE, 2900, 20000)])
def test_every_configured_job_declares_an_estimate(config, peak, high):
    """Each shard its own, above the baseline, the largest above its measured peak."""
    declared = {}
    for kind, entries in config["experiments"].items():
        for name, spec in entries.items():
            for shard in KINDS[kind].shards(spec):
                one = KINDS[kind].shard_spec(spec, shard)
                declared[kind, name, shard] = memory.run_mb(kind, one, config["datasets"])
    assert memory.BASELINE_MB <= min(declared.values()), declared
    assert peak <= max(declared.values()) <= high, declared
    widths = [v for (kind, _, _), v in declared.items() if kind == "width_sweep"]
    assert config is QUICK or len(set(widths)) > 1  # per width


def test_refusal_names_key_file_estimate_and_limit():
    config = copy.deepcopy(BASE)
    config["experiments"]["width_sweep"]["digits_relu"]["widths"] = [64, 65536]
    config["experiments"]["width_sweep"]["digits_relu"]["model"]["depth"] = 3
    files = [("experiments/config.yaml", {}), ("mine.yaml", {"experiments": {"width_sweep": {
        "digits_relu": {"widths": [64, 65536]}}}})]  # fmt: skip
    memory.check(BASE, KINDS, 20000, "the cap", files)  # the paper's grid fits
    with pytest.raises(cfg.ConfigError) as err:
        memory.check(config, KINDS, 20000, "the cap", files)
    message = str(err.value)
    assert "'experiments.width_sweep.digits_relu.widths' (set in mine.yaml)" in message
    assert "widths-65536 needs an estimated" in message and "20000 MB of the cap" in message
    assert "\n" not in message


def test_machine_memory_can_be_overridden(monkeypatch):
    monkeypatch.delenv("NTKPAPER_MEM_MB", raising=False)
    assert memory.machine_mb() > 500
    monkeypatch.setenv("NTKPAPER_MEM_MB", "123456")
    assert memory.machine_mb() == 123456


# Peak RSS of real width-sweep run jobs (2 shared cores, circle data: 8 train / 4 test
# points, 8 steps), measured 2026-12-01, against the estimate:
#   width  depth seeds   measured   estimate
#      16      3     2     278 MB     600 MB   (baseline: imports + compiled programs)
#    4096      3     2     739 MB    1631 MB
#    4096      3     4    1250 MB    2661 MB   (parameters dominate: 67 M of them)
#    8192      3     1    1388 MB    2656 MB   (48 s: not in the test)
# and on digits (64 train / 64 test points, 10 outputs): width 64/depth 4/2 seeds 333 MB
# (est. 642), 2048/4/2 586 MB (1271), 512/3/8 491 MB (863). The estimate is about twice
# the peak where the parameters dominate (PARAM_COPIES = 8 counts copies that XLA frees or
# reuses), and ~2x at the baseline: a declared bound, so the test wants estimate ≥ peak
# and estimate ≤ 2.5 × peak.
SIZES = [(16, 3, 2), (4096, 3, 2), (4096, 3, 4)]


@pytest.fixture(scope="module")
def circle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("memory")
    params = folder / "data.yaml"
    params.write_text(yaml.safe_dump({"name": "circle", "seed": 0, "spec": {
        "source": "circle", "n_train": 8, "n_test": 4, "label_noise": 0}}))  # fmt: skip
    subprocess.run([sys.executable, str(ROOT / "workflow/scripts/prepare_data.py"),
                    "--params", str(params), "--output", f"data={folder / 'circle.npz'}",
                    f"numbers={folder / 'circle.json'}"],
                   check=True, capture_output=True)  # fmt: skip
    return folder


def peak_mb(folder, kind, spec) -> float:
    """Peak RSS of one run job in a child process (the child's own maximum)."""
    params = folder / "p.yaml"
    params.write_text(
        yaml.safe_dump({"kind": kind, "spec": spec, "seed": 0, "run_id": [kind, "t"]})
    )
    code = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
        "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )  # a fresh parent per job: RUSAGE_CHILDREN is the maximum over all children so far
    out = subprocess.run([sys.executable, "-c", code, sys.executable,
                          str(ROOT / "workflow/scripts/run_study.py"), "--params", str(params),
                          "--input", f"data={folder / 'circle.npz'}",
                          "--output", f"run={folder / 'run.npz'}"],
                         check=True, capture_output=True, text=True, timeout=300)  # fmt: skip
    return int(out.stdout.split()[-1]) / 1024  # ru_maxrss is in KiB on Linux


@pytest.mark.slow
@pytest.mark.parametrize(("width", "depth", "seeds"), SIZES)
def test_estimate_bounds_measured_peak(circle, width, depth, seeds):
    spec = {"data": "circle", "model": {**BASE["experiments"]["width_sweep"]["digits_relu"][
        "model"], "depth": depth}, "widths": [width], "seeds": seeds, "lr_ratio": 0.5,
        "steps": 8, "min_steps": 4, "records": 4, "train_subset": 8}  # fmt: skip
    datasets = {"circle": {"source": "circle", "n_train": 8, "n_test": 4}}
    estimate = memory.run_estimate("width_sweep", spec, datasets)
    measured = peak_mb(circle, "width_sweep", spec)
    print(f"width {width} depth {depth} seeds {seeds}: peak {measured:.0f} MB, "
          f"estimate {estimate:.0f} MB")  # fmt: skip
    assert measured <= estimate <= 2.5 * measured


def test_a_kind_without_a_sizing_function_is_refused_naming_its_file(monkeypatch):
    import types

    declared = types.ModuleType("ntkpaper.studies.nomem.kind")
    monkeypatch.setitem(sys.modules, declared.__name__, declared)
    with pytest.raises(cfg.ConfigError, match=r"'nomem' has no memory estimate.*nomem/kind\.py"):
        memory.sizing("nomem")
