# Shared helpers: config validation (before any job runs), paths, per-rule resources.
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(workflow.basedir) / "src"))  # works without `pip install -e .`

from ntkpaper.pipeline.config import (  # noqa: E402
    ConfigError,
    arch_id,
    check_test_points,
    check_writable,
    instances,
    read_config_file,
    used_datasets,
    validate,
)
from ntkpaper.paper import html_report  # noqa: E402
from ntkpaper.pipeline import memory  # noqa: E402
from ntkpaper.pipeline.blas import safe_environment  # noqa: E402
from ntkpaper.pipeline.io import git_state  # noqa: E402
from ntkpaper.pipeline.workflow import code_inputs, study_kind, study_kinds  # noqa: E402

RESULTS = "results"
MACHINE = 100  # all of profiles/default/config.yaml's `machine`: a run job holding it runs alone

# Jobs inherit this environment: keep OpenBLAS out of its large-Cholesky crash on affected
# CPUs (ntkpaper.pipeline.blas; nothing changes elsewhere).
os.environ.update(safe_environment())

STUDY_KINDS = {name: study_kind(name) for name in study_kinds()}

# Every config or data mistake fails here, in seconds, before any job runs or writes.
# A run job that cannot fit is refused here too: its estimated peak (ntkpaper.pipeline.memory)
# against the machine's memory (MemTotal, or NTKPAPER_MEM_MB) and the `--resources mem_mb` cap.
try:
    # each file read strictly (Snakemake keeps the last of a duplicated key), in merge order:
    # the Snakefile's `configfile:`, then the --configfile overlays over it
    _overlays = [str(f) for f in workflow.overwrite_configfiles]
    _order = [f for f in map(str, workflow.configfiles) if f not in _overlays] + _overlays
    _files = [(f, read_config_file(f)) for f in _order]
    config = validate(config)
    check_test_points(config, {k: s.test_points for k, s in STUDY_KINDS.items()})
    _limits = {"this machine's memory (MemTotal, or NTKPAPER_MEM_MB)": memory.machine_mb()}
    _cap = workflow.global_resources.get("mem_mb")  # --resources mem_mb=..., or the profile's
    _cap = getattr(_cap, "value", _cap)  # a snakemake Resource in Snakemake 9
    if isinstance(_cap, int | float) and _cap > 0:
        _limits["the mem_mb cap of --resources (or the profile)"] = int(_cap)
    _limit_name, _limit = min(_limits.items(), key=lambda item: item[1])
    memory.check(config, STUDY_KINDS, _limit, _limit_name, _files)
    check_writable(RESULTS)
except ConfigError as err:
    sys.stderr.write(f"\nConfigError: {err}\n\n")
    raise SystemExit(2)

# XLA's optimization level (quick.yaml sets 0): a param of the jobs that compile, which set
# it before they compute (ntkpaper.pipeline.cli.xla_options), so that changing it reruns them.
XLA_OPT_LEVEL = config.get("xla_opt_level")  # absent: XLA's own (no schema default)

# Experiment kinds whose numbers the claims and macros collect, and their figures' stems
# (each instance of a kind gets every figure): all derived from the kinds' folders.
KINDS = list(STUDY_KINDS)
FIGURES = {kind: list(study.figures) for kind, study in STUDY_KINDS.items()}


def code(script, *modules):
    """A rule's script and the ntkpaper files it runs, derived from its imports (followed
    transitively; `modules` are the ones it imports by name at run time), so editing a file
    reruns exactly the rules that run it."""
    script = f"workflow/scripts/{script}"
    return [script, *code_inputs(script, *modules)]


def spec(kind, instance):
    """An instance's config entry; a target naming an unknown one says what exists."""
    known = instances(config, kind)
    if instance not in known:
        kinds = ", ".join(sorted(config["experiments"]))
        raise ValueError(
            f"no instance {instance!r} of kind {kind!r} in the config; configured: "
            + (", ".join(known) if known else f"none (kinds with instances: {kinds})")
        )
    return config["experiments"][kind][instance]


def log_of(rule, pattern=""):
    return f"{RESULTS}/logs/{rule}/{pattern or 'all'}.log"


def bench_of(rule, pattern=""):
    return f"{RESULTS}/benchmarks/{rule}/{pattern or 'all'}.tsv"


def numbers_files():
    # only the data sets some instance uses: one defined but unused is never prepared
    files = [f"{RESULTS}/numbers/datasets/{name}.json" for name in used_datasets(config)]
    for kind in KINDS:
        files += [f"{RESULTS}/numbers/{kind}/{name}.json" for name in instances(config, kind)]
    return files


def figure_files():
    return [
        f"{RESULTS}/figures/{kind}/{name}/{stem}.pdf"
        for kind, stems in FIGURES.items()
        for name in instances(config, kind)
        for stem in stems
    ]


ARCHS = {}  # arch id -> model block, filled by the rule files that need analytic kernels


def kernel_file(dataset, model):
    ARCHS[arch_id(model)] = model
    return f"{RESULTS}/infinite/kernels/{dataset}/{arch_id(model)}.npz"


# Register every configured model when the Snakefile is parsed, so a job that builds only a
# kernel file (a cluster job, or a single target) knows its architecture.
for _kind, _entries in config["experiments"].items():
    for _spec in (_entries or {}).values():
        if isinstance(_spec, dict) and "model" in _spec and "data" in _spec:
            kernel_file(_spec["data"], _spec["model"])


def plot_code(kind, name):
    """A plot job's code; a target naming an unknown instance says which are configured."""
    spec(kind, name)
    return code("plot.py", f"ntkpaper.studies.{kind}.figures")


def check_figure(w):
    """A figure target of an unknown kind, instance or figure: says what exists."""
    if w.kind not in FIGURES:
        raise ValueError(f"no study kind {w.kind!r}; kinds: {', '.join(sorted(FIGURES))}")
    spec(w.kind, w.name)  # an unknown instance names the configured ones
    if w.figure not in FIGURES[w.kind]:
        raise ValueError(
            f"{w.kind} has no figure {w.figure!r}; its figures: {', '.join(FIGURES[w.kind])}"
        )


# Command-line targets that name a study kind, an instance or a figure (the per-figure and
# per-instance targets of the README): checked before the DAG is built (see the Snakefile).
TARGET_PATTERNS = (
    rf"{RESULTS}/figures/(?P<kind>[^/]+)/(?P<name>[^/]+)/(?P<figure>[^/]+)\.(?:pdf|npz)",
    rf"{RESULTS}/instances/(?P<kind>[^/]+)/(?P<name>[^/]+)\.json",
)


def target_problem(target):
    """What is wrong with a target naming an unknown kind, instance or figure (None: fine)."""
    import re
    from types import SimpleNamespace

    for pattern in TARGET_PATTERNS:
        match = re.fullmatch(pattern, str(target))
        if match:
            w = SimpleNamespace(**{"figure": None, **match.groupdict()})
            try:
                check_figure(w) if w.figure else spec(w.kind, w.name)
            except ValueError as err:
                return str(err)
    return None
