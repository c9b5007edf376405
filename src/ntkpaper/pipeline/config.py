"""Load and validate the experiment config before any work starts.

The config (experiments/config.yaml, optionally overridden by experiments/quick.yaml) holds
named experiment instances per study kind, e.g. ``width_sweep: {digits_relu: {...}}``. The
JSON schema (experiments/config.schema.yaml, joined with each kind's
``studies/<kind>/schema.yaml`` by `load_schema`) fixes types, ranges and allowed values and
rejects unknown keys at every level; `check_references` adds the checks a schema cannot
express (a dataset named by an experiment exists, a train size fits the data, and what each
kind's ``kind.py`` checks). Every error
is one line naming the key path and what was expected.
"""

from __future__ import annotations

import copy
import itertools
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "experiments" / "config.schema.yaml"

# Samples each built-in source offers (idx files are checked when they are read).
SOURCE_SIZES = {"digits": 1797, "mnist": 5000}


class ConfigError(ValueError):
    """A config value is missing, unknown or out of range; the message names the key."""


def key_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"


def _describe(error: jsonschema.ValidationError) -> str:
    where = key_path(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        hint = f"allowed keys: {', '.join(allowed)}" if allowed else "no keys allowed here"
        return f"config key '{key_path([*error.absolute_path, extra[0]])}' is unknown; {hint}"
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"config key '{where}': {error.instance!r} is not allowed; expected one of {allowed}"
    if error.validator == "required":
        return f"config key '{where}': {error.message}"
    if error.validator == "oneOf" and "description" in error.schema:
        expected = error.schema["description"]
        return f"config key '{where}': {error.instance!r} is not valid; expected {expected}"
    return f"config key '{where}': {error.message}"


def load_schema(schema_path: Path = SCHEMA_PATH) -> dict[str, Any]:
    """The config's JSON schema: experiments/config.schema.yaml (the top level, data sets,
    models), joined with each study kind's ``studies/<kind>/schema.yaml`` as ``$defs.<kind>``
    and as the allowed key ``experiments.<kind>`` (a map of named instances); the kinds are
    `workflow.study_kinds`, so a kind without its schema file is refused, naming the file."""
    from ntkpaper.pipeline.workflow import PACKAGE, SRC, study_kinds

    schema = yaml.safe_load(Path(schema_path).read_text())
    kinds = schema["properties"]["experiments"]["properties"] = {}
    for kind in study_kinds():
        path = SRC / PACKAGE / "studies" / kind / "schema.yaml"
        if not path.is_file():
            raise ConfigError(f"study kind {kind!r} has no spec: write {path}")
        schema["$defs"][kind] = yaml.safe_load(path.read_text())
        kinds[kind] = {
            "$ref": "#/$defs/instances",
            "additionalProperties": {"$ref": f"#/$defs/{kind}"},
        }
    return schema


def validate(config: Mapping[str, Any], schema_path: Path = SCHEMA_PATH) -> dict[str, Any]:
    """Validate against the schema and cross-references; return the config with defaults."""
    schema = load_schema(schema_path)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(config), key=lambda e: (len(e.absolute_path), e.path))
    if errors:
        raise ConfigError(_describe(jsonschema.exceptions.best_match(errors)))
    config = with_defaults(config, schema)
    check_references(config)
    return config


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    """A schema with its local "$ref" ("#/$defs/name") merged in; sibling keys still apply."""
    if "$ref" not in schema:
        return schema
    target: Any = root
    for part in schema["$ref"].removeprefix("#/").split("/"):
        target = target[part]
    return {**_resolve(target, root), **{k: v for k, v in schema.items() if k != "$ref"}}


def with_defaults(instance: Any, schema: Mapping[str, Any], root: Mapping | None = None) -> Any:
    """A copy of a (valid) instance with every missing key that has a schema `default` filled
    in, recursively: the schema is the one home of the defaults, so code reads ``spec[key]``."""
    root = root or schema
    schema = _resolve(schema, root)
    if not isinstance(instance, Mapping):
        return copy.deepcopy(instance)
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties")
    out = {}
    for key, value in instance.items():
        sub = properties.get(key, extra if isinstance(extra, Mapping) else None)
        out[key] = with_defaults(value, sub, root) if sub else copy.deepcopy(value)
    for key, sub in properties.items():
        default = _resolve(sub, root).get("default")
        if key not in out and default is not None:
            out[key] = with_defaults(default, sub, root)
    return out


def arch_id(model: Mapping[str, Any]) -> str:
    """A readable, unique name for a validated `model:` block (kernels are cached per data
    set × architecture); every field is present once the schema's defaults are applied."""
    return (
        f"{model['activation']}-L{model['depth']}-{model['parameterization']}"
        f"-W{model['W_std']:g}-b{model['b_std']:g}"
    )


def check_references(config: Mapping[str, Any]) -> None:
    datasets = config.get("datasets", {})
    for name, spec in datasets.items():
        size = SOURCE_SIZES.get(spec["source"])
        need = spec["n_train"] + spec.get("n_test", 0)
        if size is not None and need > size:
            raise ConfigError(
                f"config key 'datasets.{name}': n_train + n_test = {need} exceeds the "
                f"{size} samples of source '{spec['source']}'"
            )
        if spec["source"] == "idx":
            check_idx_dataset(name, spec)
        if spec["source"] == "mnist":
            check_mnist_dataset(name)
    for kind, instances in config.get("experiments", {}).items():
        for name, spec in (instances or {}).items():
            seeds, widths = spec.get("seeds"), spec.get("widths")
            if isinstance(seeds, list) and isinstance(widths, list) and len(seeds) != len(widths):
                raise ConfigError(
                    f"config key 'experiments.{kind}.{name}.seeds': a list needs one entry per "
                    f"width ({len(widths)} widths, {len(seeds)} entries)"
                )
            check_ordering(f"experiments.{kind}.{name}", spec)
            check_kind_spec(kind, f"experiments.{kind}.{name}", spec, datasets)
            data = spec.get("data")
            if data is not None and data not in datasets:
                raise ConfigError(
                    f"config key 'experiments.{kind}.{name}.data': dataset {data!r} is not "
                    f"defined; expected one of {', '.join(sorted(datasets)) or '(none)'}"
                )


# Beyond the schema: lists whose order the analysis assumes (a grid, a fit range) and sizes
# that must fit inside the data set. Checked for every kind that has the key.
INCREASING = ("widths", "lazy_widths", "channels", "train_channels", "ns", "sizes", "net_sizes")
RANGES = ("fit_range", "fit_sizes", "spectrum_fit")  # [lo, hi], lo < hi


def check_ordering(where: str, spec: Mapping[str, Any]) -> None:
    for key in INCREASING:
        values = spec.get(key)
        if isinstance(values, list) and any(b <= a for a, b in itertools.pairwise(values)):
            raise ConfigError(
                f"config key '{where}.{key}': expected increasing values, got {values}"
            )
    for key in RANGES:
        values = spec.get(key)
        if isinstance(values, list) and len(values) == 2 and values[0] >= values[1]:
            raise ConfigError(
                f"config key '{where}.{key}': expected [lo, hi] with lo < hi, got {values}"
            )
    grid = spec.get("lr_grid")
    if isinstance(grid, Mapping) and grid["lo"] >= grid["hi"]:
        raise ConfigError(
            f"config key '{where}.lr_grid': expected lo < hi, got lo = {grid['lo']}, "
            f"hi = {grid['hi']}"
        )


def check_kind_spec(
    kind: str, where: str, spec: Mapping[str, Any], datasets: Mapping[str, Any]
) -> None:
    """What a kind's ``kind.py`` adds: ``POPULATION_KEYS`` (training-set sizes drawn from the
    data set's whole population) and ``check_spec(where, spec)`` for anything else."""
    from ntkpaper.pipeline.workflow import declaration

    declared = declaration(kind)
    keys = getattr(declared, "POPULATION_KEYS", ())
    if keys and spec.get("data") in datasets:
        check_population_sizes(where, spec, datasets[spec["data"]], keys)
    if hasattr(declared, "check_spec"):
        declared.check_spec(where, spec)


def check_population_sizes(
    where: str, spec: Mapping[str, Any], dataset: Mapping[str, Any], keys: tuple[str, ...]
) -> None:
    """Training-set sizes (the spec's `keys`) drawn from the data set's whole population
    (training and test points) must leave points out."""
    population = dataset["n_train"] + dataset.get("n_test", 0)
    for key in keys:
        values = spec.get(key)
        values = values if isinstance(values, list) else [] if values is None else [values]
        too_big = [v for v in values if v >= population]
        if too_big:
            raise ConfigError(
                f"config key '{where}.{key}': {too_big} not below the population of "
                f"{spec['data']!r} (n_train + n_test = {population})"
            )


def check_idx_dataset(name: str, spec: Mapping[str, Any]) -> None:
    """Check a local IDX data set from its files' headers and sizes (no data read: this runs
    at every Snakemake start), so a missing, truncated or corrupt file fails before any job."""
    from ntkpaper.data import sources

    if "path" not in spec:
        raise ConfigError(f"config key 'datasets.{name}.path' is required for source 'idx'")
    try:
        _, _, n = sources.idx_training_files(spec["path"])
    except sources.DataError as err:
        raise ConfigError(f"config key 'datasets.{name}.path': {err}") from None
    need = spec["n_train"] + spec.get("n_test", 0)
    if need > n:
        raise ConfigError(
            f"config key 'datasets.{name}': n_train + n_test = {need} exceeds the {n} "
            f"samples in {spec['path']}"
        )


def check_mnist_dataset(name: str) -> None:
    """The `mnist` source's file is there with its exact size: a stat, not a read, since this
    runs at every Snakemake start (ntkpaper.data.datasets checks its SHA-256 when it loads it)."""
    from ntkpaper.data import sources

    try:
        sources.mnist_path()
    except sources.DataError as err:
        raise ConfigError(f"config key 'datasets.{name}.source': {err}") from None


def check_writable(results: str | Path) -> None:
    """Fail early, naming the folder, when results cannot be written (tried for real:
    permission bits say nothing to root, and a file may sit where the folder should be)."""
    results = Path(results)
    probe = results
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"results folder {results} cannot be created: {probe} is a file")
    try:
        with tempfile.TemporaryFile(dir=probe):
            pass
    except OSError as err:
        raise ConfigError(f"results folder {results} is not writable ({probe}: {err})") from None


def load(path: str | Path, *overrides: str | Path) -> dict[str, Any]:
    """Read a config file, deep-merge override files over it, and validate."""
    config = read_config_file(path)
    for override in overrides:
        config = deep_merge(config, read_config_file(override))
    return validate(config)


class _StrictLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"config file {self.name}, line {line}: key {key!r} given twice "
                    f"(first on line {seen[key]}); keep one"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A config file read strictly: a syntax error names the file and line, a duplicate key
    is an error, an empty file is an empty mapping (a no-op overlay)."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    loader = _StrictLoader(text)
    loader.name = str(path)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"config file {path}{where}: not valid YAML: {err.problem}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {path} is not valid YAML: {err}") from None
    finally:
        loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a mapping at the top level")
    return data


def check_test_points(config: Mapping[str, Any], needs_test: Mapping[str, bool]) -> None:
    """Every instance of a kind that evaluates on test points names a data set that has some
    (`needs_test`: kind → whether it does)."""
    datasets = config.get("datasets", {})
    for kind, entries in config.get("experiments", {}).items():
        for name, spec in (entries or {}).items():
            data = spec.get("data")
            if needs_test.get(kind) and data in datasets and datasets[data]["n_test"] == 0:
                raise ConfigError(
                    f"config key 'experiments.{kind}.{name}.data': {kind} evaluates on test "
                    f"points, but data set {data!r} has none; set datasets.{data}.n_test >= 1"
                )


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Merge `override` into `base`; mappings merge key by key, anything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def instances(config: Mapping[str, Any], kind: str) -> list[str]:
    """Names of the configured instances of an experiment kind (sorted, stable)."""
    return sorted(config.get("experiments", {}).get(kind) or {})


def used_datasets(config: Mapping[str, Any]) -> list[str]:
    """Names of the data sets some experiment instance trains or evaluates on (sorted): the
    build prepares only these, so a data set defined but unused costs nothing."""
    return sorted(
        {
            spec["data"]
            for entries in config.get("experiments", {}).values()
            for spec in (entries or {}).values()
            if "data" in spec
        }
    )


def overlay_files(paths: list[str]) -> list[str]:
    """The config files to hand to Snakemake's --configfile: each read strictly first (a
    syntax error or a duplicate key is a ConfigError naming the file and line, where
    Snakemake's own loader names neither), the empty ones left out (an empty overlay is a
    no-op; Snakemake would refuse it)."""
    return [path for path in paths if read_config_file(path)]


def main(argv: list[str]) -> int:
    """`python -m ntkpaper.pipeline.config FILE...`: print the non-empty config files, or the
    error."""
    try:
        print(" ".join(overlay_files(argv)))
    except ConfigError as err:
        print(f"ConfigError: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
