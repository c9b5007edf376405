"""JAX's configuration and every compatibility shim, in one place. Every ntkpaper module
that uses JAX imports this module; figure, report and config modules never do.

The pins (requirements.txt) are jax/jaxlib 0.5.3 with neural-tangents 0.6.5, the newest
release on PyPI (Dec 2023; upstream inactive since 2024-03, release request
https://github.com/google/neural-tangents/issues/202 unanswered). On jax >= 0.6 it fails
to import (`cannot import name 'Jaxpr' from 'jax.core'`). tests/test_environment.py fails
loudly when a pin moves, so these shims are revisited rather than silently carried.
"""

from __future__ import annotations

import os
import sys
import types
import warnings

import jax
import jax.extend

# CPU unless the user asks otherwise (JAX_PLATFORMS); spares every script JAX's probing of
# ROCm and TPU. A config update, not the environment variable, so it holds however late
# this module is imported, as long as no computation has run yet.
if "JAX_PLATFORMS" not in os.environ:
    jax.config.update("jax_platforms", "cpu")

# One place sets JAX's numerics: float64 is available everywhere (kernels, eigen-analysis
# and predictions run in it); training chooses float32 explicitly through its dtypes.
jax.config.update("jax_enable_x64", True)

# No persistent compilation cache (jax_compilation_cache_dir), although compiling is most of
# a small job's CPU: with jax 0.5.3 on CPU, a width-sweep shard loaded from that cache by a
# second process returned the initial parameters untrained (param_dist 0, a wrong f_T),
# silently. Measured 2026-12-01: CPU 6.0 s cold, 2.1 s warm, wrong numbers.
PINNED = {"jax": "0.5.3", "jaxlib": "0.5.3", "neural-tangents": "0.6.5", "flax": "0.10.6"}

# neural-tangents' structured-derivatives empirical NTK (implementation 3) reaches for two
# attributes that jax 0.5 moved. Fixed upstream in commit e84d2ab, never released:
# https://github.com/google/neural-tangents/commit/e84d2ab
jax.interpreters.ad.source_info_util = jax.extend.source_info_util
jax.interpreters.ad.config = jax.config

# `import neural_tangents` always imports neural_tangents.experimental, a TensorFlow port
# (tf2jax) we never use. Installing TensorFlow costs ~1.9 GB and ~1.7 s per import, so we
# install neural-tangents with --no-deps and register an empty module in its place.
# tests/test_environment.py proves the rest of the library works without it.
sys.modules.setdefault(
    "neural_tangents.experimental", types.ModuleType("neural_tangents.experimental")
)

with warnings.catch_warnings():
    # neural-tangents 0.6.5 imports names jax 0.5 has deprecated (jax.core.Var, ...).
    warnings.simplefilter("ignore", DeprecationWarning)
    import neural_tangents as nt
    from neural_tangents import stax

__all__ = ["PINNED", "nt", "stax"]
