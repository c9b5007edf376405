"""What the cost figure draws: written by compute.analyze, read by figures.plot_*;
numpy only (the plot jobs import it without JAX)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ntkpaper.pipeline.records import Interval, Record


@dataclass(frozen=True)
class Timing(Record):
    """One analytic computation timed against the training points N."""

    seconds: np.ndarray  # (sizes,) wall time, the least disturbed round
    # log-log slope over the fit_sizes largest N: the median over rounds, the rounds' range
    exponent: Interval


@dataclass(frozen=True)
class EmpiricalTimes(Record):
    """Seconds per empirical NTK of a finite net by implementation, (widths,) each: the least
    disturbed round."""

    ours: np.ndarray  # ours (layerwise)
    nt3: np.ndarray  # neural-tangents, structured derivatives
    nt1: np.ndarray  # neural-tangents, Jacobian contraction; NaN above max_width_jacobian


@dataclass(frozen=True)
class Cost(Record):
    ns: np.ndarray  # (sizes,) training points N
    kernel_ours: Timing  # analytic NTK, our recursion
    kernel_nt: Timing  # analytic NTK, neural-tangents
    solve: Timing  # the NTK Gaussian's mean at t = ∞
    widths: np.ndarray  # (widths,) of the empirical NTK
    empirical: EmpiricalTimes
