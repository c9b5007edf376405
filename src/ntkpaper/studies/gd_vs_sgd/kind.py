"""The `gd_vs_sgd` study kind, declared for the workflow, the memory check and the tests.

Snakemake reads it when it parses: it imports no JAX, numpy or matplotlib."""

from __future__ import annotations

from ntkpaper.pipeline.memory import Data, Job, ensembles

# How the workflow runs this kind:
# one job per width, its seeds vmapped.
WORKFLOW = {"shard_by": "widths", "priority": 12, "runtime_min": 120}


def memory(spec, d: Data) -> Job:
    n = min(spec["train_subset"], d.n_train)
    nets = ensembles(spec, d, points=n + d.n_test, jacobian=spec["seeds"] * n * d.out_dim)
    return Job(nets, kernel_entries=spec["seeds"] * (n * d.out_dim) ** 2)


# A tiny instance (tests/test_studies.py runs it end to end in seconds; data set "tiny" is
# 48 training and 32 test digits there); the schema's defaults fill in the rest.
TINY = {
    "data": "tiny",
    "model": {"depth": 3},
    "widths": [8, 32],
    "train_subset": 16,
    "batch_sizes": [8, 4],
    "seeds": 2,
    "steps": 10,
    "records": 3,
}
