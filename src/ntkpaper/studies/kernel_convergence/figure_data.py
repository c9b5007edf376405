"""What the kernel_convergence figure draws: written by compute.analyze, read by
figures.plot_kernel_convergence; numpy only (the plot jobs import it without JAX)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ntkpaper.pipeline.records import Interval, Record


@dataclass(frozen=True)
class KernelConvergence(Record):
    gammas: np.ndarray  # (n_angles,) the probe angles γ
    widths: np.ndarray  # (widths,) int
    steps: int  # T, the training steps between `before` and `after`
    analytic: np.ndarray  # (n_angles,) the limiting Θ_∞(x_0, x(γ))
    before: np.ndarray  # (widths, seeds, n_angles) each net's Θ_0(x_0, x(γ))
    after: np.ndarray  # (widths, seeds, n_angles) Θ_T(x_0, x(γ)), NaN for seeds not trained
    deviation: np.ndarray  # (widths, seeds) ‖Θ_0 − Θ_∞‖ / ‖Θ_∞‖
    drift: np.ndarray  # (widths, seeds) ‖Θ_T − Θ_0‖ / ‖Θ_0‖, NaN for seeds not trained
    rate_deviation: Interval  # the rate rule's exponent of deviation against width
    rate_drift: Interval  # that of drift
