"""What the gp_prediction figure draws: written by compute.analyze, read by figures.plot_*;
numpy only (the plot jobs import it without JAX)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ntkpaper.pipeline.records import Intervals, Record


@dataclass(frozen=True)
class Distances(Record):
    """Each width's noise-corrected distance of its nets from the Gaussian at t = ∞, in
    predictive-std units, with its 90% interval (compute.corrected_distances)."""

    total: Intervals  # (widths,) √(D_mean² + D_std²): mean and spread together
    mean: Intervals  # (widths,) D_mean
    std: Intervals  # (widths,) D_std


@dataclass(frozen=True)
class GpPrediction(Record):
    gammas: np.ndarray  # (n_angles,) test angles γ
    train_angles: np.ndarray  # (n_train,) angles of the training points
    widths: np.ndarray  # (widths,) int
    # the NTK Gaussian's percentiles of f(γ) at t = ∞, keyed by percentile ("10", "50", "90"):
    # (n_angles,) each; "50" is its mean μ(γ)
    gp: dict[str, np.ndarray]
    # the trained nets' percentiles of f(γ), keyed by str(width), then by percentile as `gp`:
    # (n_angles,) each
    nets: dict[str, dict[str, np.ndarray]]
    distances: Distances
    margin: float  # the claims' margin on the distance
