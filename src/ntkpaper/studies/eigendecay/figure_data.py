"""What each eigendecay figure draws: written by compute.analyze, read by figures.plot_*;
numpy only (the plot jobs import it without JAX)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ntkpaper.pipeline.records import Intervals, Record


@dataclass(frozen=True)
class PowerLaw(Record):
    """A fitted power law prefactor·k^exponent over lo ≤ k ≤ hi (NaN where not fitted)."""

    exponent: float
    prefactor: float
    lo: int  # first index (digits) or frequency (circle) of the fit
    hi: int  # last


@dataclass(frozen=True)
class Spectrum(Record):
    digits_values: np.ndarray  # (n_train,) eigenvalues of Θ/n on the digits, descending
    digits_fit: PowerLaw  # over the 1-based eigenvalue indices
    circle_freqs: np.ndarray  # (N/2 + 1,) frequencies 0..N/2
    circle_mu: np.ndarray  # (N/2 + 1,) Fourier coefficients of the kernel on the whole circle
    circle_sampled_mu: np.ndarray  # (N/2 + 1,) those of the N-point Gram matrix's first row
    circle_fit: PowerLaw  # of circle_mu over the frequencies, all parities
    theory_exponent: float  # Bietti & Mairal's exponent on the circle
    parity_labels: np.ndarray  # (V,) str: each kernel variant's legend label, configured first
    parity_k: np.ndarray  # (k,) the odd frequencies of the parity check
    parity_ratios: np.ndarray  # (V, k) μ_k / sqrt(μ_{k−1}·μ_{k+1}) of each variant


@dataclass(frozen=True)
class Pc2Decay(Record):
    widths: np.ndarray  # (W,) ascending
    times: np.ndarray  # (T,) record steps
    along: np.ndarray  # (W, S, T) ⟨r_t, f^(2)⟩/n, starts at −0.5
    orth: np.ndarray  # (W, S, T) RMS of r_t orthogonal to f^(2), starts at 0
    theory_along: np.ndarray  # (T,) the infinite-width linearized model's ⟨r_t, f^(2)⟩/n


@dataclass(frozen=True)
class RateDiagnosis(Record):
    """One learning rate's diagnosis of the shortfall: the run's η or the slow repeat's."""

    rayleigh_rel: np.ndarray  # (W, S, K) R_t/R_0 along f^(2) at the kernel steps
    flow_over_gd: float  # the flow rate of f^(2) over its GD rate at this learning rate
    # (W,) per width, mean over seeds with its 90% bootstrap interval: the network's rate
    # over its own linearization's, and the rate its kernel path predicts over R_0's
    net_over_lin: Intervals
    kernel_path: Intervals


@dataclass(frozen=True)
class Pc2Kernel(Record):
    widths: np.ndarray  # (W,) ascending
    times: np.ndarray  # (K,) the kernel steps, from 0
    slow_lr_fraction: float  # the slow repeat's rate over η
    window_end: float  # the last step of the rate fit at η
    full: RateDiagnosis  # at η
    slow: RateDiagnosis  # at slow_lr_fraction·η


@dataclass(frozen=True)
class ModeRates(Record):
    times: np.ndarray  # (T,) record steps
    norms: np.ndarray  # (S, T, k) ‖c_k(t)‖/‖c_k(0)‖ over the K outputs
    predicted: np.ndarray  # (k,) each mode's GD rate −ln(1 − ηλ_k/n)
    measured: np.ndarray  # (S, k) each seed's fitted rate
    theory: np.ndarray  # (T, k) the infinite-width linearized model's decay of each mode
