"""Wall-clock timing of JAX work: compile first, then the median of a few repeats."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jax
import numpy as np


def median_time(fn: Callable[[], Any], repeats: int = 3) -> float:
    """Median wall time of fn() after one warm-up (compiling) call, blocking on results."""
    jax.block_until_ready(fn())
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return float(np.median(times))
