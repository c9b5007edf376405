"""The `early_stopping` study kind, declared for the workflow, the memory check and the tests.

Snakemake reads it when it parses: it imports no JAX, numpy or matplotlib."""

from __future__ import annotations

from ntkpaper.pipeline.memory import Data, Job, ensembles

# How the workflow runs this kind (pipeline.workflow.StudyKind has every field).
WORKFLOW = {"run_inputs": ["data", "kernels"], "priority": 15}


def memory(spec, d: Data) -> Job:
    return Job(ensembles(spec, d, points=d.n), kernel_entries=4 * d.n**2)
