"""Bad input, named: every mistake fails before any work with one message naming the key
or the file and what was expected. The table runs through `config.validate` (what the
Snakefile calls first); a few cases also run through the real `snakemake` command in a
scratch copy, which must exit non-zero and write nothing under results/."""

from __future__ import annotations

import copy
import gzip
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import yaml

from ntkpaper.pipeline import config as cfg

from .conftest import ROOT, copy_repo, make_repo
from .test_data import write_idx

BASE = cfg.load(ROOT / "experiments/config.yaml")
WS = ("experiments", "width_sweep", "digits_relu")


def mutate(path: tuple, value=None, *, delete: bool = False):
    def apply(config):
        node = config
        for key in path[:-1]:
            node = node[key]
        if delete:
            del node[path[-1]]
        else:
            node[path[-1]] = value
        return config

    return apply


CASES = {
    "zero width": (mutate((*WS, "widths"), [0, 16]), r"widths\[0\]': 0 is less than the minimum of 1"),
    "negative width": (mutate((*WS, "widths"), [16, -4]), r"widths\[1\]': -4 is less than"),
    "non-integer width": (mutate((*WS, "widths"), [16.5]), r"widths\[0\]': 16.5 is not of type 'integer'"),
    "depth 0": (mutate((*WS, "model", "depth"), 0), r"model.depth': 0 is less than the minimum of 1"),
    "unknown activation": (mutate((*WS, "model", "activation"), "relu6"),
                           r"activation': 'relu6' is not allowed; expected one of relu, erf, tanh"),
    "unknown parameterization": (mutate((*WS, "model", "parameterization"), "mup"),
                                 r"parameterization': 'mup' is not allowed; expected one of ntk, standard"),
    "unknown data source": (mutate(("datasets", "digits", "source"), "cifar"),
                            r"datasets.digits.source': 'cifar' is not allowed; expected one of digits"),
    "zero learning rate": (mutate((*WS, "lr_ratio"), 0), r"lr_ratio': 0 is less than or equal to the minimum of 0"),
    "negative learning rate": (mutate((*WS, "lr_ratio"), -1.0), r"lr_ratio': -1.0 is less than or equal"),
    "string learning rate": (mutate((*WS, "lr_ratio"), "fast"), r"lr_ratio': 'fast' is not of type 'number'"),
    "empty seed list": (mutate((*WS, "seeds"), []), r"seeds': \[\] is not of type 'integer'"),
    "zero seeds": (mutate((*WS, "seeds"), 0), r"seeds': 0 is less than the minimum of 1"),
    "duplicate widths": (mutate((*WS, "widths"), [16, 16]), r"widths': \[16, 16\] has non-unique elements"),
    "empty width list": (mutate((*WS, "widths"), []), r"widths': \[\] should be non-empty"),
    "train size too large": (mutate(("datasets", "digits", "n_train"), 1700),
                             r"datasets.digits': n_train \+ n_test = 2497 exceeds the 1797"),
    "label noise above 1": (mutate(("datasets", "digits_noisy", "label_noise"), 1.5),
                            r"label_noise': 1.5 is greater than the maximum of 1"),
    "label noise below 0": (mutate(("datasets", "digits_noisy", "label_noise"), -0.1),
                            r"label_noise': -0.1 is less than the minimum of 0"),
    "typo at top level": (mutate(("sed",), 0), r"config key 'sed' is unknown; allowed keys: datasets, experiments, seed"),
    "typo in a data set": (mutate(("datasets", "digits", "n_trian"), 5), r"'datasets.digits.n_trian' is unknown"),
    "typo in a model": (mutate((*WS, "model", "activaton"), "relu"), r"'experiments.width_sweep.digits_relu.model.activaton' is unknown"),
    "typo in an experiment kind": (mutate(("experiments", "width_swep"), {}), r"'experiments.width_swep' is unknown"),
    "undefined data set": (mutate((*WS, "data"), "cifar10"), r"data': dataset 'cifar10' is not defined"),
    "missing required key": (mutate((*WS, "steps"), delete=True), r"'steps' is a required property"),
    # beyond the schema: grids and ranges in order, sizes inside the population
    "widths out of order": (mutate((*WS, "widths"), [128, 64]), r"widths': expected increasing values, got \[128, 64\]"),
    "lr grid ends swapped": (mutate(("experiments", "lr_limit", "digits_relu_depth2", "lr_grid"), {"lo": 4, "hi": 1, "per_octave": 3}),
                             r"lr_limit.digits_relu_depth2.lr_grid': expected lo < hi, got lo = 4, hi = 1"),
    "fit range reversed": (mutate(("experiments", "learning_curves", "circle_relu", "fit_sizes"), [128, 16]),
                           r"circle_relu.fit_sizes': expected \[lo, hi\] with lo < hi"),
    "learning-curve size beyond the population": (mutate(("experiments", "learning_curves", "digits_relu", "sizes"), [8, 16, 5000]),
                                                  r"digits_relu.sizes': \[5000\] not below the population of 'digits' \(n_train \+ n_test = 1797\)"),
    "mode size the whole population": (mutate(("experiments", "learning_curves", "digits_relu", "mode_size"), 1797),
                                       r"mode_size': \[1797\] not below the population"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(CASES))
def test_bad_config_is_named(name):
    change, message = CASES[name]
    with pytest.raises(cfg.ConfigError, match=message) as err:
        cfg.validate(change(copy.deepcopy(BASE)))
    assert "\n" not in str(err.value)  # one line


@pytest.fixture
def idx_config(tmp_path):
    """A config with an MNIST-style IDX data set in a folder the test controls."""
    images = np.random.default_rng(0).integers(0, 256, size=(40, 4, 4), dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.arange(40, dtype=np.uint8) % 10)
    config = copy.deepcopy(BASE)
    config["datasets"]["mnist"] = {"source": "idx", "path": str(tmp_path), "n_train": 20,
                                   "n_test": 10}  # fmt: skip
    return config, tmp_path


def test_good_idx_config_passes(idx_config):
    cfg.validate(idx_config[0])


def cut_gzip(folder):
    """The images as a gzip file cut short (as an interrupted download leaves it)."""
    plain = folder / "train-images-idx3-ubyte"
    (folder / f"{plain.name}.gz").write_bytes(gzip.compress(plain.read_bytes())[:150])
    plain.unlink()


IDX_CASES = {
    "missing IDX file": (lambda d: (d / "train-labels-idx1-ubyte").unlink(), r"does not exist"),
    "truncated IDX file": (
        lambda d: (d / "train-images-idx3-ubyte").write_bytes(
            (d / "train-images-idx3-ubyte").read_bytes()[:-5]),
        r"train-images-idx3-ubyte: header promises shape \(40, 4, 4\).*truncated",
    ),
    "wrong magic number": (
        lambda d: (d / "train-images-idx3-ubyte").write_bytes(
            b"\x1f\x8b" + (d / "train-images-idx3-ubyte").read_bytes()[2:]),
        r"train-images-idx3-ubyte: bad magic number",
    ),
    "images and labels disagree": (
        lambda d: write_idx(d / "train-labels-idx1-ubyte", np.zeros(39, np.uint8)),
        r"40 images but 39 labels",
    ),
    "gzip file cut in half": (cut_gzip, r"train-images-idx3-ubyte.gz .*truncated or corrupt"),
    "missing IDX folder": (lambda d: [p.unlink() for p in d.iterdir()] and d.rmdir(),
                           r"IDX folder .* does not exist"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(IDX_CASES))
def test_bad_idx_data_is_named(idx_config, name):
    config, folder = idx_config
    corrupt, message = IDX_CASES[name]
    corrupt(folder)
    with pytest.raises(cfg.ConfigError, match=f"datasets.mnist.path': .*{message}"):
        cfg.validate(config)


# Validation reads the IDX headers only (it runs at every Snakemake start); the data's values
# are checked when the data-preparation job reads them.
VALUE_CASES = {
    "NaN in the inputs": (np.where(np.eye(4)[None] > 0, np.nan, 1.0).repeat(40, 0), 0x0D,
                          r"data set mnist: 160 non-finite input values"),
    "infinite inputs": (np.full((40, 4, 4), np.inf), 0x0E, r"non-finite input values"),
}  # fmt: skip


@pytest.mark.parametrize("name", list(VALUE_CASES))
def test_bad_idx_values_are_named_when_the_data_is_prepared(idx_config, name):
    from ntkpaper.data import datasets
    from ntkpaper.pipeline import keys

    config, folder = idx_config
    values, type_code, message = VALUE_CASES[name]
    write_idx(folder / "train-images-idx3-ubyte", values, type_code)
    cfg.validate(config)  # headers and sizes are fine
    with pytest.raises(datasets.DataError, match=message):
        datasets.prepare("mnist", config["datasets"]["mnist"], key=keys.run_key(0, "data"))


def test_unwritable_results_folder_is_named(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(cfg.ConfigError, match="is a file"):
        cfg.check_writable(tmp_path / "afile" / "results")
    with pytest.raises(cfg.ConfigError, match="not writable"):
        cfg.check_writable("/proc/ntkpaper-results")
    cfg.check_writable(tmp_path / "new" / "results")
    assert not (tmp_path / "new").exists()  # checking writes nothing


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"experiments": {"width_sweep": {"digits_relu": {"lr_ratio": "fast"}}}}, "lr_ratio': 'fast'"),
        ({"datasets": {"digits": {"n_trian": 5}}}, "datasets.digits.n_trian' is unknown"),
        ({"datasets": {"mnist": {"source": "idx", "path": "/nonexistent", "n_train": 5}}},
         "IDX folder /nonexistent does not exist"),
    ],
)  # fmt: skip
def test_snakemake_fails_before_any_job_and_writes_nothing(tmp_path, override, message):
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(override))
    out, repo = snakemake_in_copy(tmp_path, "--configfile", str(tmp_path / "bad.yaml"))
    assert out.returncode != 0
    assert message in out.stderr and "ConfigError" in out.stderr
    assert nothing_written(repo)


def snakemake_in_copy(tmp_path, *args):
    repo = copy_repo(tmp_path / "repo")
    env = {**os.environ, "PYTHONPATH": str(repo / "src")}
    out = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", *args], cwd=repo,
                         capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
    return out, repo


def nothing_written(repo) -> bool:
    return not (repo / "results").exists() or not any((repo / "results").rglob("*"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("experiments:\n  width_sweep:\n    digits_relu:\n      seeds: 2\n      seeds: 4\n",
         r"bad.yaml, line 5: key 'seeds' given twice \(first on line 4\)"),
        # (the learning curves draw from all of digits: their sizes stay below its 1000 points)
        ("datasets:\n  digits: {n_test: 0}\n"
         "experiments:\n  learning_curves:\n    digits_relu: {sizes: [8, 64, 512]}\n",
         r"experiments.(early_stopping.digits_noisy_relu|width_sweep.digits_relu|learning_curves.digits_relu).data': .* has none"),
    ],
    ids=["duplicate-key", "no-test-points"],
)  # fmt: skip
def test_strict_config_refusals_through_snakemake(tmp_path, text, message):
    (tmp_path / "bad.yaml").write_text(text)
    out, repo = snakemake_in_copy(tmp_path, "--configfile", str(tmp_path / "bad.yaml"))
    assert out.returncode != 0 and "ConfigError" in out.stderr
    assert re.search(message, out.stderr), out.stderr[-2000:]
    assert nothing_written(repo)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("results/figures/width_sweep/nosuch/lazy.pdf",
         "no instance 'nosuch' of kind 'width_sweep' in the config; configured: digits_relu"),
        ("results/figures/width_sweep/digits_relu/nosuch.pdf",
         "width_sweep has no figure 'nosuch'; its figures: lazy, linearization, generalization"),
        ("results/figures/nokind/x/lazy.pdf", "no study kind 'nokind'; kinds: conv_ntk, cost,"),
        ("results/instances/width_sweep/nosuch.json", "no instance 'nosuch' of kind"),
    ],
    ids=["instance", "figure", "kind", "instance-target"],
)  # fmt: skip
def test_unknown_targets_say_what_exists(tmp_path, target, message):
    """One line, before the DAG is built: no exception wrapped in Snakemake's traceback."""
    out, repo = snakemake_in_copy(tmp_path, target)
    assert out.returncode == 2 and f"TargetError: {target}: {message}" in out.stderr
    assert "Traceback" not in out.stderr + out.stdout and "Building DAG" not in out.stderr
    assert nothing_written(repo)


@pytest.mark.parametrize(
    ("text", "returncode", "message"),
    [
        ("experiments:\n  width_sweep: {digits_relu: {seeds: 2}\n", 1,
         r"ConfigError: config file \S*mine.yaml, line 3, column 1: not valid YAML"),
        ("experiments:\n  width_sweep:\n    digits_relu:\n      seeds: 2\n      seeds: 4\n", 1,
         r"ConfigError: config file \S*mine.yaml, line 5: key 'seeds' given twice"),
        ("# nothing here yet\n", 0, r"--configfile experiments/quick.yaml\n"),
    ],
    ids=["syntax", "duplicate-key", "empty-is-a-no-op"],
)  # fmt: skip
def test_make_reads_overlays_strictly_before_snakemake(tmp_path, text, returncode, message):
    """Snakemake's own loader refuses these with a message that names no file (or, for an
    empty file, refuses a no-op): `make` reads the overlays first (ntkpaper.pipeline.config)."""
    repo, env = make_repo(tmp_path / "repo")
    (tmp_path / "mine.yaml").write_text(text)
    # -o: the shared venv's stamp counts as current (a copy's newer pins must not reinstall it)
    out = subprocess.run(["make", "-s", "-o", ".venv/.installed", "quick",
                          f"CONFIG={tmp_path / 'mine.yaml'}", "TARGETS=--dry-run", "CORES=2"],
                         cwd=repo, capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert out.returncode == (0 if returncode == 0 else 2), out.stdout[-2000:] + out.stderr
    assert re.search(message, out.stderr), out.stderr[-2000:]
    assert nothing_written(repo)


def test_config_files_are_read_strictly(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("datasets:\n  digits: {n_train: 5\n")
    with pytest.raises(cfg.ConfigError, match=r"bad.yaml, line 3, column 1: not valid YAML"):
        cfg.read_config_file(bad)
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    assert cfg.read_config_file(tmp_path / "empty.yaml") == {}
    assert cfg.load(ROOT / "experiments/config.yaml", tmp_path / "empty.yaml") == BASE


def test_job_too_big_for_memory_is_refused_through_snakemake(tmp_path):
    """A width-65536, depth-3 sweep (issue 17: it died with XLA's out-of-memory traceback
    after prepare_data had run): refused before any job, naming the file, the key, the
    estimate (ntkpaper.pipeline.memory) and the limit."""
    (tmp_path / "big.yaml").write_text(
        "experiments:\n  width_sweep:\n    digits_relu: {widths: [64, 65536], model: {depth: 3}}\n"
    )
    out, repo = snakemake_in_copy(tmp_path, "--configfile", str(tmp_path / "big.yaml"))
    assert out.returncode == 2, out.stderr[-2000:]
    assert re.search(
        r"ConfigError: config key 'experiments.width_sweep.digits_relu.widths' \(set in "
        r"\S*big.yaml\): the run job of width_sweep 'digits_relu' at widths-65536 needs an "
        r"estimated \d+ MB, more than the \d+ MB of .*; use fewer seeds, smaller widths",
        out.stderr,
    ), out.stderr[-2000:]
    assert nothing_written(repo)
