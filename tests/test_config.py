"""Config validation: every bad value fails before any work, naming the key."""

from __future__ import annotations

import copy

import pytest
import yaml

from ntkpaper import config as cfg

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
