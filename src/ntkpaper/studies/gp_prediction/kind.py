"""The `gp_prediction` study kind, declared for the workflow, the memory check and the tests.

Snakemake reads it when it parses: it imports no JAX, numpy or matplotlib."""

from __future__ import annotations

from ntkpaper.pipeline.memory import SHAPES, Data, Job, ensembles

# How the workflow runs this kind (pipeline.workflow.StudyKind has every field).
WORKFLOW = {"priority": 30, "runtime_min": 180}


def memory(spec, d: Data) -> Job:
    d = Data(4, spec["n_angles"], *SHAPES["circle"])
    seeds = (
        spec["seeds"] if isinstance(spec["seeds"], list) else [spec["seeds"]] * len(spec["widths"])
    )
    nets = tuple(
        ensembles(spec, d, widths=[w], seeds=s, points=d.n)[0]
        for w, s in zip(spec["widths"], seeds, strict=True)
    )
    return Job(nets, kernel_entries=3 * d.n**2)


# A tiny instance (tests/test_studies.py runs it end to end in seconds); the schema's
# defaults fill in the rest.
TINY = {
    "model": {"depth": 3},
    "widths": [16, 64],
    "seeds": [5, 4],
    "lr": 1.0,
    "steps": 20,
    "n_angles": 8,
}
