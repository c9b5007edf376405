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

A kind's sizes are a small function from its spec to a `Job` (``SIZES``); a kind without
one is refused at validation, naming this table (a silent baseline would under-declare).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ntkpaper.config import SOURCE_SIZES, ConfigError

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
# Sizes that a compute module uses and its memory estimate must match; defined here, where
# the Snakefile can read them without importing JAX, and imported by those modules.
CHUNK_PARAMS = 2e8  # kernel_convergence trains its seeds in chunks of ≤ this many parameters
CNTK_BLOCK = 40  # conv_ntk's tile of the analytic CNTK: pooling holds BLOCK²·(H·W)² entries


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


def _nets(spec, d: Data, *, widths=None, seeds=None, points=0, jacobian=0) -> tuple[Net, ...]:
    """One ensemble per width of `spec` (or `widths`), its seeds held together."""
    seeds, depth = seeds or spec["seeds"], spec["model"]["depth"]
    return tuple(
        Net(w, depth, seeds, points, in_dim=d.in_dim, out_dim=d.out_dim, jacobian=jacobian)
        for w in (widths if widths is not None else spec["widths"])
    )


def width_sweep(spec, d: Data) -> Job:
    # one full empirical NTK per seed (x_all × train points, every pair of outputs), all kept
    n = min(spec["train_subset"], d.n_train)
    nets = _nets(spec, d, points=n + d.n_test, jacobian=(n + d.n_test) * d.out_dim)
    return Job(nets, kernel_entries=spec["seeds"] * (n + d.n_test) * n * d.out_dim**2)


def gd_vs_sgd(spec, d: Data) -> Job:
    n = min(spec["train_subset"], d.n_train)
    nets = _nets(spec, d, points=n + d.n_test, jacobian=spec["seeds"] * n * d.out_dim)
    return Job(nets, kernel_entries=spec["seeds"] * (n * d.out_dim) ** 2)


def lr_limit(spec, d: Data) -> Job:
    # the lazy width series trains one width after another, like the main width
    widths = sorted({spec["width"], *spec.get("lazy_widths", [])})
    return gd_vs_sgd({**spec, "widths": widths}, d)


def kernel_convergence(spec, d: Data) -> Job:
    # seeds are trained in chunks of at most CHUNK_PARAMS parameters
    d = Data(spec["n_train"], spec["n_angles"], *SHAPES["circle"])
    nets = []
    for w in spec["widths"]:
        per_net = Net(w, spec["model"]["depth"], in_dim=2).params()
        seeds = max(1, min(spec["seeds"], int(CHUNK_PARAMS // per_net)))
        nets += _nets(spec, d, widths=[w], seeds=seeds, points=d.n, jacobian=seeds * d.n)
    return Job(tuple(nets))


def gp_prediction(spec, d: Data) -> Job:
    d = Data(4, spec["n_angles"], *SHAPES["circle"])
    seeds = (
        spec["seeds"] if isinstance(spec["seeds"], list) else [spec["seeds"]] * len(spec["widths"])
    )
    nets = tuple(
        _nets(spec, d, widths=[w], seeds=s, points=d.n)[0]
        for w, s in zip(spec["widths"], seeds, strict=True)
    )
    return Job(nets, kernel_entries=3 * d.n**2)


def eigendecay(spec, d: Data) -> Job:
    # the data set's kernels (read) and their eigenvectors; the circle's; nets on the subset
    n = min(spec["train_subset"], d.n_train)
    nets = _nets(spec, d, points=n, jacobian=spec["seeds"] * n * d.out_dim)
    return Job(nets, kernel_entries=4 * d.n**2 + 2 * spec["circle_points"] ** 2)


def kernel_pca(spec, d: Data) -> Job:
    # the Gram matrix of all training digits (one variant at a time, with neural-tangents'
    # per-layer matrices on the way); nets of one output trained on one batch
    n = min(spec["batch"], d.n_train)
    nets = _nets(spec, Data(d.n_train, 0, d.in_dim, 1), points=n)
    return Job(nets, kernel_entries=(spec["model"]["depth"] + 2) * d.n_train**2)


def early_stopping(spec, d: Data) -> Job:
    return Job(_nets(spec, d, points=d.n), kernel_entries=4 * d.n**2)


def learning_curves(spec, d: Data) -> Job:
    # the population is the data set's training and test points together
    points = max(spec["net_sizes"], default=0) + d.n
    return Job(_nets(spec, d, points=points), kernel_entries=4 * d.n**2)


def cost(spec, d: Data) -> Job:
    # one after another: kernels up to max(ns) (float64, with a layer's on the way), and
    # neural-tangents' Jacobian contraction (implementation 1), which materializes the
    # n_empirical × parameters Jacobian (float32) at widths up to max_width_jacobian
    n_max, n_emp, model = max(spec["ns"]), spec["n_empirical"], spec["model"]
    widths = [w for w in spec["widths"] if w <= spec["max_width_jacobian"]]
    params = max((Net(w, model["depth"]).params() for w in widths), default=0)
    nets = _nets(spec, Data(0, 0, 64, 1), seeds=1, jacobian=n_emp)
    kernels = 8 * KERNEL_COPIES * (model["depth"] + 2) * n_max**2
    return Job(nets, extra_bytes=max(kernels, 4 * n_emp * params))


def recursion_check(spec, d: Data) -> Job:
    return Job(kernel_entries=(2 * max(spec["depths"]) + 2) * spec["timing_n"] ** 2)


def conv_ntk(spec, d: Data) -> Job:
    # the pooling CNTK holds CNTK_BLOCK²·(H·W)² covariances per tile
    h, w, c = spec["image_shape"]
    n_train, n_test = min(spec["n_train"], d.n_train), min(spec["n_test"], d.n_test)
    block = min(CNTK_BLOCK, n_train)
    cnn = spec["cnn"]
    channels = max(spec["channels"] + spec["train_channels"])
    # a conv layer's weights are filter² × channels² (stand-in: a Dense net of that width)
    net = Net(
        channels * cnn["filter_size"],
        cnn["conv_layers"] + 1,
        spec["seeds"],
        spec["n_kernel"] * h * w,
        c * cnn["filter_size"] ** 2,
        d.out_dim,
        spec["n_kernel"] * h * w,
    )
    # the trained ensemble: train_seeds CNNs, activations of C channels at every position of
    # the training and test images (held at a record)
    trained = Net(
        max(spec["train_channels"]),
        cnn["conv_layers"] + 1,
        spec["train_seeds"],
        (min(spec["train_n"], n_train) + n_test) * h * w,
        c * cnn["filter_size"] ** 2,
        d.out_dim,
    )
    return Job(
        (net, trained),
        kernel_entries=4 * block**2 * (h * w) ** 2 + 4 * n_train * (n_train + n_test),
    )


SIZES: dict[str, Callable[[Mapping[str, Any], Data], Job]] = {
    f.__name__: f
    for f in (
        width_sweep,
        gd_vs_sgd,
        lr_limit,
        kernel_convergence,
        gp_prediction,
        eigendecay,
        early_stopping,
        learning_curves,
        cost,
        recursion_check,
        conv_ntk,
        kernel_pca,
    )
}


def run_estimate(kind: str, spec: Mapping[str, Any], datasets: Mapping[str, Any]) -> float:
    """Estimated peak (MB) of one run job; `spec` is the shard's (validated, defaults in)."""
    data = Data.of(datasets[spec["data"]]) if "data" in spec else Data.of(DIGITS)
    if kind not in SIZES:  # never a silent baseline: a new kind declares its sizes here
        raise ConfigError(
            f"study kind {kind!r} has no memory estimate: add a function of its spec to "
            f"ntkpaper.memory.SIZES (kinds with one: {', '.join(sorted(SIZES))})"
        )
    return SIZES[kind](spec, data).mb()


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
                    "fewer points (ntkpaper.memory has the estimate)"
                )
