"""What each width_sweep figure draws: written by compute.analyze, read by figures.plot_*;
numpy only (the plot jobs import it without JAX)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ntkpaper.pipeline.records import Interval, Intervals, Record


@dataclass(frozen=True)
class LayerChange(Record):
    """The parameter change of one layer type of the standard nets."""

    final_rel: np.ndarray  # (widths, seeds) ‖θ_T − θ_0‖/‖θ_0‖ at the end of training
    final_abs: np.ndarray  # (widths, seeds) ‖θ_T − θ_0‖
    traj_rel: np.ndarray  # (widths, records) mean over seeds of ‖θ_t − θ_0‖/‖θ_0‖, NaN-padded
    rate_rel: Interval  # the rate rule's exponent of final_rel against width


@dataclass(frozen=True)
class Lazy(Record):
    widths: np.ndarray  # (widths,)
    steps: np.ndarray  # (records,) the longest training's recording steps
    # by layer type: "input", "hidden" (deeper than two layers only), "output", "all"
    layers: dict[str, LayerChange]


@dataclass(frozen=True)
class Linearization(Record):
    widths: np.ndarray  # (widths,)
    rmse_f_g: np.ndarray  # (widths, seeds) max_t of the test RMSE of f_t − g_t
    rate_f_minus_g: Interval  # the rate rule's exponent of rmse_f_g against width
    lin_minus_net_test_loss: Intervals  # (widths,) mean over seeds of g_T's minus f_T's test loss


@dataclass(frozen=True)
class Generalization(Record):
    widths: np.ndarray  # (widths,)
    net_test_loss: np.ndarray  # (widths, seeds) of the converged standard nets
    lin_test_loss: np.ndarray  # (widths, seeds) of their linearizations
    centred_test_loss: np.ndarray  # (widths, seeds) of the centred nets f − f_0
    net_accuracy: np.ndarray  # (widths, seeds) test accuracy of the standard nets
    lin_accuracy: np.ndarray  # (widths, seeds) of their linearizations
    net_ensemble_accuracy: np.ndarray  # (widths,) of the output averaged over the seeds
    ntk_test_loss: float  # the NTK Gaussian's expected test loss at t = ∞
    ntk_mean_test_loss: float  # that of its mean (the centred nets' limit)
    nngp_test_loss: float  # the NNGP posterior's expected test loss
    ntk_accuracy: float  # test accuracy of the NTK Gaussian's mean
    # (widths,) signed gap to the NTK Gaussian, mean over seeds: "standard", "centred" and
    # "ensemble" (the output averaged over the seeds)
    gaps: dict[str, Intervals]
