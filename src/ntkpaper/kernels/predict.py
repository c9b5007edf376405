"""Infinite-width predictions from cached kernel matrices (numpy only).

`gp_moments` gives the mean and covariance of the infinitely wide network trained by
gradient flow for time t (Lee et al. 2019, eq. 16) from the NTK (Θ) and NNGP (K) blocks
alone, with the loss normalization of `nt.predict.gradient_descent_mse` (rate η·Θ/m,
m = y.size):

    μ_t(x*)  = Θ*X Θ⁻¹ (I − e^{−ηΘt/m}) Y
    Σ_t(x*)  = K** + A K A* − (A K*Xᵀ + K*X Aᵀ),   A = Θ*X Θ⁻¹ (I − e^{−ηΘt/m})

Everything goes through one eigendecomposition of Θ, so t = ∞ and tiny eigenvalues are
exact and stable. Diagonal regularization: Θ + diag_reg·(tr Θ / n)·I, as neural-tangents
does with its default relative scale; 0 unless stated, and escalated (with a logged warning)
only when the condition number exceeds 1e12 (`conditioned_eigh`).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

log = logging.getLogger("ntkpaper")


def conditioned_eigh(
    k: np.ndarray, diag_reg: float = 0.0, *, max_condition: float = 1e12
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Eigendecomposition of a kernel matrix, regularized until its condition number is
    below `max_condition`: diag_reg starts where the caller put it (or at 1e-14) and grows
    tenfold, with a logged warning, rather than letting a solve return NaN or noise.

    One decomposition serves every diag_reg: adding c·I shifts the eigenvalues by c and
    leaves the eigenvectors as they are."""
    if not np.all(np.isfinite(k)):
        raise ValueError("kernel matrix has non-finite entries")
    evals, evecs = np.linalg.eigh(k)
    scale = np.trace(k) / len(k)
    start = diag_reg
    while True:
        shifted = evals + diag_reg * scale
        cond = shifted[-1] / shifted[0] if shifted[0] > 0 else np.inf
        if cond <= max_condition:
            break
        diag_reg = max(10 * diag_reg, 1e-14)
    if diag_reg != start:
        log.warning(
            "kernel condition number exceeds %.0e: diag_reg %.1e -> %.1e (condition %.3g)",
            max_condition,
            start,
            diag_reg,
            cond,
        )
    return shifted, evecs, diag_reg, float(cond)


def gp_moments(
    kernels: dict[str, np.ndarray],
    y_train: np.ndarray,
    times: np.ndarray,
    *,
    lr: float,
    diag_reg: float = 0.0,
    compute_cov: bool = True,
    kernel: str = "ntk",
) -> dict[str, Any]:
    """Mean (T, n_test, K) and, optionally, covariance (T, n_test, n_test) over init draws.

    `times` may contain np.inf. With kernel='nngp' the same formulas give the NNGP
    predictor trained by gradient flow on the NNGP kernel (its t = ∞ is Bayesian inference).
    """
    theta_star = kernels[f"{kernel}_test_train"]
    m = y_train.size
    evals, evecs, diag_reg, cond = conditioned_eigh(kernels[f"{kernel}_train_train"], diag_reg)
    times = np.atleast_1d(np.asarray(times, np.float64))
    # g(λ, t) = (1 − e^{−ηλt/m}) / λ, finite as λ → 0 and at t = ∞ (then 1/λ, or 0 if λ = 0).
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        rate = lr * evals[None, :] / m
        decay = np.where(np.isinf(times)[:, None], 0.0, np.exp(-rate * times[:, None]))
        g = np.where(evals[None, :] > 0, (1 - decay) / evals[None, :], lr * times[:, None] / m)
        g = np.where(np.isinf(times)[:, None] & (evals[None, :] <= 0), 0.0, g)
    proj_star = theta_star @ evecs  # (n_test, n)
    proj_y = evecs.T @ y_train  # (n, K)
    mean = np.einsum("tn,sn,nk->tsk", g, proj_star, proj_y)
    out: dict[str, Any] = {
        "times": times,
        "mean": mean,
        "condition_number": cond,
        "diag_reg": diag_reg,
    }
    if compute_cov:
        k_train = kernels["nngp_train_train"]
        k_star = kernels["nngp_test_train"]
        k_star_star = kernels["nngp_test_test"]
        covs = []
        for gt in g:
            a = (proj_star * gt[None, :]) @ evecs.T  # A = Θ*X Θ⁻¹ (I − e^{−ηΘt/m})
            cross = a @ k_star.T
            covs.append(k_star_star + a @ k_train @ a.T - cross - cross.T)
        out["cov"] = np.stack(covs)
    return out


def expected_test_mse(mean: np.ndarray, cov: np.ndarray, y_test: np.ndarray) -> np.ndarray:
    """E over inits of 0.5·mean((f − y)²) on the test set: bias from the mean, variance from
    the covariance's diagonal (identical across output dimensions). Shape (T,)."""
    bias = 0.5 * np.mean((mean - y_test[None]) ** 2, axis=(1, 2))
    variance = 0.5 * np.mean(np.diagonal(cov, axis1=1, axis2=2), axis=1)
    return bias + variance


def accuracy(outputs: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Fraction of argmax predictions equal to labels over the second-to-last axis."""
    return np.mean(np.argmax(outputs, axis=-1) == labels, axis=-1)


def linearized_gd(
    k_train: np.ndarray,
    k_test: np.ndarray,
    f0_train: np.ndarray,
    f0_test: np.ndarray,
    y_train: np.ndarray,
    steps: np.ndarray,
    *,
    lr: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Outputs of a net's linearization g after t steps of full-batch GD, exactly.

    The linearized net g(θ) = f_0 + J·(θ − θ_0) trained by GD on 0.5·mean((g − y)²) (m =
    y.size entries) moves in function space as g_{t+1} = g_t − (η/m)·Θ̂·(g_t − y) on the
    training inputs, Θ̂ = J Jᵀ its empirical NTK at θ_0, so with Θ̂ = Σ λ v vᵀ

        g_t(X)  = f_0(X) + V (1 − (1 − ηλ/m)^t) Vᵀ (y − f_0(X)),
        g_t(x*) = f_0(x*) + Θ̂(x*, X) V [(1 − (1 − ηλ/m)^t)/λ] Vᵀ (y − f_0(X)),

    the bracket tending to ηt/m as λ → 0. ``k_train`` (n, n, K, K) and ``k_test``
    (n*, n, K, K) are the full empirical kernels (every pair of outputs), f0_* (n, K) the
    net's outputs at θ_0. Returns g on train (T, n, K) and test (T, n*, K), float64.
    """
    n, k_out = f0_train.shape
    theta = np.asarray(k_train, np.float64).transpose(0, 2, 1, 3).reshape(n * k_out, n * k_out)
    cross = np.asarray(k_test, np.float64).transpose(0, 2, 1, 3).reshape(-1, n * k_out)
    lam, vec = np.linalg.eigh(0.5 * (theta + theta.T))
    m = y_train.size
    coeff = vec.T @ (np.asarray(y_train, np.float64) - f0_train).reshape(-1)
    t = np.asarray(steps, np.float64)[:, None]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        gain = 1 - (1 - lr * lam[None] / m) ** t  # (T, n·K)
        per_lambda = np.where(np.abs(lam[None]) > 1e-12 * lam[-1], gain / lam[None], lr * t / m)
    g_train = f0_train[None] + ((gain * coeff) @ vec.T).reshape(len(t), n, k_out)
    g_test = f0_test[None] + ((per_lambda * coeff) @ (cross @ vec).T).reshape(len(t), -1, k_out)
    return g_train, g_test


def gaussian_difference(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    """Largest difference between two predicted Gaussians (dicts with 'mean', 'cov'),
    relative to the RMS of b's mean and the largest entry of b's covariance."""
    mean = np.max(np.abs(a["mean"] - b["mean"])) / np.sqrt(np.mean(b["mean"] ** 2))
    cov = np.max(np.abs(a["cov"] - b["cov"])) / np.max(np.abs(b["cov"]))
    return float(max(mean, cov))
