"""Wall-clock timing of JAX work: compile first, then the median of a few repeats."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)


def time_call(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall seconds of one call of fn (until its arrays are ready), and its value."""
    start = time.perf_counter()
    value = jax.block_until_ready(fn())
    return time.perf_counter() - start, value


def median_time(fn: Callable[[], Any], repeats: int = 3) -> float:
    """Median wall time of fn() after one warm-up (compiling) call, blocking on results."""
    jax.block_until_ready(fn())
    return float(np.median([time_call(fn)[0] for _ in range(repeats)]))
