"""What each kernel_pca figure draws: written by compute.analyze, read by figures.plot_*;
numpy only (the plot jobs import it without JAX)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ntkpaper.pipeline.records import Record


@dataclass(frozen=True)
class Spectrum(Record):
    eigenvalues: np.ndarray  # (D, TOP) the top eigenvalues of Θ/N of each batch drawn
    published: np.ndarray  # (3,) Jacot et al.'s λ_1..3; empty when none are configured
    components: np.ndarray  # (N, 3) √N·v_1..3 of the first batch
    labels: np.ndarray  # (N,) int64: the first batch's digits


@dataclass(frozen=True)
class Training(Record):
    widths: np.ndarray  # (W,) ascending
    steps: np.ndarray  # (T,) record steps
    along: np.ndarray  # (W, S, T) ⟨r_t, f^(2)⟩/N, starts at −0.5
    orth: np.ndarray  # (W, S, T) RMS of r_t orthogonal to f^(2), starts at 0
    theory: np.ndarray  # (T,) the infinite-width linearized model's ⟨r_t, f^(2)⟩/N
    fit_window_end: float  # the last step of the rate fit
    kernel_steps: np.ndarray  # (K,) where the kernel along f^(2) is tracked, from 0
    kernel: np.ndarray  # (W, S, K) uᵀΘ̂_tu over the analytic λ_2 (Gram units)
