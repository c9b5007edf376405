"""What the gd_vs_sgd figure draws: written by compute.analyze, read by figures.plot_*;
numpy only (the plot jobs import it without JAX)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ntkpaper.pipeline.records import Interval, Record


@dataclass(frozen=True)
class OptimizerGap(Record):
    """One optimizer across the widths: its network f against its linearization g."""

    label: str  # the legend's name of the optimizer
    gap: np.ndarray  # (widths, seeds) test RMSE(f_T, g_T)
    rate: Interval  # the gap's exponent in the width (the numbers' slope)
    param_dist: np.ndarray  # (widths, seeds) ‖θ_T − θ_0‖ of the network


@dataclass(frozen=True)
class Optimizers(Record):
    widths: np.ndarray  # (widths,) ascending
    # keyed as compute.OPTIMIZERS and in its order, the drawing order ("gd" among them)
    optimizers: dict[str, OptimizerGap]
