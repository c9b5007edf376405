"""What each lr_limit figure draws: written by compute.analyze, read by figures.plot_*;
numpy only (the plot jobs import it without JAX)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ntkpaper.pipeline.records import Interval, Record


@dataclass(frozen=True)
class Boundaries(Record):
    """The measured stability boundaries, in units of η_crit."""

    net: Interval  # the network's η_max
    lin: Interval  # the linearized model's


@dataclass(frozen=True)
class LrPhases(Record):
    ratios: np.ndarray  # (ratios,) η/η_crit
    net_final_loss: np.ndarray  # (ratios, seeds) L_T/L_0 of the network
    lin_final_loss: np.ndarray  # (ratios, seeds) L_T/L_0 of its linearization
    lam_ratio: np.ndarray  # (ratios, seeds) λ_max(Θ_T)/λ_max(Θ_0)
    phase: np.ndarray  # (ratios, seeds) index into compute.PHASES
    boundaries: Boundaries
    lazy_widths: np.ndarray  # (W,) the widths trained below η_crit
    lazy_change: np.ndarray  # (W, seeds) largest |Δλ_max|/λ_max over a seed's lazy runs
    lazy_fit: np.ndarray  # (2, points): width, fitted change; empty below three widths
    lazy_rate: Interval  # the fit's exponent; NaN below three widths


@dataclass(frozen=True)
class LrTopMode(Record):
    ratios: np.ndarray  # (ratios,) η/η_crit
    top_growth: np.ndarray  # (ratios, seeds) max_{t≥1}|c_t|/|c_0|
    rise: np.ndarray  # (ratios, seeds) max_{t≥1} L_t/L_0
    top: np.ndarray  # (ratios, steps + 1) median over seeds of |c_t|/|c_0|, NaN once blown up
    phase: np.ndarray  # (ratios, seeds) index into phase_names
    majority_phase: np.ndarray  # (ratios,) the phase of most seeds
    boundaries: Boundaries


@dataclass(frozen=True)
class LrTrajectories(Record):
    ratios: np.ndarray  # (ratios,) η/η_crit
    loss: np.ndarray  # (ratios, steps + 1) median over seeds of L_t/L_0, NaN once blown up
    phase: np.ndarray  # (ratios, seeds) index into phase_names
    majority_phase: np.ndarray  # (ratios,) the phase of most seeds
    phase_names: np.ndarray  # compute.PHASES
