"""The learning-curve theory of E12 (ntkpaper.kernels.learning_theory) against independent
Monte Carlo averages of kernel regression, where the answer is known: Gaussian features (the
self-consistent equation is asymptotically exact) and a finite population with random
eigenvectors, subsets drawn without replacement (our normalization: eigenpairs of K/N)."""

from __future__ import annotations

import numpy as np
import pytest

from ntkpaper.kernels import learning_theory as lt


def _power_law(m: int, b: float = 1.5, a: float = 1.3) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(1, m + 1, dtype=np.float64)
    return idx**-b, idx**-a


def _gaussian_mc(eta, c2, p, ridge, draws, rng):
    """Mean over draws of E_g = Σ_ρ (ĉ_ρ − c_ρ)² (exact for orthonormal φ) and per mode."""
    c = np.sqrt(c2)
    errs = []
    for _ in range(draws):
        phi = rng.standard_normal((p, eta.size))  # φ_ρ(x_μ): E[φ_ρ φ_σ] = δ_ρσ
        k = (phi * eta) @ phi.T
        alpha = np.linalg.solve(k + ridge * np.eye(p), phi @ c)
        errs.append((eta * (phi.T @ alpha) - c) ** 2)
    return np.mean(errs, axis=0)


@pytest.mark.parametrize("ridge", [0.0, 0.05])
@pytest.mark.parametrize("p", [20, 80])
def test_theory_matches_gaussian_feature_monte_carlo(p, ridge):
    eta, c2 = _power_law(300)
    rng = np.random.default_rng(p)
    modes = _gaussian_mc(eta, c2, p, ridge, 300, rng)
    th = lt.theory(eta, c2, p, ridge)
    assert th["E_g"] == pytest.approx(modes.sum(), rel=0.05)
    # the mode decomposition: the learned head and the unlearned tail separately
    head = slice(0, p // 4)
    assert th["modes"][head].sum() == pytest.approx(modes[head].sum(), rel=0.12)
    assert th["modes"][p:].sum() == pytest.approx(modes[p:].sum(), rel=0.06)
    assert th["modes"].sum() == pytest.approx(th["E_g"], rel=1e-10)  # Σ_ρ E_ρ = E_g


def _population(n, rng):
    """A finite population: K/N has eigenpairs (η, Q) with Q Haar-random; c = Qᵀy/sqrt(N)."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    eta, c2 = _power_law(n)
    k = (q * eta) @ q.T * n
    y = q @ np.sqrt(c2) * np.sqrt(n)
    return k, y[:, None], eta, c2


def test_population_spectrum_recovers_eta_and_target_weights():
    k, y, eta, c2 = _population(120, np.random.default_rng(0))
    spec = lt.population_spectrum(k, y)
    np.testing.assert_allclose(spec["eta"], eta, rtol=1e-8, atol=1e-13)
    np.testing.assert_allclose(spec["c2"], c2, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("ridge", [0.0, 2.0])
def test_theory_matches_a_finite_population_without_replacement(ridge):
    """E_g is the error over the whole population, training points included; at λ = 0 the
    held-out error is N·E_g/(N − P) up to P/N = 0.83. With a ridge the finite population
    departs from the theory as P/N grows (12% at P/N = 0.83 here), so only P/N ≤ 1/2 is
    checked; the Gaussian test above is where the ridge is exact."""
    rng = np.random.default_rng(1)
    n = 300
    k, y, _, _ = _population(n, rng)
    spec = lt.population_spectrum(k, y)
    for p in (30, 150, 250) if ridge == 0 else (30, 150):
        errs = [lt.subset_errors(k, y, rng.permutation(n)[:p], ridge) for _ in range(60)]
        whole, rest = (np.mean([e[name] for e in errs]) for name in ("whole", "rest"))
        th = lt.theory(spec["eta"], spec["c2"], p, ridge)
        assert th["E_g"] == pytest.approx(whole, rel=0.05 if ridge == 0 else 0.08), p
        if ridge == 0:
            assert lt.held_out_error(th["E_g"], 0.0, p, n) == pytest.approx(rest, rel=0.05), p
        else:  # the ridge's units matter: λ taken in the units of K/N is far off
            wrong = lt.theory(spec["eta"], spec["c2"], p, ridge / n)["E_g"]
            assert abs(wrong / whole - 1) > 0.15, p


def test_training_error_with_a_ridge_matches_gaussian_monte_carlo():
    eta, c2 = _power_law(300)
    rng = np.random.default_rng(3)
    for ridge, p in ((0.05, 20), (1.0, 80)):
        train = []
        for _ in range(200):
            phi = rng.standard_normal((p, eta.size))
            k, y = (phi * eta) @ phi.T, phi @ np.sqrt(c2)
            train.append(np.mean((lt.krr_predict(k, k, y, ridge) - y) ** 2))
        assert lt.theory(eta, c2, p, ridge)["E_train"] == pytest.approx(np.mean(train), rel=0.08)


def test_mode_errors_of_a_subset_sum_to_the_population_error():
    rng = np.random.default_rng(2)
    k, y, _, _ = _population(80, rng)
    spec = lt.population_spectrum(k, y)
    e = lt.subset_errors(k, y, rng.permutation(80)[:20], 0.0, spec["vectors"])
    assert e["modes"].sum() == pytest.approx(e["whole"], rel=1e-10)
    assert e["train"] < 1e-20 * max(1.0, e["whole"]) + 1e-12


def test_kappa_solves_its_equation_and_falls_with_p():
    eta, _ = _power_law(500)
    for ridge in (0.0, 1e-3, 1.0):
        kappas = [lt.solve_kappa(eta, p, ridge) for p in (5, 50, 400)]
        for p, kappa in zip((5, 50, 400), kappas, strict=True):
            rhs = ridge + kappa * np.sum(eta / (p * eta + kappa))
            assert kappa == pytest.approx(rhs, rel=1e-9)
        assert kappas[0] > kappas[1] > kappas[2] > 0
    assert lt.solve_kappa(eta, 500, 0.0) == 0.0  # P = number of modes: interpolation
    assert lt.theory(eta, eta, 500)["E_g"] == 0.0


def test_power_law_exponents_of_exact_power_laws():
    eta, c2 = _power_law(40000, b=1.2, a=2.0)  # tail Σ_{σ>ρ} σ^{-2} ~ ρ^{-1}
    fit = lt.power_law_exponent(eta, c2, 20, 400)
    assert fit["b"] == pytest.approx(1.2, abs=1e-9)
    assert fit["s"] == pytest.approx(1.0, abs=0.03)
    assert fit["exponent"] == pytest.approx(1.0, abs=0.03)
