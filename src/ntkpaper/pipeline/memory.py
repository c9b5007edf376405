"""A job's peak resident memory, estimated from its config before it runs.

The Snakefile calls this when it parses (no JAX, no numpy): each run job
declares ``mem_mb`` from `run_mb`, one value per shard (a width sweep's width 1024 job
declares more than its width 64 one), and `check` refuses, before any job runs, a config
with a job that could not fit in the machine's memory.

A run job's peak, in explicit terms (tests/test_memory.py checks them against the peaks of
real jobs):

* ``BASELINE_MB``: a JAX process with ntkpaper imported and its programs compiled;
* the largest ensemble it holds at once (widths run one after another), `Net`: parameters ×
  seeds × 4 bytes × ``PARAM_COPIES``, activations (points × width × depth × seeds × 4 bytes
  × ``ACT_COPIES``), and the per-output derivatives of an empirical-NTK call;
* float64 kernel matrices (n² entries each) × 8 bytes × ``KERNEL_COPIES``;
* what a kind holds besides (`Job.extra_bytes`: the cost study's full Jacobian).

A kind's sizes are a small function of its spec and data set to a `Job`, ``memory`` in its
``studies/<kind>/kind.py`` (`sizing` finds it); a kind without one is refused at validation,
naming that file (a silent baseline would under-declare).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ntkpaper.pipeline.config import SOURCE_SIZES, ConfigError

MB = 2**20
# Measured: 180 MB for the imports alone, 300–600 MB for every run job of quick.yaml (each
# compiles its programs; the cost and conv_ntk studies compile the most).
BASELINE_MB = 600
# θ_0 and θ_t, the gradient, optimizer state (momentum), the linearized model's parameters
# and tangents, and an update's temporaries: float32, per net of the ensemble.
PARAM_COPIES = 8
ACT_COPIES = 4  # pre-activations, activations and their two cotangents, per layer
JAC_COPIES = 2  # per-layer derivatives of every (point, output), for both sides of a kernel
KERNEL_COPIES = 3  # a float64 kernel, its factorization or eigenvectors, a product
ROUND_MB = 100  # declared mem_mb is rounded up to this

# (input dim, outputs) by data source; idx assumes MNIST's 28×28 images and 10 classes.
SHAPES = {"digits": (64, 10), "circle": (2, 1), "mnist": (784, 10), "idx": (784, 10)}
DIGITS = {"n_train": SOURCE_SIZES["digits"], "n_test": 0, "source": "digits"}


@dataclasses.dataclass(frozen=True)
class Net:
    """An ensemble held at once: `seeds` nets of `width` (``depth`` Dense layers)."""

    width: int
    depth: int
    seeds: int = 1
    points: int = 0  # inputs passed through the whole ensemble at once
    in_dim: int = 64
    out_dim: int = 1
    jacobian: int = 0  # (point, output) pairs whose per-layer derivatives a kernel call holds

    def params(self) -> int:
        widths = (self.in_dim, *[self.width] * (self.depth - 1), self.out_dim)
        return sum((a + 1) * b for a, b in itertools.pairwise(widths))

    def bytes(self) -> float:
        return 4.0 * (
            self.params() * self.seeds * PARAM_COPIES
            + self.points * self.width * self.depth * self.seeds * ACT_COPIES
            + self.jacobian * self.width * self.depth * JAC_COPIES
        )


@dataclasses.dataclass(frozen=True)
class Job:
    nets: tuple[Net, ...] = ()  # trained one after another: the largest sets the peak
    kernel_entries: float = 0  # float64 matrix entries held at once
    extra_bytes: float = 0

    def mb(self) -> float:
        held = max((net.bytes() for net in self.nets), default=0.0)
        return (
            BASELINE_MB + (held + 8 * KERNEL_COPIES * self.kernel_entries + self.extra_bytes) / MB
        )


@dataclasses.dataclass(frozen=True)
class Data:
    """The sizes of a configured data set (a `datasets:` entry)."""

    n_train: int
    n_test: int
    in_dim: int
    out_dim: int

    @classmethod
    def of(cls, spec: Mapping[str, Any]) -> Data:
        in_dim, out_dim = SHAPES[spec["source"]]
        return cls(spec["n_train"], spec.get("n_test", 0), in_dim, out_dim)

    @property
    def n(self) -> int:
        return self.n_train + self.n_test


def ensembles(spec, d: Data, *, widths=None, seeds=None, points=0, jacobian=0) -> tuple[Net, ...]:
    """One ensemble per width of `spec` (or `widths`), its seeds held together."""
    seeds, depth = seeds or spec["seeds"], spec["model"]["depth"]
    return tuple(
        Net(w, depth, seeds, points, in_dim=d.in_dim, out_dim=d.out_dim, jacobian=jacobian)
        for w in (widths if widths is not None else spec["widths"])
    )


def sizing(kind: str) -> Callable[[Mapping[str, Any], Data], Job]:
    """A kind's sizing function, ``memory(spec, data) -> Job`` of its ``studies/<kind>/kind.py``
    (a kind without one is refused: a silent baseline would under-declare)."""
    from ntkpaper.pipeline.workflow import declaration

    declared_by = declaration(kind)
    if not callable(getattr(declared_by, "memory", None)):
        raise ConfigError(
            f"study kind {kind!r} has no memory estimate: define memory(spec, data) -> Job in "
            f"src/ntkpaper/studies/{kind}/kind.py (ntkpaper.pipeline.memory has the terms)"
        )
    return declared_by.memory


def run_estimate(kind: str, spec: Mapping[str, Any], datasets: Mapping[str, Any]) -> float:
    """Estimated peak (MB) of one run job; `spec` is the shard's (validated, defaults in)."""
    data = Data.of(datasets[spec["data"]]) if "data" in spec else Data.of(DIGITS)
    return sizing(kind)(spec, data).mb()


def declared(estimate: float) -> int:
    """The mem_mb a job declares: its estimate rounded up."""
    return int(math.ceil(estimate / ROUND_MB) * ROUND_MB)


def run_mb(kind: str, spec: Mapping[str, Any], datasets: Mapping[str, Any]) -> int:
    return declared(run_estimate(kind, spec, datasets))


def analytic_kernels_mb(dataset: Mapping[str, Any], model: Mapping[str, Any]) -> int:
    """NTK and NNGP on all points of a data set, every layer's on the way (float64)."""
    n = Data.of(dataset).n
    return declared(BASELINE_MB + 8 * n**2 * (2 * model["depth"] + 4) / MB)


def machine_mb() -> int:
    """The machine's memory: MemTotal of /proc/meminfo (or NTKPAPER_MEM_MB, which wins)."""
    if os.environ.get("NTKPAPER_MEM_MB"):
        return int(os.environ["NTKPAPER_MEM_MB"])
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise OSError("no MemTotal in /proc/meminfo; set NTKPAPER_MEM_MB")


def setting_file(files: Iterable[tuple[str, Mapping[str, Any]]], path: Iterable[str]) -> str:
    """The last config file (of (name, contents) pairs, in merge order) that sets `path`."""
    found = "the config"
    for name, content in files:
        node: Any = content
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is not None:
            found = name
    return found


def check(config, kinds, limit_mb: int, limit_name: str, files=()) -> None:
    """Refuse (ConfigError) a run job whose estimate exceeds `limit_mb`. `kinds`: kind name →
    workflow.StudyKind (shards); `files`: (name, contents) of the config files, merged order."""
    for kind, entries in config["experiments"].items():
        for name, spec in (entries or {}).items():
            study = kinds[kind]
            for shard in study.shards(spec):
                need = run_estimate(kind, study.shard_spec(spec, shard), config["datasets"])
                if need <= limit_mb:
                    continue
                path = ["experiments", kind, name]
                what = f"{kind} {name!r}"
                if study.shard_by:
                    path.append(study.shard_by)
                    what += f" at {shard}"
                raise ConfigError(
                    f"config key '{'.'.join(path)}' (set in {setting_file(files, path)}): "
                    f"the run job of {what} needs an estimated {need:.0f} MB, more than the "
                    f"{limit_mb} MB of {limit_name}; use fewer seeds, smaller widths or "
                    "fewer points (ntkpaper.pipeline.memory has the estimate)"
                )
