"""What each conv_ntk figure draws: written by compute.analyze, read by figures.plot_*;
numpy only (the plot jobs import it without JAX)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ntkpaper.pipeline.records import Interval, Record


@dataclass(frozen=True)
class TrainedNets(Record):
    """The trained CNNs of one readout on the first train_n training digits, against the
    analytic CNTK after the same T steps there, per channel count."""

    readout: str  # "flatten" or "pool"
    n_digits: int  # train_n: the training digits they learned
    channels: np.ndarray  # (C_t,) ascending
    accuracy: np.ndarray  # (C_t, S) test accuracy of each net
    mse: np.ndarray  # (C_t, S) test MSE of each net
    kernel_T_accuracy: np.ndarray  # (C_t,) test accuracy of the CNTK after T steps
    kernel_T_mse: np.ndarray  # (C_t,) its test MSE
    distance: np.ndarray  # (C_t, S) ‖f − f_CNTK‖_F / ‖f_CNTK‖_F on the test digits
    distance_ratio: Interval  # widest over narrowest mean distance; NaN with one count


@dataclass(frozen=True)
class KernelScores(Record):
    """A kernel's prediction at t = ∞ from all training digits, scored on the test digits."""

    accuracy: float
    mse: float


@dataclass(frozen=True)
class Accuracy(Record):
    nets: TrainedNets
    n_train: int  # the training digits of the kernels at t = ∞
    # keyed by readout ("flatten", "pool": the analytic CNTK) and "fc" (fully connected NTK)
    infinite: dict[str, KernelScores]


@dataclass(frozen=True)
class EntryCost(Record):
    """What one entry of a readout's analytic CNTK cost."""

    wall: float  # seconds
    cpu: float  # process CPU seconds


@dataclass(frozen=True)
class Deviation(Record):
    """One readout's empirical CNTK at initialization against its analytic one."""

    deviation: np.ndarray  # (C, seeds) ‖Θ̂ − Θ‖_F / ‖Θ‖_F
    rate: Interval  # the rule's exponent of the deviation in C; NaN below three counts
    cost: EntryCost  # of the analytic CNTK


@dataclass(frozen=True)
class Concentration(Record):
    channels: np.ndarray  # (C,) ascending, float
    readouts: dict[str, Deviation]  # keyed "flatten", "pool"
