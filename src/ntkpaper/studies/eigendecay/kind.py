"""The `eigendecay` study kind, declared for the workflow, the memory check and the tests.

Snakemake reads it when it parses: it imports no JAX, numpy or matplotlib."""

from __future__ import annotations

from ntkpaper.pipeline.memory import Data, Job, ensembles

# How the workflow runs this kind (pipeline.workflow.StudyKind has every field).
WORKFLOW = {"run_inputs": ["data", "kernels"], "priority": 20, "test_points": False}


def memory(spec, d: Data) -> Job:
    # the data set's kernels (read) and their eigenvectors; the circle's; nets on the subset
    n = min(spec["train_subset"], d.n_train)
    nets = ensembles(spec, d, points=n, jacobian=spec["seeds"] * n * d.out_dim)
    return Job(nets, kernel_entries=4 * d.n**2 + 2 * spec["circle_points"] ** 2)
