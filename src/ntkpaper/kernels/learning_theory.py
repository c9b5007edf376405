"""Learning curves of kernel regression from the kernel's spectrum (E12), numpy only.

Setting (Bordelon, Canatar & Pehlevan 2020; Canatar, Bordelon & Pehlevan 2021). Inputs x are
drawn from a measure μ; the kernel has the Mercer decomposition
K(x, x') = Σ_ρ η_ρ φ_ρ(x) φ_ρ(x') with E_μ[φ_ρ φ_σ] = δ_ρσ, and the target is
f*(x) = Σ_ρ c_ρ φ_ρ(x). Kernel ridge regression on P samples with ridge λ,
f(x) = k(x)ᵀ(K_PP + λI)⁻¹y (λ in the units of the Gram matrix; λ = 0 interpolates, which is
the infinitely wide network trained to convergence from f_0 = 0), has the generalization
error E_g = E_μ[(f − f*)²], averaged over training sets, predicted by one self-consistent
equation for κ:

    κ = λ + κ Σ_ρ η_ρ / (P η_ρ + κ)
    γ = Σ_ρ P η_ρ² / (P η_ρ + κ)²
    E_g = 1/(1 − γ) · Σ_ρ κ² c_ρ² / (P η_ρ + κ)²

Canatar et al. write the target on the scaled features ψ_ρ = sqrt(η_ρ) φ_ρ, f* = Σ w̄_ρ ψ_ρ,
which puts η_ρ w̄_ρ² where we write c_ρ² (c_ρ = sqrt(η_ρ) w̄_ρ). With the learnability
L_ρ = P η_ρ/(P η_ρ + κ) the error splits by mode as

    E_ρ = (1 − L_ρ)² c_ρ² + L_ρ² E_g / P,   Σ_ρ E_ρ = E_g  (since Σ_ρ L_ρ²/P = γ),

a bias term plus each mode's share of the variance that the unlearned modes induce; and the
training error is (λ/κ)² E_g (zero at λ = 0).

Finite population. With μ the uniform measure on N points x_1..x_N and K the N×N Gram
matrix, the operator is K/N: its eigenpairs (η_ρ, v_ρ) give φ_ρ(x_i) = sqrt(N)·v_ρ[i] and
c_ρ = v_ρᵀy/sqrt(N) (``population_spectrum``); for K outputs the c_ρ² are averaged over
outputs, so E_g is the squared error averaged over points and outputs. Drawing the P training
points without replacement, E_g is the error averaged over the whole population, training
points included; the error on the N − P held-out points is then
(N·E_g − P·E_train)/(N − P) (``held_out_error``). tests/test_learning_theory.py checks all
of this by Monte Carlo: Gaussian features (where the equation is asymptotically exact) and a
finite population with random eigenvectors, without replacement.

Power laws: if η_ρ ~ ρ^{-b} and the target's tail power T(ρ) = Σ_{σ>ρ} c_σ² ~ ρ^{-s}, then
κ/P is of the order of η at ρ ~ P, the modes above P contribute T(P) ~ P^{-s} and the modes
below contribute P^{-2b}·Σ_{ρ<P} ρ^{2b}c_ρ²; so E_g ~ P^{-min(s, 2b)} (``power_law_exponent``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.linalg
import scipy.optimize

from ntkpaper.statistics import fits


def population_spectrum(k: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Eigenvalues η (descending) and eigenvectors of K/N, and the target's power c_ρ² on each
    (averaged over the K outputs of y, shape (N, K) or (N,)), float64."""
    k = np.asarray(k, np.float64)
    y = np.asarray(y, np.float64).reshape(len(k), -1)
    n = len(k)
    values, vectors = np.linalg.eigh(0.5 * (k + k.T) / n)
    values, vectors = values[::-1], vectors[:, ::-1]
    coeffs = vectors.T @ y / np.sqrt(n)  # (N, K)
    return {"eta": values, "vectors": vectors, "c2": np.mean(coeffs**2, axis=1)}


def solve_kappa(eta: np.ndarray, p: float, ridge: float = 0.0) -> float:
    """The κ > 0 of κ = λ + κ Σ_ρ η_ρ/(P η_ρ + κ) (negative rounding-level η clamped to 0).

    At λ = 0 it solves Σ_ρ η_ρ/(P η_ρ + κ) = 1, which needs more positive modes than P
    (at P equal to the number of modes κ = 0 and E_g = 0)."""
    eta = np.clip(np.asarray(eta, np.float64), 0.0, None)
    if ridge < 0:
        raise ValueError(f"ridge must be >= 0, got {ridge}")
    n_modes = int(np.sum(eta > 0))
    if ridge == 0 and p >= n_modes:
        return 0.0

    def excess(log_kappa: float) -> float:
        kappa = np.exp(log_kappa)
        fill = np.sum(eta / (p * eta + kappa))
        if ridge == 0:
            return 1.0 - fill
        return kappa * (1.0 - fill) - ridge

    hi = np.log(ridge + eta.sum())  # κ ≤ λ + Σ η
    lo = hi - 1.0
    while excess(lo) > 0:  # walk down until the root is bracketed
        lo -= 5.0
        if lo < hi - 700:
            raise ValueError("no root of the kappa equation above exp(-700)")
    return float(np.exp(scipy.optimize.brentq(excess, lo, hi, xtol=1e-13, rtol=1e-13)))


def theory(eta: np.ndarray, c2: np.ndarray, p: float, ridge: float = 0.0) -> dict:
    """E_g, its mode decomposition E_ρ, κ, γ, learnabilities L_ρ and the training error."""
    eta = np.clip(np.asarray(eta, np.float64), 0.0, None)
    c2 = np.asarray(c2, np.float64)
    kappa = solve_kappa(eta, p, ridge)
    if kappa == 0.0:  # P reaches the number of modes: every mode learned, E_g = 0
        learn = (eta > 0).astype(np.float64)
        return {
            "E_g": float(np.sum(c2[eta == 0])),
            "modes": c2 * (eta == 0),
            "kappa": 0.0,
            "gamma": float(np.sum(learn) / p),
            "learnability": learn,
            "E_train": 0.0,
        }
    denom = p * eta + kappa
    gamma = float(np.sum(p * eta**2 / denom**2))
    bias = kappa**2 * c2 / denom**2
    e_g = float(bias.sum() / (1.0 - gamma))
    learn = p * eta / denom
    return {
        "E_g": e_g,
        "modes": bias + learn**2 * e_g / p,
        "kappa": kappa,
        "gamma": gamma,
        "learnability": learn,
        "E_train": (ridge / kappa) ** 2 * e_g,
    }


def theory_curve(eta, c2, sizes: Sequence[int], ridge: float = 0.0) -> dict[str, np.ndarray]:
    """``theory`` over training-set sizes: E_g, E_train, κ, γ, each of shape (len(sizes),)."""
    out = [theory(eta, c2, float(p), ridge) for p in sizes]
    return {name: np.array([o[name] for o in out]) for name in ("E_g", "E_train", "kappa", "gamma")}


def held_out_error(e_g, e_train, p, n):
    """Error on the N − P points left out, from the population average E_g and the training
    error: N·E_g = P·E_train + (N − P)·E_held_out."""
    p = np.asarray(p, np.float64)
    return (n * np.asarray(e_g) - p * np.asarray(e_train)) / (n - p)


def krr_predict(
    k_all_train: np.ndarray, k_train: np.ndarray, y_train: np.ndarray, ridge: float = 0.0
) -> np.ndarray:
    """k(x)ᵀ(K + λI)⁻¹y for the rows of ``k_all_train`` (Cholesky; least squares if the
    Gram matrix is numerically singular)."""
    a = k_train + ridge * np.eye(len(k_train))
    try:
        alpha = scipy.linalg.cho_solve(scipy.linalg.cho_factor(a), y_train)
    except np.linalg.LinAlgError:
        alpha = np.linalg.lstsq(a, y_train, rcond=None)[0]
    return k_all_train @ alpha


def subset_errors(
    k: np.ndarray,
    y: np.ndarray,
    subset: np.ndarray,
    ridge: float = 0.0,
    vectors: np.ndarray | None = None,
) -> dict:
    """Kernel regression on the population points ``subset``: squared errors averaged over
    outputs on the whole population, on the held-out rest and on the training points, and
    (with ``vectors``, the eigenvectors of K/N) the whole-population error mode by mode,
    (v_ρᵀ(f − y))²/N averaged over outputs (these sum to the population error)."""
    y = np.asarray(y, np.float64).reshape(len(k), -1)
    f = krr_predict(k[:, subset], k[np.ix_(subset, subset)], y[subset], ridge)
    sq = np.mean((f - y) ** 2, axis=1)
    rest = np.ones(len(k), bool)
    rest[subset] = False
    out = {
        "whole": float(sq.mean()),
        "rest": float(sq[rest].mean()),
        "train": float(sq[~rest].mean()),
    }
    if vectors is not None:
        out["modes"] = np.mean((vectors.T @ (f - y)) ** 2, axis=1) / len(k)
    return out


def power_law_exponent(eta: np.ndarray, c2: np.ndarray, lo: int, hi: int) -> dict[str, float]:
    """Fitted decay exponents over the 1-based mode indices lo..hi: b of η_ρ ~ ρ^{-b}, s of the
    tail power T(ρ) = Σ_{σ>ρ} c_σ² ~ ρ^{-s}, and the learning-curve exponent min(s, 2b)."""
    idx = np.arange(1, len(eta) + 1)
    tail = np.concatenate([np.cumsum(c2[::-1])[::-1][1:], [0.0]])  # T(ρ) = Σ_{σ>ρ}
    sel = (idx >= lo) & (idx <= hi) & (eta > 0) & (tail > 0)
    b = -fits.loglog_slope(idx[sel], eta[sel])[0]
    s = -fits.loglog_slope(idx[sel], tail[sel])[0]
    return {"b": float(b), "s": float(s), "exponent": float(min(s, 2 * b))}
