"""Large solves never take the process down: the OpenBLAS crash (AVX-512 kernels,
multithreaded Cholesky at n = 16000) is detected and routed around (ntkpaper.pipeline.blas)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ntkpaper.pipeline import blas


def test_detection_needs_avx512_kernels_only():
    assert blas.safe_environment({}, cores={"SkylakeX"}) == {"OPENBLAS_CORETYPE": "Haswell"}
    assert blas.safe_environment({}, cores={"Zen"}) == {}
    assert blas.safe_environment({}, cores={"Haswell"}) == {}
    user = {"OPENBLAS_CORETYPE": "Zen"}  # a user's own choice wins
    assert blas.safe_environment(user, cores={"SkylakeX"}) == {}
    assert blas.openblas_cores()  # numpy's OpenBLAS reports its kernels


SOLVE_16000 = """
import numpy as np, scipy.linalg
n = 16000
x = np.random.default_rng(0).standard_normal((n, 64))
k = x @ x.T + n * np.eye(n)  # SPD, float64: the NTK-GP solve's shape at scale
factor = scipy.linalg.cho_factor(k, overwrite_a=True, check_finite=False)
mean = scipy.linalg.cho_solve(factor, np.ones((n, 1)), check_finite=False)
assert np.all(np.isfinite(mean)), "non-finite solve"
print("ok")
"""


@pytest.mark.slow
def test_a_16000_point_solve_exits_cleanly_in_the_workflow_environment():
    """The solve bench_scale times (and a user's large NTK-GP prediction), in a process with
    the environment the Snakefile gives its jobs: on an affected CPU it segfaults without it."""
    env = {**os.environ, **blas.safe_environment()}
    out = subprocess.run([sys.executable, "-c", SOLVE_16000], env=env, capture_output=True,
                         text=True, timeout=900)  # fmt: skip
    assert out.returncode == 0 and out.stdout.strip() == "ok", (out.returncode, out.stderr[-2000:])
