"""The `cost` study kind, declared for the workflow, the memory check and the tests.

Snakemake reads it when it parses: it imports no JAX, numpy or matplotlib."""

from __future__ import annotations

from ntkpaper.pipeline.memory import KERNEL_COPIES, Data, Job, Net, ensembles

# How the workflow runs this kind:
# Its run job has the machine to itself unless the instance says `alone: false`.
WORKFLOW = {"priority": 40, "runtime_min": 120}


def memory(spec, d: Data) -> Job:
    # one after another: kernels up to max(ns) (float64, with a layer's on the way), and
    # neural-tangents' Jacobian contraction (implementation 1), which materializes the
    # n_empirical × parameters Jacobian (float32) at widths up to max_width_jacobian
    n_max, n_emp, model = max(spec["ns"]), spec["n_empirical"], spec["model"]
    widths = [w for w in spec["widths"] if w <= spec["max_width_jacobian"]]
    params = max((Net(w, model["depth"]).params() for w in widths), default=0)
    nets = ensembles(spec, Data(0, 0, 64, 1), seeds=1, jacobian=n_emp)
    kernels = 8 * KERNEL_COPIES * (model["depth"] + 2) * n_max**2
    return Job(nets, extra_bytes=max(kernels, 4 * n_emp * params))


# A tiny instance (tests/test_studies.py runs it end to end in seconds); the schema's
# defaults fill in the rest.
TINY = {
    "model": {"depth": 3},
    "ns": [16, 32],
    "widths": [16, 512],
    "n_empirical": 8,
    "max_width_jacobian": 16,
}
