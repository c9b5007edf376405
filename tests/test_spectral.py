"""Tests for ntkpaper.kernels.spectral: closed-form dynamics against neural-tangents, against
step-by-step gradient descent and against a matrix exponential; rate fits, power laws and
stopping times."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from ntkpaper._compat import nt, stax
from ntkpaper.kernels import spectral
from ntkpaper.statistics import rates

from .conftest import relative_error

N_TRAIN, N_TEST, IN_DIM = 60, 25, 4


@pytest.fixture(scope="module")
def relu_ntk() -> tuple[np.ndarray, np.ndarray]:
    """Analytic depth-4 relu NTK (β = 0.1) on random inputs: (k_train_train, k_test_train)."""
    x = np.random.default_rng(0).normal(size=(N_TRAIN + N_TEST, IN_DIM))
    layers = []
    for _ in range(3):
        layers += [stax.Dense(512, W_std=1.0, b_std=0.1), stax.Relu()]
    _, _, kernel_fn = stax.serial(*layers, stax.Dense(1, W_std=1.0, b_std=0.1))
    k = np.asarray(kernel_fn(jnp.asarray(x, dtype=jnp.float64), None, "ntk"))
    return k[:N_TRAIN, :N_TRAIN], k[N_TRAIN:, :N_TRAIN]


def _problem(out_dim: int | None, seed: int = 1) -> tuple[np.ndarray, ...]:
    """Targets and initial outputs, shape (n,) for out_dim None else (n, out_dim)."""
    rng = np.random.default_rng(seed)
    tail = () if out_dim is None else (out_dim,)
    y = rng.normal(size=(N_TRAIN, *tail))
    f0_train = 0.3 * rng.normal(size=(N_TRAIN, *tail))
    f0_test = 0.3 * rng.normal(size=(N_TEST, *tail))
    return y, f0_train, f0_test


# ----------------------------------------------------------------------------------------------
# Eigendecomposition and input checks
# ----------------------------------------------------------------------------------------------


def test_eigendecompose_normalization_order_and_reconstruction(relu_ntk):
    k, _ = relu_ntk
    eig = spectral.eigendecompose(k)
    assert np.all(np.diff(eig.values) <= 0)
    np.testing.assert_allclose(eig.values, np.sort(np.linalg.eigvalsh(k))[::-1] / N_TRAIN)
    np.testing.assert_allclose(eig.gram_values, N_TRAIN * eig.values)
    np.testing.assert_allclose(eig.vectors.T @ eig.vectors, np.eye(N_TRAIN), atol=1e-12)
    reconstructed = eig.vectors @ np.diag(eig.gram_values) @ eig.vectors.T
    assert relative_error(reconstructed, k, ord=np.inf) < 1e-12
    peaks = eig.vectors[np.argmax(np.abs(eig.vectors), axis=0), np.arange(N_TRAIN)]
    assert np.all(peaks > 0)
    assert eig.values[-1] > 0  # the NTK Gram matrix of distinct inputs is positive definite


def test_asymmetric_kernel_raises(relu_ntk):
    k, _ = relu_ntk
    bad = k.copy()
    bad[0, 1] += 1e-6 * np.max(np.abs(k))
    with pytest.raises(ValueError, match="not symmetric"):
        spectral.eigendecompose(bad)
    with pytest.raises(ValueError, match="not symmetric"):
        spectral.spectral_dynamics(bad, np.zeros(N_TRAIN), lr=1.0)
    with pytest.raises(ValueError, match="square"):
        spectral.eigendecompose(k[:, :-1])


def test_symmetry_tolerance_follows_dtype(relu_ntk):
    k, _ = relu_ntk
    # A float32 kernel carries float32-sized asymmetry: accepted, and symmetrized exactly.
    k32 = (k + 1e-6 * np.max(np.abs(k)) * np.triu(np.ones_like(k), 1)).astype(np.float32)
    symmetrized = spectral.check_symmetric(k32)
    assert symmetrized.dtype == np.float64
    np.testing.assert_array_equal(symmetrized, symmetrized.T)
    # The same relative asymmetry in float64 is far above rounding: rejected.
    with pytest.raises(ValueError, match="not symmetric"):
        spectral.check_symmetric(k32.astype(np.float64))


# ----------------------------------------------------------------------------------------------
# Closed-form dynamics
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("out_dim", [None, 1, 3])
@pytest.mark.parametrize("diag_reg", [0.0, 1e-2])
def test_gradient_flow_matches_neural_tangents(relu_ntk, out_dim, diag_reg):
    k, k_test = relu_ntk
    y, f0_train, f0_test = _problem(out_dim)
    lr = 0.7
    times = np.array([0.0, 0.5, 3.0, 100.0, 1e4, 1e8])
    # neural-tangents traces the last axis of y: a single output must be (n, 1) there.
    as_2d = (lambda a: a[:, None]) if out_dim is None else (lambda a: a)
    predict_fn = nt.predict.gradient_descent_mse(
        jnp.asarray(k), jnp.asarray(as_2d(y)), learning_rate=lr, diag_reg=diag_reg
    )
    train_nt, test_nt = predict_fn(
        times, jnp.asarray(as_2d(f0_train)), jnp.asarray(as_2d(f0_test)), jnp.asarray(k_test)
    )
    train_nt = np.asarray(train_nt).reshape(times.shape + y.shape)
    test_nt = np.asarray(test_nt).reshape(times.shape + f0_test.shape)
    dynamics = spectral.spectral_dynamics(k, y, lr=lr, k_test_train=k_test, diag_reg=diag_reg)
    train = dynamics.predict_train(times, f0_train)
    test = dynamics.predict_test(times, f0_train, f0_test)
    assert train.shape == train_nt.shape and test.shape == test_nt.shape
    assert relative_error(train, train_nt, ord=np.inf) < 1e-8
    assert relative_error(test, test_nt, ord=np.inf) < 1e-8
    np.testing.assert_allclose(train[0], f0_train, atol=1e-12)
    np.testing.assert_allclose(test[0], f0_test, atol=1e-12)
    # Scalar time: no leading axis, as in neural-tangents.
    assert dynamics.predict_test(3.0, f0_train, f0_test).shape == f0_test.shape


def _step_gd(k, k_test, y, f0_train, f0_test, *, lr, steps):
    """f_{t+1} = f_t − (η/m)Θ(f_t − y), f*_{t+1} = f*_t − (η/m)Θ(x*,X)(f_t − y)."""
    a = lr / y.size
    f, f_star = f0_train.copy(), f0_test.copy()
    train, test = [f.copy()], [f_star.copy()]
    for _ in range(steps):
        residual = f - y
        f = f - a * (k @ residual)
        f_star = f_star - a * (k_test @ residual)
        train.append(f.copy())
        test.append(f_star.copy())
    return np.stack(train), np.stack(test)


@pytest.mark.parametrize("out_dim", [None, 3])
@pytest.mark.parametrize("step_fraction", [0.5, 1.5], ids=["monotone", "oscillating"])
@pytest.mark.parametrize("diag_reg", [0.0, 1e-2])
def test_discrete_closed_form_matches_stepping(relu_ntk, out_dim, step_fraction, diag_reg):
    k, k_test = relu_ntk
    y, f0_train, f0_test = _problem(out_dim, seed=2)
    k_reg = k + diag_reg * np.trace(k) / N_TRAIN * np.eye(N_TRAIN)
    # η·λ_max/m = step_fraction: with 1.5 the top modes flip sign every step yet converge.
    lr = step_fraction * y.size / np.linalg.eigvalsh(k_reg)[-1]
    steps = 150
    train_ref, test_ref = _step_gd(k_reg, k_test, y, f0_train, f0_test, lr=lr, steps=steps)
    dynamics = spectral.spectral_dynamics(
        k, y, lr=lr, k_test_train=k_test, diag_reg=diag_reg, discrete=True
    )
    times = np.arange(steps + 1)
    assert relative_error(dynamics.predict_train(times, f0_train), train_ref, ord=np.inf) < 1e-10
    assert (
        relative_error(dynamics.predict_test(times, f0_train, f0_test), test_ref, ord=np.inf)
        < 1e-10
    )
    if step_fraction > 1:
        with pytest.raises(ValueError, match="integers"):
            dynamics.predict_train(np.array([0.5]), f0_train)


def test_gradient_flow_matches_matrix_exponential_with_singular_kernel():
    """Rank-deficient Θ = ΦΦᵀ (zero eigenvalues): the gain (1 − e^{−aλt})/λ must take its
    limit a·t, never 0/0. Reference: f*_t = f*_0 − aΘ*·[∫₀ᵗ e^{−aΘs} ds]·(f_0 − y), the
    integral read off the exponential of the block matrix [[−aΘ, I], [0, 0]]."""
    rng = np.random.default_rng(3)
    n, n_test, features = 30, 7, 10
    phi, phi_test = rng.normal(size=(n, features)), rng.normal(size=(n_test, features))
    k, k_test = phi @ phi.T, phi_test @ phi.T
    y, f0, f0_test = rng.normal(size=(n, 2)), rng.normal(size=(n, 2)), rng.normal(size=(n_test, 2))
    lr, a = 2.0, 2.0 / y.size
    dynamics = spectral.spectral_dynamics(k, y, lr=lr, k_test_train=k_test)
    assert np.sum(dynamics.gram_values < 1e-9 * dynamics.gram_values[0]) == n - features
    for t in [0.0, 0.3, 20.0, 500.0]:
        block = np.zeros((2 * n, 2 * n))
        block[:n, :n], block[:n, n:] = -a * k, np.eye(n)
        expm = scipy.linalg.expm(block * t)
        integral, propagator = expm[:n, n:], expm[:n, :n]
        test_ref = f0_test - a * k_test @ integral @ (f0 - y)
        train_ref = y + propagator @ (f0 - y)
        test = dynamics.predict_test(t, f0, f0_test)
        assert np.all(np.isfinite(test))
        np.testing.assert_allclose(test, test_ref, rtol=1e-8, atol=1e-8 * np.abs(test_ref).max())
        np.testing.assert_allclose(dynamics.predict_train(t, f0), train_ref, atol=1e-8)


def test_residual_modes_are_projections_of_train_residual(relu_ntk):
    k, _ = relu_ntk
    y, f0, _ = _problem(3)
    dynamics = spectral.spectral_dynamics(k, y, lr=1.0)
    times = np.array([0.0, 10.0, 1000.0])
    residuals = dynamics.predict_train(times, f0) - y
    projected = spectral.project_residuals(residuals, dynamics.vectors)
    assert projected.shape == (3, N_TRAIN, 3)
    np.testing.assert_allclose(dynamics.residual_modes(times, f0), projected, atol=1e-12)
    np.testing.assert_allclose(
        projected[1] / projected[0],
        np.broadcast_to(dynamics.decay(10.0)[:, None], (N_TRAIN, 3)),
        rtol=1e-9,
    )


# ----------------------------------------------------------------------------------------------
# Measured per-mode rates
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("out_dim", [None, 2])
def test_fit_mode_rates_recovers_synthetic_rates(out_dim):
    rng = np.random.default_rng(4)
    rates = np.array([0.5, 0.1, 0.02, 0.003])
    times = np.linspace(0.0, 60.0, 121)
    tail = () if out_dim is None else (out_dim,)
    c0 = rng.choice([-1.0, 1.0], size=(rates.size, *tail)) * rng.uniform(
        0.5, 2.0, (rates.size, *tail)
    )
    decay = np.exp(-np.outer(times, rates)).reshape(times.size, rates.size, *(1,) * len(tail))
    noise = 1 + 1e-3 * rng.normal(size=(times.size, *c0.shape))
    coeffs = decay * c0 * noise
    np.testing.assert_allclose(spectral.fit_mode_rates(times, coeffs), rates, rtol=2e-2)
    # The floor drops the points where the fast mode is below it, and modes selects.
    fitted = spectral.fit_mode_rates(times, coeffs, modes=[0, 3], min_abs=1e-6)
    np.testing.assert_allclose(fitted, rates[[0, 3]], rtol=2e-2)


def test_fit_mode_rates_is_robust_to_a_near_zero_crossing():
    times = np.arange(40.0)
    coeffs = np.exp(-0.05 * times)[:, None]
    coeffs[17] *= 1e-6  # a near-crossing: ln|c| dives by ~14
    ordinary = -np.polyfit(times, np.log(np.abs(coeffs[:, 0])), 1)[0]
    assert abs(ordinary - 0.05) > 0.005  # ordinary least squares is dragged off
    np.testing.assert_allclose(spectral.fit_mode_rates(times, coeffs), [0.05], rtol=1e-3)


def test_stepped_trajectory_decays_at_eta_lambda_over_m(relu_ntk):
    k, _ = relu_ntk
    y, f0, _ = _problem(2, seed=5)
    eig = spectral.eigendecompose(k)
    lr = 0.2 * y.size / eig.gram_values[0]  # small steps: discrete GD ≈ gradient flow
    train, _ = _step_gd(k, np.zeros((1, N_TRAIN)), y, f0, np.zeros((1, 2)), lr=lr, steps=60)
    coeffs = spectral.project_residuals(train - y, eig.vectors)
    modes = [0, 1, 2, 3, 4]
    measured = spectral.fit_mode_rates(np.arange(61), coeffs, modes=modes)
    exact = spectral.mode_rates(eig.gram_values[modes], lr=lr, m=y.size, discrete=True)
    np.testing.assert_allclose(measured, exact, rtol=1e-6)
    flow = spectral.mode_rates(eig.gram_values[modes], lr=lr, m=y.size)
    np.testing.assert_allclose(flow, lr * eig.gram_values[modes] / y.size)
    # −ln(1 − x) = x + x²/2 + …, x ≤ 0.2: the flow rate is within ~11 %.
    np.testing.assert_allclose(measured, flow, rtol=0.12)


# ----------------------------------------------------------------------------------------------
# Power law, learning-rate limit, stopping
# ----------------------------------------------------------------------------------------------


def test_power_law_fit_recovers_exponent_on_index_range():
    k = np.arange(1, 101, dtype=np.float64)
    values = 3.0 * k**-1.7
    values[:4] = 50.0  # outside index_range: must be ignored
    values[60:] = 1e-30
    exponent, prefactor = spectral.power_law_fit(values, index_range=(5, 60))
    assert exponent == pytest.approx(-1.7, abs=1e-10)
    assert prefactor == pytest.approx(3.0, rel=1e-10)
    with pytest.raises(ValueError):
        spectral.power_law_fit(values, index_range=(0, 10))
    with pytest.raises(ValueError, match="non-positive"):
        spectral.power_law_fit(-values, index_range=(5, 60))


def test_critical_learning_rate_separates_convergence_from_divergence(relu_ntk):
    k, _ = relu_ntk
    lam = spectral.eigendecompose(k).gram_values
    m = 2 * N_TRAIN
    lr_crit = rates.critical_lr(k, m)  # 2m/λ_max, the one home of η_crit
    below = spectral.mode_decay(lam, 2000, lr=0.99 * lr_crit, m=m, discrete=True)
    above = spectral.mode_decay(lam, 2000, lr=1.01 * lr_crit, m=m, discrete=True)
    assert np.max(np.abs(below)) < 1.0 and np.abs(above[0]) > 1e5


@pytest.mark.parametrize("discrete", [False, True])
@pytest.mark.parametrize("top_k", [1, 4, 10])
def test_spectral_stop_time_inverts_the_decay(relu_ntk, discrete, top_k):
    k, _ = relu_ntk
    lam = spectral.eigendecompose(k).gram_values
    m, eps = 3 * N_TRAIN, 1e-3
    lr = 0.5 * m / lam[0]
    t_stop = spectral.spectral_stop_time(lam, k=top_k, eps=eps, lr=lr, m=m, discrete=discrete)
    decay = np.abs(spectral.mode_decay(lam, t_stop, lr=lr, m=m, discrete=discrete))
    if discrete:
        assert t_stop == np.round(t_stop)
        assert np.all(decay[:top_k] <= eps)
        earlier = spectral.mode_decay(lam, t_stop - 1, lr=lr, m=m, discrete=True)
        assert np.max(np.abs(earlier[:top_k])) > eps
    else:
        assert decay[top_k - 1] == pytest.approx(eps, rel=1e-10)
        assert np.all(decay[:top_k] <= eps * (1 + 1e-10))
        assert np.all(decay[top_k:] >= eps * (1 - 1e-10))


def test_spectral_stop_time_edge_cases():
    lam = np.array([4.0, 1.0, 0.0])
    assert spectral.spectral_stop_time(lam, k=3, eps=0.1, lr=1.0, m=4) == np.inf
    # η·λ/m = 1: the top mode vanishes after exactly one step.
    assert spectral.spectral_stop_time(lam, k=1, eps=0.1, lr=1.0, m=4, discrete=True) == 1.0
    with pytest.raises(ValueError, match="does not decay"):
        spectral.spectral_stop_time(lam, k=1, eps=0.1, lr=2.5, m=4, discrete=True)


def test_k_by_trace_fraction_and_oracle_stop():
    values = np.array([4.0, 3.0, 2.0, 1.0, -1e-15])
    assert spectral.k_by_trace_fraction(values, fraction=0.7) == 2
    assert spectral.k_by_trace_fraction(values, fraction=0.71) == 3
    assert spectral.k_by_trace_fraction(values, fraction=1.0) == 4
    times = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    errors = np.array([1.0, 0.5, 0.2, 0.2, np.nan])
    assert spectral.oracle_stop(times, errors) == (2.0, 0.2)
