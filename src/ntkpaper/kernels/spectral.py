"""Spectral analysis of a kernel Gram matrix and the closed-form linearized dynamics it implies.

Conventions (fixed for the whole package):

* Θ is the n×n kernel on the training inputs, shared by every output dimension (the
  ``trace_axes`` convention of neural-tangents: the full kernel is Θ ⊗ I_K).
* The loss is 0.5·mean((f − y)²) over all m = y.size = n·K entries, so gradient flow on the
  linearized model is df/dt = −(η/m)·Θ·(f − y) and discrete gradient descent is
  f_{t+1} = f_t − (η/m)·Θ·(f_t − y). Time t always counts *steps*: gradient flow at step t
  is continuous time η·t, exactly as in ``nt.predict.gradient_descent_mse``.
* Test points move with the training residual: df*/dt = −(η/m)·Θ(x*, X)·(f − y).

Spectrum. ``eigendecompose`` reports the eigenvalues of Θ/n, the kernel as an integral
operator on the empirical measure of the n training points (these converge as n grows and
are what a spectrum plot shows). The dynamics need the eigenvalues λ_k(Θ) = n·λ_k(Θ/n) of
the Gram matrix itself (``Eigen.gram_values``). With Θ = V·diag(λ)·Vᵀ and the residual
r = f − y written as c = Vᵀr, each mode evolves on its own:

    gradient flow:  c_k(t) = exp(−η·λ_k·t/m)·c_k(0),   rate_k = η·λ_k(Θ)/m per step
    discrete GD:    c_k(t) = (1 − η·λ_k/m)^t·c_k(0),    rate_k = −ln|1 − η·λ_k/m| per step

and, for a test point, f*_t = f*_0 + Θ(x*, X)·Θ⁻¹·(I − decay(t))·(y − f_0). The factor
Θ⁻¹·(I − decay) is evaluated as V·diag(g_k)·Vᵀ with the gain g_k = (1 − decay_k)/λ_k computed
through expm1/log1p, so that g_k → η·t/m (not 0/0) as λ_k → 0. Discrete GD is stable iff
η·λ_max/m < 2, i.e. η < η_crit = 2m/λ_max(Θ).

Numerics: float64 numpy/scipy throughout (inputs of any dtype are accepted; the symmetry
check uses a tolerance set by the *input* dtype). Eigenvalues that rounding makes slightly
negative are kept in ``Eigen`` (they are data) and clamped to 0 in the dynamics, as
neural-tangents does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.optimize

from ntkpaper.statistics import fits

Array = np.ndarray

__all__ = [
    "Eigen",
    "SpectralDynamics",
    "check_symmetric",
    "eigendecompose",
    "fit_mode_rates",
    "k_by_trace_fraction",
    "mode_decay",
    "mode_rates",
    "oracle_stop",
    "power_law_fit",
    "project_residuals",
    "spectral_dynamics",
    "spectral_stop_time",
]


# --------------------------------------------------------------------------------------
# Eigendecomposition
# --------------------------------------------------------------------------------------


class Eigen(NamedTuple):
    """Eigenpairs of a kernel Gram matrix, sorted by decreasing eigenvalue.

    ``values`` are the eigenvalues of Θ/n (operator normalization); ``vectors[:, k]`` is the
    unit eigenvector belonging to ``values[k]``. ``gram_values`` = n·values are the
    eigenvalues of Θ itself, the ones that set the training rates η·λ_k(Θ)/m.
    """

    values: Array
    vectors: Array

    @property
    def n(self) -> int:
        return self.vectors.shape[0]

    @property
    def gram_values(self) -> Array:
        return self.values * self.n


def _symmetry_rtol(dtype: np.dtype) -> float:
    # sqrt(eps): lenient enough for kernels accumulated in float32 (J·Jᵀ over ~1e6
    # parameters), strict enough to catch a non-kernel (1.5e-8 in float64).
    return float(np.sqrt(np.finfo(dtype).eps))


def check_symmetric(k: Array, *, rtol: float | None = None) -> Array:
    """Return (K + Kᵀ)/2 in float64 after checking max|K − Kᵀ| ≤ rtol·max|K|.

    ``rtol`` defaults to sqrt(eps) of K's dtype (3.5e-4 for float32, 1.5e-8 for float64).
    Raises ValueError for a non-square, non-finite or asymmetric matrix.
    """
    k_in = np.asarray(k)
    if k_in.ndim != 2 or k_in.shape[0] != k_in.shape[1]:
        raise ValueError(f"expected a square (n, n) kernel matrix, got shape {k_in.shape}")
    dtype = k_in.dtype if np.issubdtype(k_in.dtype, np.floating) else np.dtype(np.float64)
    k64 = k_in.astype(np.float64)
    if not np.all(np.isfinite(k64)):
        raise ValueError("kernel matrix has non-finite entries")
    rtol = _symmetry_rtol(dtype) if rtol is None else rtol
    scale = float(np.max(np.abs(k64))) if k64.size else 0.0
    asym = float(np.max(np.abs(k64 - k64.T))) if k64.size else 0.0
    if asym > rtol * scale:
        raise ValueError(
            f"kernel matrix is not symmetric: max|K - K^T| = {asym:.3e} exceeds "
            f"rtol·max|K| = {rtol:.1e}·{scale:.3e} (dtype {dtype})"
        )
    return 0.5 * (k64 + k64.T)


def _fix_signs(vectors: Array) -> Array:
    # Eigenvectors are defined up to sign; make the largest-magnitude entry of each positive
    # so projections (and plots of them) are reproducible across LAPACK builds.
    idx = np.argmax(np.abs(vectors), axis=0)
    signs = np.sign(vectors[idx, np.arange(vectors.shape[1])])
    signs[signs == 0] = 1.0
    return vectors * signs


def eigendecompose(k_train: Array, *, symmetry_rtol: float | None = None) -> Eigen:
    """Eigendecomposition of the n×n training kernel, eigenvalues descending, in float64.

    Returns ``Eigen(values, vectors)`` where ``values`` are the eigenvalues of **Θ/n** (the
    kernel as an operator on the empirical measure of the n training points) and
    ``vectors`` the orthonormal eigenvectors (columns; sign fixed so that each column's
    largest-magnitude entry is positive). The eigenvalues of Θ are ``Eigen.gram_values`` =
    n·values; the dynamics use those: mode k of the training residual decays at
    rate_k = η·λ_k(Θ)/m per step under gradient flow (m = y.size = n·out_dim), see
    ``mode_rates``. Symmetry is checked first (see ``check_symmetric``).
    """
    return _eigh_descending(check_symmetric(k_train, rtol=symmetry_rtol))


def _eigh_descending(k64: Array) -> Eigen:
    """``eigendecompose`` of an already checked, symmetric float64 matrix."""
    n = k64.shape[0]
    # Divide and conquer (LAPACK syevd): the fastest driver for all eigenpairs.
    values, vectors = scipy.linalg.eigh(k64, driver="evd")
    order = np.argsort(values)[::-1]
    return Eigen(values=values[order] / n, vectors=_fix_signs(vectors[:, order]))


def power_law_fit(values: Array, *, index_range: tuple[int, int]) -> tuple[float, float]:
    """Fit λ_k ≈ prefactor·k^exponent by least squares of ln λ_k on ln k.

    ``index_range = (lo, hi)`` is 1-based and inclusive: k = lo..hi (values sorted
    descending, as ``eigendecompose`` returns them). The exponent is the signed log-log
    slope, so a decaying spectrum gives a negative exponent. Raises ValueError if the range
    is invalid or holds a non-positive eigenvalue.
    """
    lam = np.asarray(values, dtype=np.float64).ravel()
    lo, hi = (int(i) for i in index_range)
    if not 1 <= lo < hi <= lam.size:
        raise ValueError(f"index_range {index_range} must satisfy 1 <= lo < hi <= {lam.size}")
    ks = np.arange(lo, hi + 1, dtype=np.float64)
    sel = lam[lo - 1 : hi]
    if np.any(sel <= 0):
        raise ValueError(f"non-positive eigenvalue in index_range {index_range}")
    slope, intercept = fits.loglog_slope(ks, sel)
    return slope, float(np.exp(intercept))


# --------------------------------------------------------------------------------------
# Per-mode rates and decay factors
# --------------------------------------------------------------------------------------


def mode_rates(gram_eigenvalues: Array, *, lr: float, m: int, discrete: bool = False) -> Array:
    """Per-step decay rate of each residual mode: |c_k(t)| = |c_k(0)|·exp(−rate_k·t).

    Takes eigenvalues of **Θ** (``Eigen.gram_values``, not Θ/n). Gradient flow:
    rate_k = η·λ_k/m. Discrete GD: rate_k = −ln|1 − η·λ_k/m| (≈ η·λ_k/m for small steps;
    negative when the mode diverges, +inf when η·λ_k/m = 1).
    """
    x = lr * np.maximum(np.asarray(gram_eigenvalues, dtype=np.float64), 0.0) / m
    if not discrete:
        return x
    with np.errstate(divide="ignore"):
        return -np.where(x < 1.0, np.log1p(-np.minimum(x, 1.0)), np.log(np.abs(1.0 - x)))


def _decay_and_gain(
    gram_eigenvalues: Array, t: Array, *, lr: float, m: int, discrete: bool
) -> tuple[Array, Array]:
    """decay_k(t) and gain_k(t) = (1 − decay_k(t))/λ_k for t of shape (T, 1), λ of shape (n,).

    The gain tends to η·t/m as λ_k → 0; expm1/log1p keep it accurate for small η·λ·t/m.
    """
    lam = np.maximum(np.asarray(gram_eigenvalues, dtype=np.float64), 0.0)
    a = lr / m
    x = a * lam
    if not discrete:
        z = -x * t
        decay = np.exp(z)
        one_minus_decay = -np.expm1(z)
    else:
        base = 1.0 - x
        if np.any(base < 0) and np.any(t != np.round(t)):
            raise ValueError(
                "discrete GD with η·λ/m > 1 oscillates in sign: times must be integers"
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            log_abs_base = np.where(x < 1.0, np.log1p(-np.minimum(x, 1.0)), np.log(np.abs(base)))
            z = np.where(t == 0, 0.0, t * log_abs_base)  # avoid 0·(−inf) at η·λ/m = 1
            sign = np.where(base < 0, (-1.0) ** t, 1.0)
        decay = sign * np.exp(z)
        one_minus_decay = np.where(base >= 0, -np.expm1(z), 1.0 - decay)
    positive = lam > 1e-300
    gain = np.where(positive, one_minus_decay / np.where(positive, lam, 1.0), a * t)
    return decay, gain


def mode_decay(
    gram_eigenvalues: Array, t: Array, *, lr: float, m: int, discrete: bool = False
) -> Array:
    """c_k(t)/c_k(0) for every mode k and time t: shape t.shape + (n,)."""
    t_arr = np.asarray(t, dtype=np.float64)
    decay, _ = _decay_and_gain(
        gram_eigenvalues, t_arr.reshape(-1, 1), lr=lr, m=m, discrete=discrete
    )
    return decay.reshape((*t_arr.shape, -1))


# --------------------------------------------------------------------------------------
# Closed-form dynamics from one decomposition
# --------------------------------------------------------------------------------------


def _as_shape(values: Array | float, shape: tuple[int, ...]) -> Array:
    """Broadcast to ``shape``, also accepting a single output as (n,) or (n, 1)."""
    arr = np.asarray(values, dtype=np.float64)
    squeezed = tuple(d for d in shape if d != 1)
    if arr.ndim > 0 and tuple(d for d in arr.shape if d != 1) == squeezed:
        return arr.reshape(shape)
    return np.broadcast_to(arr, shape)


class SpectralDynamics(NamedTuple):
    """Linearized training dynamics in the eigenbasis of Θ (+ regularizer); build it with
    ``spectral_dynamics``. All time arguments count steps and may have any shape; outputs
    carry t's shape as leading axes (as ``nt.predict.gradient_descent_mse`` does).
    """

    gram_values: Array  # eigenvalues of Θ + diag_reg·(trace Θ/n)·I, descending, (n,)
    vectors: Array  # (n, n) orthonormal eigenvectors (columns)
    y_train: Array  # (n,) or (n, K), float64
    test_projection: Array | None  # Θ(x*, X)·V, (n_test, n); None without a test kernel
    lr: float
    m: int  # y_train.size
    discrete: bool

    def _initial_modes(self, f0_train: Array | float) -> Array:
        """c(0) = Vᵀ(f_0 − y), shape (n, K)."""
        y = self.y_train.reshape(self.y_train.shape[0], -1)
        return self.vectors.T @ (_as_shape(f0_train, y.shape) - y)

    def _factors(self, t: Array | float) -> tuple[tuple[int, ...], Array, Array]:
        t_arr = np.asarray(t, dtype=np.float64)
        decay, gain = _decay_and_gain(
            self.gram_values, t_arr.reshape(-1, 1), lr=self.lr, m=self.m, discrete=self.discrete
        )
        return t_arr.shape, decay, gain

    def decay(self, t: Array | float) -> Array:
        """c_k(t)/c_k(0), shape t.shape + (n,)."""
        t_shape, decay, _ = self._factors(t)
        return decay.reshape((*t_shape, -1))

    def residual_modes(self, t: Array | float, f0_train: Array | float = 0.0) -> Array:
        """Components c_k(t) = v_kᵀ(f_t − y) of the training residual along each
        eigenvector: shape t.shape + (n,) + y_train.shape[1:]."""
        t_shape, decay, _ = self._factors(t)
        coeffs = decay[:, :, None] * self._initial_modes(f0_train)[None]
        return coeffs.reshape(t_shape + self.y_train.shape)

    def predict_train(self, t: Array | float, f0_train: Array | float = 0.0) -> Array:
        """f_t = y + V·diag(decay(t))·Vᵀ(f_0 − y): shape t.shape + y_train.shape."""
        t_shape, decay, _ = self._factors(t)
        c0 = self._initial_modes(f0_train)
        y = self.y_train.reshape(c0.shape)
        # One GEMM (n, n) @ (n, T·K); einsum's path search would build a (T, n, n) temporary.
        delta = np.tensordot(self.vectors, decay[:, :, None] * c0[None], axes=(1, 1))
        f_t = y[None] + np.moveaxis(delta, 1, 0)
        return f_t.reshape(t_shape + self.y_train.shape)

    def predict_test(
        self, t: Array | float, f0_train: Array | float, f0_test: Array | float = 0.0
    ) -> Array:
        """f*_t = f*_0 + Θ(x*,X)·Θ⁻¹·(I − decay(t))·(y − f_0): shape t.shape + (n_test, K…)."""
        if self.test_projection is None:
            raise ValueError("predict_test needs k_test_train: pass it to spectral_dynamics")
        t_shape, _, gain = self._factors(t)
        c0 = self._initial_modes(f0_train)
        n_test = self.test_projection.shape[0]
        out_shape = (n_test, *self.y_train.shape[1:])
        f0 = _as_shape(f0_test, out_shape)
        delta = np.tensordot(self.test_projection, gain[:, :, None] * c0[None], axes=(1, 1))
        f_t = f0.reshape(n_test, -1)[None] - np.moveaxis(delta, 1, 0)
        return f_t.reshape(t_shape + out_shape)


def spectral_dynamics(
    k_train: Array,
    y_train: Array,
    *,
    lr: float,
    k_test_train: Array | None = None,
    diag_reg: float = 0.0,
    diag_reg_absolute_scale: bool = False,
    discrete: bool = False,
    symmetry_rtol: float | None = None,
) -> SpectralDynamics:
    """Decompose Θ once and return the closed-form dynamics for any times.

    ``diag_reg`` follows ``nt.predict.gradient_descent_mse`` exactly: the kernel driving the
    dynamics is Θ + diag_reg·(trace(Θ)/n)·I (or Θ + diag_reg·I with
    ``diag_reg_absolute_scale=True``), for the training and the test predictions alike,
    while Θ(x*, X) is left unregularized. ``discrete=False`` gives gradient flow at
    continuous time η·t, ``discrete=True`` gradient descent after t steps.
    """
    k64 = check_symmetric(k_train, rtol=symmetry_rtol)
    n = k64.shape[0]
    y = np.asarray(y_train, dtype=np.float64)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"y_train must have shape ({n},) or ({n}, K), got {y.shape}")
    scale = 1.0 if diag_reg_absolute_scale else np.trace(k64) / n
    eig = _eigh_descending(k64 + diag_reg * scale * np.eye(n))
    projection = None
    if k_test_train is not None:
        k_star = np.asarray(k_test_train, dtype=np.float64)
        if k_star.ndim != 2 or k_star.shape[1] != n:
            raise ValueError(f"k_test_train must have shape (n_test, {n}), got {k_star.shape}")
        projection = k_star @ eig.vectors
    return SpectralDynamics(
        gram_values=eig.gram_values,
        vectors=eig.vectors,
        y_train=y,
        test_projection=projection,
        lr=float(lr),
        m=int(y.size),
        discrete=bool(discrete),
    )


# --------------------------------------------------------------------------------------
# Measuring per-mode decay in a recorded trajectory
# --------------------------------------------------------------------------------------


def project_residuals(residuals: Array, eigvecs: Array) -> Array:
    """Components of residuals (T, n[, K]) along eigenvectors (n, n_modes): (T, n_modes[, K])."""
    r = np.asarray(residuals, dtype=np.float64)
    v = np.asarray(eigvecs, dtype=np.float64)
    if r.ndim < 2 or r.shape[1] != v.shape[0]:
        raise ValueError(f"residuals {r.shape} must be (T, {v.shape[0]}[, K])")
    return np.einsum("tn...,nk->tk...", r, v)


def fit_mode_rates(
    times: Array,
    coeffs: Array,
    *,
    modes: Sequence[int] | None = None,
    min_abs: float | None = None,
) -> Array:
    """Measured per-step decay rate of each mode: minus the slope of ln|c_k(t)| against t.

    ``coeffs`` is (T, n_modes) or (T, n_modes, K); with several outputs the fit uses the
    norm over outputs, ‖c_k(t)‖, which decays at the same rate as every component. Only
    times with ‖c_k(t)‖ > ``min_abs`` enter the fit (default: 1e3·eps(dtype)·max|coeffs|,
    below which rounding dominates). The fit is least squares with a soft-L1 loss, so a few
    outliers do not drag the slope. Sign changes: for a pure decay (gradient flow, or
    discrete GD with η·λ/m < 1) c_k keeps its sign; with 1 < η·λ/m < 2 it alternates and
    |c_k| still decays geometrically; in a trained (not linearized) network c_k may cross
    zero, and the points near a crossing are outliers of ln|c_k| that the robust loss
    down-weights — inspect such modes rather than trusting the rate. Modes with fewer than
    three usable points get NaN. Returns rates for ``modes`` (default: all), shape
    (len(modes),).
    """
    t = np.asarray(times, dtype=np.float64).ravel()
    c_in = np.asarray(coeffs)
    c = c_in.astype(np.float64)
    if c.ndim not in (2, 3) or c.shape[0] != t.size:
        raise ValueError(f"coeffs must be (T={t.size}, n_modes[, K]), got {c.shape}")
    mags = np.linalg.norm(c, axis=2) if c.ndim == 3 else np.abs(c)
    if min_abs is None:
        dtype = c_in.dtype if np.issubdtype(c_in.dtype, np.floating) else np.dtype(np.float64)
        min_abs = 1e3 * float(np.finfo(dtype).eps) * float(np.max(mags, initial=0.0))
    selected = range(mags.shape[1]) if modes is None else modes
    rates = []
    for k in selected:
        keep = mags[:, k] > min_abs
        if np.count_nonzero(keep) < 3:
            rates.append(np.nan)
            continue
        tk, yk = t[keep], np.log(mags[keep, k])
        params = np.polyfit(tk, yk, deg=1)
        # Iteratively rescaled soft-L1: the scale is the MAD of the current residuals, so an
        # outlier's pull shrinks as the fit settles on the bulk of the points.
        for _ in range(3):
            residual = params[0] * tk + params[1] - yk
            scale = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
            params = scipy.optimize.least_squares(
                lambda p, tk=tk, yk=yk: p[0] * tk + p[1] - yk,
                x0=params,
                loss="soft_l1",
                f_scale=max(scale, 1e-10),
                x_scale="jac",
            ).x
        rates.append(-params[0])
    return np.asarray(rates, dtype=np.float64)


# --------------------------------------------------------------------------------------
# Early stopping (E8)
# --------------------------------------------------------------------------------------


def spectral_stop_time(
    gram_eigenvalues: Array,
    *,
    k: int,
    eps: float,
    lr: float,
    m: int,
    discrete: bool = False,
) -> float:
    """First time (in steps) at which the top-k modes of the training residual have decayed
    to ``eps`` of their initial size.

    Takes eigenvalues of **Θ** (``Eigen.gram_values``), in any order. Gradient flow: the
    slowest of the top k sets it, t = ln(1/eps)/rate_k with rate_k = η·λ_k/m, and the
    component at that time equals eps exactly. Discrete GD: the smallest integer t with
    |1 − η·λ_j/m|^t ≤ eps for all top-k j. Returns inf if a top-k eigenvalue is 0 and
    raises ValueError if a top-k mode does not decay (η·λ/m ≥ 2).
    """
    if not 0.0 < eps < 1.0:
        raise ValueError(f"eps must be in (0, 1), got {eps}")
    lam = np.sort(np.asarray(gram_eigenvalues, dtype=np.float64).ravel())[::-1]
    if not 1 <= k <= lam.size:
        raise ValueError(f"k must be in [1, {lam.size}], got {k}")
    rates = mode_rates(lam[:k], lr=lr, m=m, discrete=discrete)
    if np.any(rates < 0) or (discrete and np.any(lr * lam[:k] / m >= 2.0)):
        raise ValueError("a top-k mode does not decay: η·λ/m ≥ 2 (above η_crit)")
    with np.errstate(divide="ignore"):
        times = np.log(1.0 / eps) / rates  # rate 0 → inf, rate inf → 0
    t_stop = float(np.max(times))
    if discrete and np.isfinite(t_stop):
        # Guard against rounding just above an integer (e.g. 3.0000000000000004 → 4).
        t_stop = float(max(np.ceil(t_stop - 1e-9 * max(t_stop, 1.0)), 1.0))
    return t_stop


def k_by_trace_fraction(values: Array, *, fraction: float = 0.9) -> int:
    """Smallest k whose k largest eigenvalues hold ``fraction`` of the trace.

    A spectrum-only choice of how many modes to fit before stopping (E8): the leading modes
    carry most of the kernel's "signal energy", the tail is where label noise gets fitted
    slowly. Negative (rounding) eigenvalues count as 0. Works for Θ or Θ/n alike.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    lam = np.sort(np.maximum(np.asarray(values, dtype=np.float64).ravel(), 0.0))[::-1]
    total = lam.sum()
    if total <= 0:
        raise ValueError("spectrum has no positive eigenvalue")
    cumulative = np.cumsum(lam) / total
    return int(min(np.searchsorted(cumulative, fraction * (1 - 1e-12)) + 1, lam.size))


def oracle_stop(times: Array, test_errors: Array) -> tuple[float, float]:
    """(t*, error) at the smallest test error along a curve (earliest on ties, NaNs ignored)."""
    t = np.asarray(times, dtype=np.float64).ravel()
    err = np.asarray(test_errors, dtype=np.float64).ravel()
    if t.size != err.size or t.size == 0:
        raise ValueError(f"times ({t.size}) and test_errors ({err.size}) must match, non-empty")
    if np.all(np.isnan(err)):
        raise ValueError("test_errors are all NaN")
    best = int(np.nanargmin(err))
    return float(t[best]), float(err[best])
