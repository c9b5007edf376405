"""What each learning_curves figure draws: written by compute.analyze, read by figures.plot_*;
numpy only (the plot jobs import it without JAX)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ntkpaper.pipeline.records import Interval, Record


@dataclass(frozen=True)
class RidgeCurve(Record):
    """NTK regression's whole-population error at one ridge, against the theory's E_g."""

    theory: np.ndarray  # (sizes,) E_g(P)
    whole_mean: np.ndarray  # (sizes,) measured, mean over the draws
    whole_se: np.ndarray  # (sizes,) the standard error of that mean (0 for one draw)


@dataclass(frozen=True)
class HeldOut(Record):
    """The error on the N − P points held out of the subset, at ridge 0."""

    theory: np.ndarray  # (sizes,) the theory's held-out error
    mean: np.ndarray  # (sizes,) measured, mean over the draws
    lo: np.ndarray  # (sizes,) measured, smallest over the draws
    hi: np.ndarray  # (sizes,) measured, largest over the draws


@dataclass(frozen=True)
class SpectrumFit(Record):
    """The exponent predicted from the spectrum's power-law fits, and the sizes it is
    compared over (the configured fit_sizes)."""

    lo: float  # smallest size of the fit range
    hi: float  # largest size of the fit range
    exponent: float  # min(s, 2b)


@dataclass(frozen=True)
class NetGaps(Record):
    """The finite nets against the kernel predictor after the same steps, averaged over the
    net sizes, per seed."""

    widths: np.ndarray  # (W,) float
    gap: np.ndarray  # (W, seeds) |test error − kernel's| / kernel's, on the held-out points
    dist: np.ndarray  # (W, seeds) relative RMS distance to the kernel predictor
    gap_rate: Interval  # the gap's exponent in the width
    dist_rate: Interval  # the distance's exponent in the width


@dataclass(frozen=True)
class Curves(Record):
    sizes: np.ndarray  # (sizes,) float training-set sizes P below N
    ridges: dict[str, RidgeCurve]  # keyed as compute.RIDGES: "ridge0" (λ = 0) and "ridge"
    rest: HeldOut  # ridge 0
    fit: SpectrumFit
    nets: NetGaps | None  # absent without finite nets


@dataclass(frozen=True)
class ModeBins(Record):
    """The error per mode averaged over log-spaced bins of the mode index."""

    centres: np.ndarray  # (bins,) the bins' geometric centres
    theory: np.ndarray  # (bins,) the theory's error per mode E_ρ
    measured: np.ndarray  # (bins,) measured, mean over the draws
    c2: np.ndarray  # (bins,) the target's power c_ρ²


@dataclass(frozen=True)
class Modes(Record):
    """The whole-population error mode by mode at one training-set size."""

    size: int  # that size, P = mode_size
    index: np.ndarray  # (N,) 1-based mode index ρ (eigenvalue order)
    measured: np.ndarray  # (N,) measured error per mode, mean over the draws
    cum_theory: np.ndarray  # (N,) cumulative share of E_g, theory
    cum_measured: np.ndarray  # (N,) the same, measured
    learnability: np.ndarray  # (N,) L_ρ
    binned: ModeBins
