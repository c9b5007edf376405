"""What the early_stopping figure draws: written by compute.analyze, read by figures.plot_*;
numpy only (the plot jobs import it without JAX)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ntkpaper.pipeline.records import Interval, Record


@dataclass(frozen=True)
class NetCurves(Record):
    """The finite nets on draw 0's labels, mean over their seeds."""

    widths: np.ndarray  # (W,) int64, ascending
    steps: np.ndarray  # (R,) int64 recording steps
    test_mse: np.ndarray  # (W, R)
    test_acc: np.ndarray  # (W, R)


@dataclass(frozen=True)
class RatioToOracle(Record):
    """One stopping rule's test MSE over the oracle's, across the label-noise draws."""

    draws: np.ndarray  # (D,) each draw's ratio
    mean: Interval  # the ratio of the mean test MSEs, with its BCa interval over the draws


@dataclass(frozen=True)
class EarlyStopping(Record):
    # (a, b): the NTK mean predictor (f_0 = 0) in closed form on the time grid
    times: np.ndarray  # (T,) float64 steps
    test_mse: np.ndarray  # (T,) draw 0
    test_mse_lo: np.ndarray  # (T,) smallest over the draws
    test_mse_hi: np.ndarray  # (T,) largest over the draws
    test_acc: np.ndarray  # (T,) draw 0
    train_noisy_fit: np.ndarray  # (T,) draw 0: fraction of corrupted points fitted to their label
    times_expected: np.ndarray  # (T_var,) the coarse grid of the init-variance curve
    test_mse_expected: np.ndarray  # (T_var,) one net on draw 0: mean plus init variance
    inf_test_mse: float  # draw 0 at t = ∞ (kernel regression)
    ridge_test_mse: float  # draw 0 with the tuned ridge
    n_draws: int  # D, the label-noise draws
    stops: dict[str, float]  # draw 0's stop step of the rules "spectral", "validation", "oracle"
    nets: NetCurves | None  # absent without finite nets
    # (c): the spectral rule's sensitivity to k, means over the draws
    k_grid: np.ndarray  # (N_k,) int64 values of k
    k_grid_test_mse: np.ndarray  # (N_k,) test MSE stopping with each k
    eps: float  # the rule's ε
    top_k: int  # the configured k
    k_trace_90: int  # the smallest k holding 90% of the trace
    oracle_test_mse_mean: float
    inf_test_mse_mean: float
    ridge_test_mse_mean: float
    # (d): keyed as compute.RATIO_RULES and in its order, the panel's columns
    ratios: dict[str, RatioToOracle]
