"""The `lr_limit` study kind, declared for the workflow, the memory check and the tests.

Snakemake reads it when it parses: it imports no JAX, numpy or matplotlib."""

from __future__ import annotations

from ntkpaper.pipeline.memory import Data, Job
from ntkpaper.studies.gd_vs_sgd.kind import memory as gd_vs_sgd

# How the workflow runs this kind (pipeline.workflow.StudyKind has every field).
WORKFLOW = {"priority": 10, "runtime_min": 120}


def memory(spec, d: Data) -> Job:
    # the lazy width series trains one width after another, like the main width
    widths = sorted({spec["width"], *spec.get("lazy_widths", [])})
    return gd_vs_sgd({**spec, "widths": widths}, d)


# A tiny instance (tests/test_studies.py runs it end to end in seconds; data set "tiny" is
# 48 training and 32 test digits there); the schema's defaults fill in the rest.
TINY = {
    "data": "tiny",
    "model": {"depth": 3},
    "width": 16,
    "lazy_widths": [8, 32],
    "train_subset": 8,
    "lr_grid": {"lo": 0.5, "hi": 4, "per_octave": 1},
    "seeds": 2,
    "steps": 10,
}
