"""The `recursion_check` study kind, declared for the workflow, the memory check and the tests.

Snakemake reads it when it parses: it imports no JAX, numpy or matplotlib."""

from __future__ import annotations

from ntkpaper.pipeline.memory import Data, Job

# How the workflow runs this kind (pipeline.workflow.StudyKind has every field).
WORKFLOW = {"priority": 5}


def memory(spec, d: Data) -> Job:
    return Job(kernel_entries=(2 * max(spec["depths"]) + 2) * spec["timing_n"] ** 2)


# A tiny instance (tests/test_studies.py runs it end to end in seconds); the schema's
# defaults fill in the rest.
TINY = {
    "depths": [1, 2],
    "b_stds": [0.1],
    "W_stds": [1.0, 1.5],
    "activations": ["relu", "erf"],
    "n_points": 4,
    "timing_n": 16,
}
