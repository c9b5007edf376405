"""Learning rates given as a number or as a fraction of the critical rate.

With the loss 0.5·mean((f − y)²) over m = n·K entries, gradient descent on the linearized
model moves the residual by r ← (I − ηΘ/m)·r, which is stable while η·λ_max(Θ)/m < 2:
η_crit = 2m/λ_max. A config's `lr: {eta_crit: 0.5}` means half of η_crit of the analytic NTK
on that study's own training set (what is stable depends on the architecture: the same
absolute rate can be 0.2 η_crit for one net and 2 η_crit for another). Every training study
records the resolved rate and η_crit, so the paper can give both."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def critical_rate(kernel, m: int) -> np.ndarray:
    """η_crit = 2m/λ_max(Θ) of each symmetric kernel in a stack (..., N, N), in float64: the
    one place the stability bound of gradient descent on the linearized model is computed."""
    return 2.0 * m / np.linalg.eigvalsh(np.asarray(kernel, np.float64))[..., -1]


def critical_lr(k_train, m: int) -> float:
    """η_crit = 2m/λ_max(Θ) for the loss 0.5·mean over m = y.size entries, of one training
    kernel: n×n (the Θ ⊗ I_d form, m = n·d) or the full (n·d)×(n·d) empirical kernel,
    symmetrized first. (nt.predict.max_learning_rate breaks on SciPy ≥ 1.15.)"""
    k = np.asarray(k_train, dtype=np.float64)
    if k.ndim != 2 or k.shape[0] != k.shape[1]:
        raise ValueError(f"k_train must be a square 2-D matrix, got shape {k.shape}")
    rate = float(critical_rate(0.5 * (k + k.T), m))
    if not rate > 0:
        raise ValueError(f"k_train has no positive eigenvalue (η_crit = {rate})")
    return rate


def resolve(lr: float | Mapping[str, Any], ntk_train, m: int) -> dict[str, float]:
    """{"lr": the absolute rate of a config's `lr` (a number, or {eta_crit: fraction}),
    "eta_crit": 2m/λ_max of `ntk_train`}."""
    eta_crit = critical_lr(ntk_train, m)
    value = float(lr["eta_crit"]) * eta_crit if isinstance(lr, Mapping) else float(lr)
    return {"lr": value, "eta_crit": eta_crit}


def numbers(lr: float, eta_crit: float) -> dict[str, float]:
    """A run's rate and critical rate (as `resolve` gave them) as numbers for the paper."""
    lr, eta_crit = float(lr), float(eta_crit)
    return {"lr": lr, "eta_crit": eta_crit, "eta_over_eta_crit": lr / eta_crit}
