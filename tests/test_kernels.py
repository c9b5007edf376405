"""Tests for ntkpaper.kernels.analytic: the infinite-width NNGP/NTK recursion against
neural-tangents' analytic kernel_fn (the judge), exact scalar recursions, quadrature, finite
random nets, and its structural properties (symmetry, PSD, tiling, dtypes, degenerate inputs)."""

from __future__ import annotations

import functools
import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ntkpaper  # noqa: F401  (x64 and shims before neural_tangents)
from ntkpaper._compat import nt, stax
from ntkpaper.kernels.analytic import Kernels, diagonal_kernels, kernels

N0 = 6
ROW_SCALES = (0.1, 1.0, 10.0)  # input norms over three decades


def _inputs(n: int, seed: int) -> np.ndarray:
    """Gaussian rows, rescaled cyclically by ROW_SCALES so |x|²/n0 spans 1e-2..1e2."""
    x = np.random.default_rng(seed).normal(size=(n, N0))
    return x * np.resize(ROW_SCALES, n)[:, None]


@pytest.fixture(scope="module")
def x1() -> np.ndarray:
    return _inputs(7, seed=0)


@pytest.fixture(scope="module")
def x2() -> np.ndarray:
    return _inputs(5, seed=1)


def _stax_layer(activation: str):
    return {"relu": stax.Relu, "erf": stax.Erf}[activation]()


@functools.cache
def _nt_kernel_fn(depth: int, activation: str, w_std: float, b_std: float):
    hidden = []
    for _ in range(depth - 1):
        hidden += [stax.Dense(512, w_std, b_std, parameterization="ntk"), _stax_layer(activation)]
    _, _, kernel_fn = stax.serial(*hidden, stax.Dense(1, w_std, b_std, parameterization="ntk"))
    return kernel_fn


def _max_relative_error(ours, reference) -> float:
    ours, reference = np.asarray(ours), np.asarray(reference)
    return float(np.max(np.abs(ours - reference)) / np.max(np.abs(reference)))


def _assert_elementwise_close(ours, reference, rtol: float) -> None:
    """Entrywise relative error on the well-conditioned entries (not cancelled to ~0)."""
    ours, reference = np.asarray(ours), np.asarray(reference)
    conditioned = np.abs(reference) >= 1e-3 * np.max(np.abs(reference))
    np.testing.assert_allclose(ours[conditioned], reference[conditioned], rtol=rtol, atol=0)


def _check_against_nt(x1, x2, *, depth, activation, w_std, b_std) -> None:
    # One nt call on the stacked inputs gives both K(x1, x1) and K(x1, x2).
    n1 = len(x1)
    reference = _nt_kernel_fn(depth, activation, w_std, b_std)(
        np.concatenate([x1, x2]), None, ("nngp", "ntk")
    )
    settings = dict(depth=depth, activation=activation, W_std=w_std, b_std=b_std)
    cross = kernels(x1, x2, **settings)
    same = kernels(x1, **settings)
    off_diagonal = ~np.eye(n1, dtype=bool)
    for name in Kernels._fields:
        ref = np.asarray(getattr(reference, name))
        assert _max_relative_error(getattr(cross, name), ref[:n1, n1:]) <= 1e-10, name
        _assert_elementwise_close(getattr(cross, name), ref[:n1, n1:], rtol=1e-10)
        ours_same, ref_same = np.asarray(getattr(same, name)), ref[:n1, :n1]
        assert _max_relative_error(ours_same[off_diagonal], ref_same[off_diagonal]) <= 1e-10
        _assert_elementwise_close(ours_same[off_diagonal], ref_same[off_diagonal], rtol=1e-10)
        # nt's diagonal: nngp agrees; its NTK diagonal carries an O(sqrt(eps)) error, because
        # nt's x·x from a matmul and |x|² from a sum differ in the last bit, so it evaluates
        # θ = arccos(1 − O(eps)) ≈ 1e-8 instead of 0 (test_diagonal_is_exact shows ours is
        # the exact value). Hence the looser tolerance on that diagonal only.
        diagonal_rtol = 1e-10 if name == "nngp" or activation == "erf" else 1e-7
        np.testing.assert_allclose(np.diag(ours_same), np.diag(ref_same), rtol=diagonal_rtol)


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5, 6])
def test_matches_neural_tangents_over_depth(x1, x2, activation, depth):
    _check_against_nt(x1, x2, depth=depth, activation=activation, w_std=1.5, b_std=0.1)


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("w_std", [1.0, 1.5, 2.0])
@pytest.mark.parametrize("b_std", [0.0, 0.1, 1.0])
def test_matches_neural_tangents_over_weight_and_bias(x1, x2, activation, w_std, b_std):
    _check_against_nt(x1, x2, depth=3, activation=activation, w_std=w_std, b_std=b_std)


def _scalar_diagonal_recursion(x_row, *, depth, activation, w_std, b_std) -> tuple[float, float]:
    """Σ_L(x, x), Θ_L(x, x) with Python floats and the textbook ρ = 1 moments."""
    w_var, b_var = w_std**2, b_std**2
    q = w_var * float(np.dot(x_row, x_row)) / len(x_row) + b_var
    theta = q
    for _ in range(depth - 1):
        if activation == "relu":  # E[relu(f)²] = q/2, E[step(f)²] = 1/2
            e_act, e_deriv = q / 2, 0.5
        else:  # arcsine kernel at c = q
            e_act = 2 / math.pi * math.asin(2 * q / (1 + 2 * q))
            e_deriv = 4 / math.pi / math.sqrt((1 + 2 * q) ** 2 - 4 * q**2)
        q = w_var * e_act + b_var
        theta = theta * w_var * e_deriv + q
    return q, theta


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_diagonal_is_exact(x1, activation):
    settings = dict(depth=5, activation=activation, w_std=1.5, b_std=0.1)
    expected = np.array([_scalar_diagonal_recursion(row, **settings) for row in x1])
    full = kernels(x1, depth=5, activation=activation, W_std=1.5, b_std=0.1)
    diag = diagonal_kernels(x1, depth=5, activation=activation, W_std=1.5, b_std=0.1)
    for column, name in enumerate(Kernels._fields):
        np.testing.assert_allclose(np.diag(getattr(full, name)), expected[:, column], rtol=1e-13)
        np.testing.assert_allclose(getattr(diag, name), expected[:, column], rtol=1e-13)


def test_depth_one_is_the_affine_input_kernel(x1, x2):
    out = kernels(x1, x2, depth=1, W_std=2.0, b_std=0.5)
    expected = 4.0 * x1 @ x2.T / N0 + 0.25
    np.testing.assert_allclose(out.nngp, expected, rtol=1e-14)
    np.testing.assert_array_equal(out.ntk, out.nngp)


# Gauss–Hermite converges slowly for ReLU (Σ' integrates a step function) and for erf at large
# variance, so these use unit-scale inputs and tolerances measured at n_quad = 64.
@pytest.mark.parametrize(
    ("activation", "nngp_rtol", "ntk_rtol"), [("relu", 2e-3, 1e-2), ("erf", 5e-5, 5e-3)]
)
def test_quadrature_converges_to_closed_form(activation, nngp_rtol, ntk_rtol):
    x = np.random.default_rng(2).normal(size=(6, N0))
    settings = dict(depth=4, activation=activation, W_std=1.5, b_std=0.1)
    closed = kernels(x, method="closed", **settings)
    coarse = kernels(x, method="quadrature", n_quad=16, **settings)
    fine = kernels(x, method="quadrature", n_quad=64, **settings)
    for name, rtol in [("nngp", nngp_rtol), ("ntk", ntk_rtol)]:
        error_fine = _max_relative_error(getattr(fine, name), getattr(closed, name))
        error_coarse = _max_relative_error(getattr(coarse, name), getattr(closed, name))
        assert error_fine <= rtol, (name, error_fine)
        assert error_fine < error_coarse / 2, (name, error_fine, error_coarse)


def test_quadrature_is_exact_for_a_polynomial_activation(x1, x2):
    """n-node Gauss–Hermite integrates polynomials of degree ≤ 2n − 1 exactly, so a cubic σ
    (σσ of degree 6) through the callable path, with σ' by autodiff, must match nt's analytic
    Polynomial kernel to rounding."""
    coefficients = (0.2, 1.0, -0.3, 0.25)

    def cubic(x):
        return coefficients[0] + x * (coefficients[1] + x * (coefficients[2] + x * coefficients[3]))

    depth, w_std, b_std = 3, 1.2, 0.3
    hidden = []
    for _ in range(depth - 1):
        hidden += [stax.Dense(8, w_std, b_std), stax.Polynomial(coefficients)]
    _, _, kernel_fn = stax.serial(*hidden, stax.Dense(1, w_std, b_std))
    x1, x2 = x1 / np.linalg.norm(x1, axis=1, keepdims=True), x2[:3] / 3.0
    reference = kernel_fn(x1, x2, ("nngp", "ntk"))
    ours = kernels(
        x1,
        x2,
        depth=depth,
        activation=cubic,
        W_std=w_std,
        b_std=b_std,
        method="quadrature",
        n_quad=4,
    )
    for name in Kernels._fields:
        assert _max_relative_error(getattr(ours, name), getattr(reference, name)) <= 1e-12


def test_tanh_quadrature_agrees_with_nt_numerical_integration(x1, x2):
    """tanh has no closed form; nt's ElementwiseNumerical also uses Gauss–Hermite but with a
    Cholesky change of variables (ours: symmetric square root), so the two agree only once
    both have converged."""
    x1, x2 = x1 / np.resize(ROW_SCALES, 7)[:, None], x2 / np.resize(ROW_SCALES, 5)[:, None]
    depth, w_std, b_std, n_quad = 3, 1.0, 0.1, 64
    hidden = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(depth - 1):
            hidden += [
                stax.Dense(8, w_std, b_std, parameterization="ntk"),
                stax.ElementwiseNumerical(jnp.tanh, n_quad, lambda x: 1 - jnp.tanh(x) ** 2),
            ]
    _, _, kernel_fn = stax.serial(*hidden, stax.Dense(1, w_std, b_std, parameterization="ntk"))
    reference = kernel_fn(x1, x2, ("nngp", "ntk"))
    settings = dict(depth=depth, activation="tanh", W_std=w_std, b_std=b_std)
    ours = kernels(x1, x2, n_quad=n_quad, **settings)
    coarse = kernels(x1, x2, n_quad=24, **settings)
    for name in Kernels._fields:
        # Measured: 4e-7 at n_quad = 64, 4e-4 at 24; nt's error dominates (ours is 5x closer
        # to the n_quad = 200 limit, thanks to the ρ = 1 rule on the diagonal).
        error = _max_relative_error(getattr(ours, name), getattr(reference, name))
        assert error <= 2e-6, (name, error)
        assert error < _max_relative_error(getattr(coarse, name), getattr(reference, name))


# Calibration (widths 512 and 2048, 16 seeds, depth 3, |x|²/n0 ∈ [0.25, 4]): the max-entry
# error of one finite net relative to max|K| has rms ≈ 3.7/sqrt(width), scaling exactly as
# 1/sqrt(width) for relu, erf and tanh. Averaging S independent nets divides it by sqrt(S);
# the tolerance is about 2.2 times that rms.
MC_WIDTH, MC_SAMPLES = 2048, 4
MC_TOLERANCE = 8.0 / math.sqrt(MC_WIDTH * MC_SAMPLES)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_monte_carlo_finite_width(activation):
    x = np.random.default_rng(3).normal(size=(8, N0)) * np.resize([0.5, 1.0, 2.0], 8)[:, None]
    depth, w_std, b_std = 3, 1.5, 0.1
    layer = stax.Relu() if activation == "relu" else stax.Elementwise(jnp.tanh)
    hidden = []
    for _ in range(depth - 1):
        hidden += [stax.Dense(MC_WIDTH, w_std, b_std, parameterization="ntk"), layer]
    _, apply_hidden, _ = stax.serial(*hidden)
    init_fn, apply_fn, _ = stax.serial(*hidden, stax.Dense(1, w_std, b_std, parameterization="ntk"))
    empirical_ntk = jax.jit(nt.empirical_ntk_fn(apply_fn, vmap_axes=0, implementation=3))
    apply_hidden = jax.jit(apply_hidden)
    nngp_samples, ntk_samples = [], []
    for seed in range(MC_SAMPLES):
        _, params = init_fn(jax.random.PRNGKey(seed), x.shape)
        # The NNGP concentrates on the last hidden features (a one-unit output does not).
        features = apply_hidden(params[:-1], x)
        nngp_samples.append(w_std**2 * features @ features.T / MC_WIDTH + b_std**2)
        ntk_samples.append(empirical_ntk(x, None, params))
    analytic = kernels(x, depth=depth, activation=activation, W_std=w_std, b_std=b_std, n_quad=64)
    assert _max_relative_error(np.mean(nngp_samples, 0), analytic.nngp) <= MC_TOLERANCE
    assert _max_relative_error(np.mean(ntk_samples, 0), analytic.ntk) <= MC_TOLERANCE


@pytest.mark.parametrize(
    ("activation", "method", "psd_tol"),
    [("relu", "closed", 1e-12), ("erf", "closed", 1e-12), ("tanh", "quadrature", 1e-12)],
)
def test_symmetric_and_positive_semidefinite(activation, method, psd_tol):
    x = _inputs(20, seed=4)
    if method == "quadrature":
        # A quadrature kernel is PSD only as far as it is accurate: at |x|²/n0 ~ 100 tanh is
        # a near step on the node spacing and min eigenvalue/max reaches -2e-3 (n_quad = 24).
        x /= np.resize(ROW_SCALES, 20)[:, None]
    x = np.concatenate([x, x[:3]])  # repeated rows: exactly singular
    out = kernels(x, depth=4, activation=activation, method=method, n_quad=24)
    for name in Kernels._fields:
        matrix = np.asarray(getattr(out, name))
        np.testing.assert_array_equal(matrix, matrix.T)
        eigenvalues = np.linalg.eigvalsh(matrix)
        assert eigenvalues[0] >= -psd_tol * eigenvalues[-1], (name, eigenvalues[0])


@pytest.mark.parametrize(("activation", "method"), [("relu", "closed"), ("tanh", "quadrature")])
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("block_size", [1, 4])
def test_blocked_equals_unblocked(activation, method, symmetric, block_size):
    x1, x2 = _inputs(11, seed=5), None if symmetric else _inputs(10, seed=6)
    settings = dict(depth=4, activation=activation, method=method, n_quad=12)
    whole = kernels(x1, x2, **settings)
    tiled = kernels(x1, x2, block_size=block_size, **settings)
    for name in Kernels._fields:
        assert isinstance(getattr(tiled, name), np.ndarray)
        assert _max_relative_error(getattr(tiled, name), getattr(whole, name)) <= 1e-14
        if symmetric:
            np.testing.assert_array_equal(getattr(tiled, name), getattr(tiled, name).T)


@pytest.mark.parametrize(
    ("activation", "method"), [("relu", "closed"), ("erf", "closed"), ("tanh", "quadrature")]
)
def test_zero_input_without_bias_is_finite(activation, method):
    x = _inputs(4, seed=7)
    x[1] = 0.0
    out = kernels(x, depth=4, activation=activation, method=method, b_std=0.0, n_quad=8)
    for name in Kernels._fields:
        matrix = np.asarray(getattr(out, name))
        assert np.all(np.isfinite(matrix))
        # σ(0) = 0 for all three, so the zero input's features vanish at every layer.
        np.testing.assert_array_equal(matrix[1], 0.0)
        np.testing.assert_array_equal(matrix[:, 1], 0.0)


def test_float32_stays_float32(x1, x2):
    single = kernels(x1, x2, depth=4, dtype=jnp.float32)
    double = kernels(x1, x2, depth=4)
    for name in Kernels._fields:
        assert getattr(single, name).dtype == jnp.float32
        assert _max_relative_error(getattr(single, name), getattr(double, name)) <= 1e-5


def test_traceable_under_jit(x1, x2):
    jitted = jax.jit(functools.partial(kernels, depth=3, activation="erf", b_std=0.2))
    eager = kernels(x1, x2, depth=3, activation="erf", b_std=0.2)
    for got, want in zip(jitted(x1, x2), eager, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(activation="softplus"), "expected one of"),
        (dict(activation="tanh", method="closed"), "no closed form"),
        (dict(method="exact"), "method="),
        (dict(depth=0), "depth=0"),
        (dict(activation="tanh", n_quad=0), "n_quad=0"),
    ],
)
def test_rejects_bad_arguments(x1, kwargs, message):
    with pytest.raises(ValueError, match=message):
        kernels(x1, **{"depth": 2, **kwargs})
