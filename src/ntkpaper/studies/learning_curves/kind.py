"""The `learning_curves` study kind, declared for the workflow, the memory check and the tests.

Snakemake reads it when it parses: it imports no JAX, numpy or matplotlib."""

from __future__ import annotations

from ntkpaper.pipeline.memory import Data, Job, ensembles

# How the workflow runs this kind:
# the population kernel is assembled from the data set's cached kernel blocks.
WORKFLOW = {"run_inputs": ["data", "kernels"], "priority": 30}

# Training-set sizes drawn from the data set's population (its training and test points):
# each must leave points out (checked at validation).
POPULATION_KEYS = ("sizes", "net_sizes", "mode_size")


def memory(spec, d: Data) -> Job:
    # the population is the data set's training and test points together
    points = max(spec["net_sizes"], default=0) + d.n
    return Job(ensembles(spec, d, points=points), kernel_entries=4 * d.n**2)


# A tiny instance (tests/test_studies.py runs it end to end in seconds; data set "tiny" is
# 48 training and 32 test digits there); the schema's defaults fill in the rest.
TINY = {
    "data": "tiny",
    "model": {"depth": 3},
    "sizes": [4, 8, 16, 32, 100],
    "draws": 3,
    "mode_size": 8,
    "fit_sizes": [4, 32],
    "spectrum_fit": [2, 16],
    "net_sizes": [8],
    "widths": [8, 32],
    "seeds": 2,
    "steps": 10,
}
