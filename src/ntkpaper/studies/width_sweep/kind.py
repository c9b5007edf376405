"""The `width_sweep` study kind, declared for the workflow, the memory check and the tests.

Snakemake reads it when it parses: it imports no JAX, numpy or matplotlib."""

from __future__ import annotations

from ntkpaper.pipeline.memory import Data, Job, ensembles

# How the workflow runs this kind:
# one training job per width (its seeds vmapped); the analysis compares them with the
# analytic kernels of the same data and architecture.
WORKFLOW = {
    "shard_by": "widths",
    "analyze_inputs": ["data", "kernels"],
    "priority": 35,
    "runtime_min": 240,
}


def memory(spec, d: Data) -> Job:
    # one full empirical NTK per seed (x_all × train points, every pair of outputs), all kept
    n = min(spec["train_subset"], d.n_train)
    nets = ensembles(spec, d, points=n + d.n_test, jacobian=(n + d.n_test) * d.out_dim)
    return Job(nets, kernel_entries=spec["seeds"] * (n + d.n_test) * n * d.out_dim**2)


# A tiny instance (tests/test_studies.py runs it end to end in seconds; data set "tiny" is
# 48 training and 32 test digits there); the schema's defaults fill in the rest.
TINY = {
    "data": "tiny",
    "model": {"depth": 3},
    "widths": [8, 16, 32],
    "seeds": 3,
    "lr_ratio": 0.5,
    "min_steps": 8,
    "steps": 12,
    "records": 3,
    "train_subset": 16,
}
