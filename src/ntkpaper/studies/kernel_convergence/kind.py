"""The `kernel_convergence` study kind, declared for the workflow, the memory check and the tests.

Snakemake reads it when it parses: it imports no JAX, numpy or matplotlib."""

from __future__ import annotations

from ntkpaper.pipeline.config import ConfigError
from ntkpaper.pipeline.memory import SHAPES, Data, Job, Net, ensembles

# compute.py trains the seeds in chunks of at most this many parameters; memory() sizes so
CHUNK_PARAMS = 2e8

# How the workflow runs this kind (pipeline.workflow.StudyKind has every field).
WORKFLOW = {"priority": 50, "runtime_min": 180}


def memory(spec, d: Data) -> Job:
    # seeds are trained in chunks of at most CHUNK_PARAMS parameters
    d = Data(spec["n_train"], spec["n_angles"], *SHAPES["circle"])
    nets = []
    for w in spec["widths"]:
        per_net = Net(w, spec["model"]["depth"], in_dim=2).params()
        seeds = max(1, min(spec["seeds"], int(CHUNK_PARAMS // per_net)))
        nets += ensembles(spec, d, widths=[w], seeds=seeds, points=d.n, jacobian=seeds * d.n)
    return Job(tuple(nets))


def check_spec(where: str, spec) -> None:
    """`train_seeds`: one count per width (empty: all), each at most `seeds`."""
    counts = spec["train_seeds"]
    if counts and (len(counts) != len(spec["widths"]) or max(counts) > spec["seeds"]):
        raise ConfigError(
            f"config key '{where}.train_seeds': expected one count per width "
            f"({len(spec['widths'])}), each at most seeds = {spec['seeds']}; got {counts}"
        )


# A tiny instance (tests/test_studies.py runs it end to end in seconds); the schema's
# defaults fill in the rest.
TINY = {
    "model": {"depth": 3},
    "widths": [16, 64],
    "seeds": 3,
    "train_seeds": [3, 2],
    "lr": 1.0,
    "steps": 5,
    "n_train": 4,
    "n_angles": 8,
}
