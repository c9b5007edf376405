"""The `kernel_pca` study kind, declared for the workflow, the memory check and the tests.

Snakemake reads it when it parses: it imports no JAX, numpy or matplotlib."""

from __future__ import annotations

from ntkpaper.pipeline.memory import Data, Job, ensembles

# How the workflow runs this kind (pipeline.workflow.StudyKind has every field).
WORKFLOW = {"priority": 25, "test_points": False}


def memory(spec, d: Data) -> Job:
    # the Gram matrix of all training digits (one variant at a time, with neural-tangents'
    # per-layer matrices on the way); nets of one output trained on one batch
    n = min(spec["batch"], d.n_train)
    nets = ensembles(spec, Data(d.n_train, 0, d.in_dim, 1), points=n)
    return Job(nets, kernel_entries=(spec["model"]["depth"] + 2) * d.n_train**2)


# A tiny instance (tests/test_studies.py runs it end to end in seconds; data set "tiny" is
# 48 training and 32 test digits there); the schema's defaults fill in the rest.
TINY = {
    "data": "tiny",
    "model": {"depth": 3},
    "batch": 16,
    "draws": 3,
    "published": [1.0, 0.1, 0.05],
    "widths": [8, 16],
    "seeds": 2,
    "lr": {"eta_crit": 0.5},
    "steps": 10,
}
