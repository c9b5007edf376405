"""Large solves never take the process down.

The OpenBLAS builds in the pinned numpy and scipy wheels (0.3.31 and 0.3.30) segfault in a
multithreaded Cholesky of an SPD matrix at n = 16000 wherever OpenBLAS picks its AVX-512
(SkylakeX) kernels (numpy, scipy and jax.numpy alike; OpenBLAS issues #2562, #5243 and
#6013 describe this family of bugs). Measured on an AMD EPYC and on an Intel Xeon, 2
threads: n = 16000 crashes with the SkylakeX kernels (one thread passes) and passes with
OPENBLAS_CORETYPE=Haswell.

`safe_environment()` detects the kernels the loaded OpenBLAS chose (from threadpoolctl)
rather than assuming them, and returns the setting that
routes around it. OpenBLAS reads it once, when it loads, so it must be in a process's
environment from the start: the Snakefile puts it in the environment of every job, and
benchmarks/run_all.py in every benchmark's. A user's own choice of OPENBLAS_CORETYPE wins.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# OpenBLAS kernels that use AVX-512 (the ones the crash was seen with, and their successors).
AVX512_CORES = frozenset({"SkylakeX", "Cooperlake", "SapphireRapids"})
SAFE_CORE = "Haswell"  # AVX2 kernels: no crash at n = 16000, little slower here


def openblas_cores() -> set[str]:
    """The kernel families of the OpenBLAS libraries loaded in this process (numpy's, and
    scipy's once scipy.linalg is imported)."""
    import numpy  # noqa: F401  (loads its OpenBLAS)
    import threadpoolctl

    return {
        str(info.get("architecture"))
        for info in threadpoolctl.threadpool_info()
        if info.get("internal_api") == "openblas"
    }


def safe_environment(environ: Mapping[str, str] = os.environ, *, cores=None) -> dict[str, str]:
    """Environment variables that keep a child process's OpenBLAS out of the crash: empty
    unless its OpenBLAS chose AVX-512 kernels (the CPU's vendor does not matter: AMD and
    Intel crash alike)."""
    if "OPENBLAS_CORETYPE" in environ:
        return {}
    cores = openblas_cores() if cores is None else set(cores)
    if cores & AVX512_CORES:
        return {"OPENBLAS_CORETYPE": SAFE_CORE}
    return {}
