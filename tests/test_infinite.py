"""Infinite-width predictions from precomputed kernels against neural-tangents, and the
small numerical helpers the studies rely on."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from ntkpaper._compat import nt
from ntkpaper.kernels import gram, predict
from ntkpaper.networks.models import MLPSpec, stax_network
from ntkpaper.pipeline import keys
from ntkpaper.statistics import fits


@pytest.fixture(scope="module")
def problem():
    spec = MLPSpec(width=1, depth=3, activation="erf", b_std=0.2)
    x = np.asarray(jax.random.normal(keys.run_key(0), (14, 3)))
    x_train, x_test = x[:9], x[9:]
    y_train = np.sin(x_train[:, :2])
    return spec, x_train, x_test, y_train


@pytest.mark.parametrize("t", [0.0, 3.0, 40.0, np.inf])
def test_gp_moments_match_neural_tangents_ensemble(problem, t):
    spec, x_train, x_test, y_train = problem
    kernels = gram.analytic_kernels(spec, x_train, x_test)
    ours = predict.gp_moments(kernels, y_train, np.array([t]), lr=0.7)
    nt_predict = nt.predict.gradient_descent_mse_ensemble(
        stax_network(spec)[2], x_train, y_train, learning_rate=0.7
    )
    mean, cov = nt_predict(t=None if np.isinf(t) else t, x_test=x_test, get="ntk", compute_cov=True)
    np.testing.assert_allclose(ours["mean"][0], mean, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ours["cov"][0], cov, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("activation", ["relu", "erf", "tanh"])
def test_analytic_kernels_match_neural_tangents_blocked_or_not(problem, activation):
    spec, x_train, x_test, _ = problem
    spec = MLPSpec(width=1, depth=3, activation=activation, b_std=0.2)
    direct = gram.analytic_kernels(spec, x_train, x_test, block_size=1000)
    blocked = gram.analytic_kernels(spec, x_train, x_test, block_size=2)
    reference = stax_network(spec)[2](x_test, x_train, ("ntk", "nngp"))
    np.testing.assert_allclose(direct["ntk_test_train"], reference.ntk, rtol=1e-10)
    np.testing.assert_allclose(direct["nngp_test_train"], reference.nngp, rtol=1e-10)
    for name, value in direct.items():
        np.testing.assert_allclose(blocked[name], value, rtol=1e-12, atol=1e-14)


def test_expected_test_mse_is_bias_plus_variance():
    rng = np.random.default_rng(0)
    mean, y = rng.normal(size=(1, 5, 2)), rng.normal(size=(5, 2))
    a = rng.normal(size=(5, 5))
    cov = (a @ a.T)[None]
    samples = mean[0][None] + np.einsum(
        "ij,sjk->sik", np.linalg.cholesky(cov[0]), rng.normal(size=(200_000, 5, 2))
    )
    mc = 0.5 * np.mean((samples - y) ** 2)
    np.testing.assert_allclose(predict.expected_test_mse(mean, cov, y)[0], mc, rtol=1e-2)


def test_bootstrap_slope_recovers_a_power_law():
    widths = np.array([16, 64, 256, 1024])
    rng = np.random.default_rng(1)
    y = 3.0 * widths[:, None] ** -0.5 * np.exp(0.05 * rng.normal(size=(4, 6)))
    fit = fits.bootstrap_slope(widths, y)
    assert abs(fit["slope"] + 0.5) < 0.05 and fit["lo"] < fit["slope"] < fit["hi"]


def test_singular_kernel_is_regularized_with_a_warning_not_nan(caplog):
    phi = np.random.default_rng(0).normal(size=(6, 2))
    k = phi @ phi.T  # rank 2: singular
    kernels = {"ntk_train_train": k, "ntk_test_train": k[:3]}
    with caplog.at_level("WARNING", logger="ntkpaper"):
        out = predict.gp_moments(
            kernels, np.ones((6, 1)), np.array([np.inf]), lr=1.0, compute_cov=False
        )
    assert np.all(np.isfinite(out["mean"])) and out["diag_reg"] > 0
    assert out["condition_number"] <= 1e12
    assert "condition number" in caplog.text


def test_conditioned_eigh_shifts_one_decomposition_exactly():
    # The regularized kernel's decomposition, computed afresh, is the shifted one it returns.
    phi = np.random.default_rng(1).normal(size=(40, 5))
    k = phi @ phi.T  # rank 5: needs regularization
    evals, evecs, diag_reg, cond = predict.conditioned_eigh(k)
    assert diag_reg > 0 and cond <= 1e12
    k_reg = k + diag_reg * np.trace(k) / len(k) * np.eye(len(k))
    np.testing.assert_allclose(evals, np.linalg.eigvalsh(k_reg), rtol=1e-9, atol=1e-12 * evals[-1])
    np.testing.assert_allclose((evecs * evals) @ evecs.T, k_reg, atol=1e-12 * evals[-1])
