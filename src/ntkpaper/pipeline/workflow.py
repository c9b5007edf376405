"""What the Snakefile derives from the code when it parses: each script's code inputs and
each study kind's figures and needs, without importing JAX, neural-tangents or matplotlib.

* `code_inputs(script, *modules)`: the ``src/ntkpaper`` files a script runs — its imports,
  read with `ast` and followed transitively inside ``ntkpaper`` (package ``__init__`` files
  included). A rule lists exactly these, so editing a file reruns the rules whose import
  closure holds it and nothing else. ``modules`` names what a script imports by name at run
  time (``importlib.import_module(f"ntkpaper.studies.{kind}.compute")``).
* `study_kinds()`: the folders of ``ntkpaper/studies`` that hold a ``kind.py``; every
  registry of kinds (the schema's, the memory check's, the tests') is derived from this list.
* `study_kind(name)`: a kind's figures (the ``plot_<figure>`` functions of its
  ``figures.py``, read with `ast`) and the ``WORKFLOW`` of its JAX-free ``kind.py`` (inputs,
  sharding, scheduling, cluster runtime; each run job's ``mem_mb`` comes from the same file's
  ``memory``, through ``ntkpaper.pipeline.memory``).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
from pathlib import Path

SRC = Path(__file__).resolve().parents[2]  # the folder holding the ntkpaper package
PACKAGE = "ntkpaper"


def module_file(module: str, src: Path = SRC) -> Path | None:
    """The file of a dotted ``ntkpaper`` module (a package's ``__init__.py``), or None."""
    base = src.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path, src: Path) -> str:
    parts = path.relative_to(src).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache  # each file is parsed once per DAG, however many rules' closures hold it
def _imported_modules(path: Path, src: Path) -> frozenset[str]:
    """Dotted names of the ntkpaper modules a file imports (anywhere in it, lazily too)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    here = _module_name(path, src) if path.is_relative_to(src) else ""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against this module's package
                package = here.split(".") if is_package else here.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(m for m in found if m == PACKAGE or m.startswith(PACKAGE + "."))


def _with_parents(module: str) -> list[str]:
    """A module and the packages above it, whose ``__init__`` Python runs first."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


@functools.cache
def _closure(start: tuple[str, ...], modules: tuple[str, ...], src: Path) -> tuple[str, ...]:
    files: set[Path] = set()
    todo = [Path(p) for p in start]
    todo += [f for m in modules for p in _with_parents(m) if (f := module_file(p, src))]
    while todo:
        path = todo.pop()
        if path in files:
            continue
        files.add(path)
        for module in _imported_modules(path, src):
            todo += [f for p in _with_parents(module) if (f := module_file(p, src))]
    return tuple(sorted(str(f) for f in files if f.is_relative_to(src)))


def code_inputs(script: str | Path, *modules: str, src: Path = SRC) -> list[str]:
    """The ntkpaper source files `script` runs (relative to the repository root)."""
    root = src.parent
    start = Path(script) if Path(script).is_absolute() else root / script
    files = _closure((str(start),), modules, src)
    return [str(Path(f).relative_to(root)) for f in files]


@dataclasses.dataclass(frozen=True)
class StudyKind:
    """How the workflow runs one kind of study (declared as ``WORKFLOW = {...}`` in its
    kind.py; every field has a default)."""

    name: str
    figures: tuple[str, ...] = ()
    run_inputs: tuple[str, ...] = ("data",)  # "data" applies only when the spec names one
    analyze_inputs: tuple[str, ...] = ()
    shard_by: str | None = None  # a list in the spec: one run job per value
    priority: int = 0  # long jobs first, so none starts last and leaves a core idle
    test_points: bool = True  # evaluates on the data set's test split (when it reads one)
    runtime_min: int = 30  # a run job's wall-time limit on a cluster (SLURM's sbatch -t)

    def shards(self, spec: dict) -> list[str]:
        """Names of an instance's run jobs: ``widths-16``, ... or ``all``."""
        if self.shard_by is None:
            return ["all"]
        return [f"{self.shard_by}-{value}" for value in spec[self.shard_by]]

    def shard_spec(self, spec: dict, shard: str) -> dict:
        """The spec one run job sees: the sharded list narrowed to that job's value."""
        if self.shard_by is None:
            return dict(spec)
        for value in spec[self.shard_by]:
            if f"{self.shard_by}-{value}" == shard:
                return {**spec, self.shard_by: [value]}
        raise ValueError(
            f"{self.name}: no shard {shard!r}; expected one of {', '.join(self.shards(spec))}"
        )


def study_kinds(src: Path = SRC) -> list[str]:
    """Every study kind: a folder of ``ntkpaper/studies`` with a ``kind.py``."""
    return sorted(p.parent.name for p in (src / PACKAGE / "studies").glob("*/kind.py"))


def declaration(name: str):
    """A kind's ``kind.py`` (JAX-free: its workflow needs, memory sizing, tiny instance)."""
    return importlib.import_module(f"{PACKAGE}.studies.{name}.kind")


def study_kind(name: str, src: Path = SRC) -> StudyKind:
    declared = getattr(declaration(name), "WORKFLOW", {})
    fields = {f.name for f in dataclasses.fields(StudyKind)} - {"name", "figures"}
    unknown = set(declared) - fields
    if unknown:
        raise ValueError(f"ntkpaper/studies/{name}/kind.py: WORKFLOW has unknown keys {unknown}")
    figures_file = src / PACKAGE / "studies" / name / "figures.py"
    figures: tuple[str, ...] = ()
    if figures_file.exists():  # read, not imported: the DAG never imports matplotlib
        tree = ast.parse(figures_file.read_text())
        figures = tuple(
            node.name.removeprefix("plot_")
            for node in tree.body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("plot_")
        )
    as_tuple = {k: tuple(v) if isinstance(v, list) else v for k, v in declared.items()}
    return StudyKind(name=name, figures=figures, **as_tuple)
