"""Tests for the spectral studies E7 (eigendecay) and E8 (early_stopping): end to end on tiny
digits, the Jacot Fig. 3 decomposition against step-by-step gradient descent, the circle's
Fourier spectrum against Bietti & Mairal's parity result, the stopping rules against their
formulas and the init-variance curve against predict.gp_moments."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from ntkpaper.data import datasets
from ntkpaper.kernels import gram, predict, spectral
from ntkpaper.networks.models import model_spec
from ntkpaper.paper import macros
from ntkpaper.pipeline import io, keys
from ntkpaper.studies.early_stopping import compute as early_stopping
from ntkpaper.studies.early_stopping import figures as figures_early_stopping
from ntkpaper.studies.eigendecay import compute as eigendecay
from ntkpaper.studies.eigendecay import figures as figures_eigendecay
from ntkpaper.studies.kernel_pca import compute as kernel_pca

from .conftest import through_figure_file, through_run_file

MODEL = {"depth": 3, "activation": "relu", "parameterization": "ntk", "W_std": 1.0, "b_std": 0.1}
KEY_PART = re.compile(r"^[A-Za-z0-9_]+$")


def _dataset(label_noise: float) -> dict[str, np.ndarray]:
    spec = {"source": "digits", "n_train": 64, "n_test": 48, "label_noise": label_noise}
    return datasets.prepare("tiny", spec, key=keys.run_key(0, "data", "tiny"))


@pytest.fixture(scope="module")
def kernels() -> dict[str, np.ndarray]:
    """Analytic kernels of the tiny split (label noise changes targets, not inputs)."""
    d = _dataset(0.0)
    return gram.analytic_kernels(model_spec(MODEL, width=1, out_dim=1), d["x_train"],
                                     d["x_test"])  # fmt: skip


@pytest.fixture(scope="module")
def digits(kernels) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    return _dataset(0.0), kernels


@pytest.fixture(scope="module")
def noisy_digits(kernels) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    d = _dataset(0.25)
    assert np.array_equal(d["x_train"], _dataset(0.0)["x_train"])
    return d, kernels


def _check_numbers(numbers: dict, tmp_path) -> dict:
    """JSON round trip through io.write_json, and every key usable in \\N{a.b.c}."""
    path = tmp_path / "numbers.json"
    io.write_json(path, numbers)
    loaded = io.read_json(path)
    for name in macros.flatten(loaded):
        assert all(KEY_PART.match(part) for part in name.split(".")), name
    return loaded


# ----------------------------------------------------------------------------- E7d


def test_kernel_pca_eigenvalues_are_those_of_each_batch_and_variants_change_them(digits):
    d, _ = digits
    spec = {"model": MODEL, "batch": 24, "draws": 3, "published": [1.0, 0.1, 0.05],
            "widths": [16], "seeds": 2, "lr": {"eta_crit": 0.5}, "steps": 6}  # fmt: skip
    run = kernel_pca.run(spec, d, key=keys.run_key(0, "kernel_pca", "tiny"))
    assert run.draws.shape == (3, 24) and all(len(set(r)) == 24 for r in run.draws)
    x = d["x_train"]
    for draw, values in zip(run.draws, run.eigenvalues, strict=True):
        # eigenvalues of Θ/N on that batch, from the kernel of those digits alone
        gram = kernel_pca.ntk_gram(MODEL, x[draw])
        expected = np.sort(np.linalg.eigvalsh(gram / 24))[::-1]
        np.testing.assert_allclose(values, expected[: values.size], rtol=1e-10)
    np.testing.assert_allclose(run.variant_eigenvalues["configured"], run.eigenvalues[:, :3])
    depths = {"shallower": 2, "deeper": 4}
    assert run.variant_depths == {name: depths.get(name, 3) for name in kernel_pca.VARIANTS}
    for name in ("sphere", "shallower", "deeper"):  # each setting moves the numbers (the tiny
        # digits are standardized already, so centring them changes nothing)
        assert not np.allclose(run.variant_eigenvalues[name], run.eigenvalues[:, :3], rtol=1e-3)
    # kernel PCA: √N·v_k has unit RMS, the components are orthogonal
    c = run.components
    np.testing.assert_allclose(np.mean(c**2, axis=0), 1.0, rtol=1e-10)
    np.testing.assert_allclose(c.T @ c / 24, np.eye(3), atol=1e-10)
    numbers, _ = kernel_pca.analyze([run], spec=spec)
    rel = numbers["lambda_rel_error"][1]["mean"]
    assert rel == pytest.approx(np.mean(run.eigenvalues[:, 1]) / 0.1 - 1, rel=1e-12)
    assert numbers["variants"]["deeper"]["depth"] == 4


# ----------------------------------------------------------------------------- E7


def test_eigendecay_end_to_end(digits, tmp_path):
    d, kernels = digits
    spec = {"data": "tiny", "model": MODEL, "widths": [32, 16], "seeds": 2, "lr": 2.0,
            "steps": 12, "fit_range": [2, 12], "n_modes": 3, "circle_points": 32,
            "train_subset": 40, "slow_lr_fraction": 0.5}  # fmt: skip
    run = eigendecay.run(spec, d, key=keys.run_key(0, "eigendecay", "tiny"), kernels=kernels)
    run = through_run_file(run, tmp_path / "run.npz")
    numbers, figures = eigendecay.analyze([run], spec=spec)
    loaded = _check_numbers(numbers, tmp_path)
    assert loaded["widths"] == [16, 32] and loaded["train_subset"] == 40
    assert loaded["digits_min_positive"] and loaded["digits_exponent"] < 0
    assert len(loaded["pc2_rate_ratio"]) == 2 and len(loaded["mode_rate_ratio"]) == 3
    for r in loaded["pc2_rate_ratio"] + loaded["mode_rate_ratio"] + loaded["pc2_lin_rate_ratio"]:
        assert math.isfinite(r["mean"]) and r["mean"] > 0 and r["lo"] <= r["hi"]
        assert r["n_seeds"] == 2
    # the estimator recovers the known rates of the infinite-width linear model exactly
    assert loaded["calibration_bias"] < 1e-6
    # each net's own linearization starts on f^(2) too and leaks nothing at t = 0
    assert loaded["mode_least_consistent"] in (1, 2, 3)
    # the nets start exactly on f^(2): nothing orthogonal before the first step
    assert np.max(figures["pc2_decay"].orth[:, :, 0]) < 1e-5
    assert np.allclose(figures["pc2_decay"].along[:, :, 0], -0.5, atol=1e-5)
    assert set(figures) == {"spectrum", "pc2_decay", "pc2_kernel", "mode_rates"}
    # the kernel path: R_t/R_0 starts at 1, and the VJP Rayleigh quotient at t = 0 is the
    # one of the empirical NTK the own linearization uses
    assert np.allclose(figures["pc2_kernel"].full.rayleigh_rel[..., 0], 1.0)
    np.testing.assert_allclose(run.pc2_rayleigh[..., 0], run.pc2_init_rayleigh, rtol=1e-4)
    np.testing.assert_allclose(run.pc2_slow_rayleigh[..., 0], run.pc2_init_rayleigh, rtol=1e-4)
    for name in ("pc2_kernel_path_ratio", "pc2_slow_net_over_lin", "pc2_shortfall_slow_over_full",
                 "pc2_net_over_kernel_path", "pc2_kernel_window_end"):  # fmt: skip
        points = [r.get("mean", r.get("ratio")) for r in loaded[name]]
        assert len(points) == 2 and all(math.isfinite(p) for p in points)
    assert 0 < loaded["pc2_shortfall_ratio_if_flow"] < 1
    assert loaded["pc2_slow_fit_window_end"] >= loaded["pc2_fit_window_end"]
    for stem, fig_data in figures.items():
        path = tmp_path / f"{stem}.pdf"
        plot = getattr(figures_eigendecay, f"plot_{stem}")
        plot(through_figure_file(fig_data, plot, tmp_path / f"{stem}.npz"), path)
        assert path.stat().st_size > 1000


@pytest.mark.parametrize("discrete", [True, False])
def test_pc2_component_decays_at_the_predicted_rate(digits, discrete):
    """Linearized dynamics on y = f_0 + 0.5·f^(2): the component along f^(2) is exactly
    −0.5·decay_2(t), nothing leaks orthogonally, and the fit recovers the rate."""
    _, kernels = digits
    theta = kernels["ntk_train_train"]
    n, lr = len(theta), 2.0
    eig = spectral.eigendecompose(theta)
    f2 = np.sqrt(n) * eig.vectors[:, 1]
    times = np.arange(0, 40, dtype=np.float64)
    dyn = spectral.spectral_dynamics(theta, 0.5 * f2, lr=lr, discrete=discrete)
    along, orth = eigendecay.pc2_components(dyn.predict_train(times, 0.0), f2)  # f_0 = 0
    rate = spectral.mode_rates(eig.gram_values, lr=lr, m=n, discrete=discrete)[1]
    np.testing.assert_allclose(along, -0.5 * np.exp(-rate * times), rtol=1e-10)
    assert np.max(orth) < 1e-12
    np.testing.assert_allclose(eigendecay.fit_rate(times, along, rate), rate, rtol=1e-8)
    if discrete:  # independent check: step the GD recursion f ← f − (η/m)Θ(f − y)
        f, y, steps = np.zeros(n), 0.5 * f2, []
        for _ in times:
            steps.append(f.copy())
            f = f - lr / n * theta @ (f - y)
        np.testing.assert_allclose(eigendecay.pc2_components(np.array(steps), f2)[0], along,
                                   atol=1e-12)  # fmt: skip


def test_tracked_training_is_one_run_and_its_probe_is_the_rayleigh_quotient(digits):
    """train_tracked (segments between probe steps) gives train.train's iterates, and
    rayleigh_fn's ‖Jᵀu‖² is uᵀΘ̂u of the layerwise empirical NTK at every record."""
    import jax
    import jax.numpy as jnp

    from ntkpaper.networks import train
    from ntkpaper.networks.empirical import ensemble_empirical_ntk
    from ntkpaper.networks.models import init_ensemble, make_apply

    d, _ = digits
    x = jnp.asarray(d["x_train"][:24], jnp.float32)
    spec = model_spec(MODEL, width=16, out_dim=1)
    params0 = init_ensemble(spec, key=jax.random.PRNGKey(3), in_dim=x.shape[1], n_seeds=2)
    apply_fn = make_apply(spec)
    y = np.asarray(d["y_train"][:24, :1], np.float32)
    steps = np.array([0, 1, 2, 5, 9])
    unit = np.linspace(-1, 1, 24) / np.linalg.norm(np.linspace(-1, 1, 24))
    probe = eigendecay.rayleigh_fn(apply_fn, x, unit)
    f, ray = eigendecay.train_tracked(apply_fn, params0, x, y, lr=1.5, record_steps=steps,
                                      probe_steps=np.array([0, 3, 9]), probe=probe)  # fmt: skip
    assert ray.shape == (3, 2)
    rec, params = train.train(apply_fn, params0, x, y, x[:1], y[:1], lr=1.5, steps=9,
                              record_steps=steps)  # fmt: skip
    np.testing.assert_allclose(f, rec.f_train, rtol=1e-5, atol=1e-6)
    theta = np.asarray(ensemble_empirical_ntk(spec, params, x), np.float64)
    np.testing.assert_allclose(ray[-1], np.einsum("sij,i,j->s", theta, unit, unit), rtol=1e-4)


def test_kernel_path_decay_is_the_product_of_per_step_factors():
    times = np.array([0, 1, 2, 4, 8])
    rayleigh = np.array([2.0, 1.8, 1.6, 1.2, 1.0])
    decay = eigendecay.kernel_path_decay(rayleigh, times, times, lr=0.5, m=4)
    r = np.interp(np.arange(8), times, rayleigh)
    expected = np.concatenate([[1.0], np.cumprod(1 - 0.5 * r / 4)])[times]
    np.testing.assert_allclose(decay, expected, rtol=1e-12)
    # a constant kernel gives the discrete-GD decay (1 − ηR/m)^t
    const = eigendecay.kernel_path_decay(np.full(2, 2.0), np.array([0, 8]), times, lr=0.5, m=4)
    np.testing.assert_allclose(const, 0.75**times, rtol=1e-12)


def test_circle_spectrum_is_fourier_and_two_layer_odd_modes_vanish():
    # Two-layer ReLU NTK without bias: μ_k = 0 for odd k ≥ 3 (Bietti & Mairal 2019).
    plain = eigendecay.circle_spectrum({"depth": 2, "b_std": 0.0}, 32)
    mu = plain["circle_mu"]
    assert np.all(mu[[0, 1, 2, 4, 6]] > 1e-4 * mu[0])
    assert np.max(np.abs(mu[3::2])) < 1e-10 * mu[0]
    # With a bias and depth the odd frequencies come back.
    deep = eigendecay.circle_spectrum(MODEL, 32)
    assert np.all(deep["circle_mu"][3:12:2] > 1e-2 * deep["circle_mu"][2:11:2])
    # The circulant matrix's eigenvalues are its row's DFT, frequencies 1..N/2−1 twice.
    for spec in (plain, deep):
        s = spec["circle_sampled_mu"]
        fourier = np.sort(np.concatenate([s, s[1:-1]]))[::-1]
        np.testing.assert_allclose(spec["circle_matrix_values"], fourier, atol=1e-9 * s[0])


# ----------------------------------------------------------------------------- E8


def _es_spec(widths):
    return {"data": "tiny", "model": MODEL, "top_k": 4, "eps": 0.1, "lr": 20.0,
            "val_fraction": 0.25, "draws": 3, "widths": widths, "seeds": 2,
            "steps": 60}  # fmt: skip


@pytest.mark.parametrize("widths", [[16], []])
def test_early_stopping_end_to_end(noisy_digits, tmp_path, widths):
    d, kernels = noisy_digits
    spec = _es_spec(widths)
    run = early_stopping.run(spec, d, key=keys.run_key(0, "es", "tiny"), kernels=kernels)
    numbers, figures = early_stopping.analyze(
        [through_run_file(run, tmp_path / "run.npz")], spec=spec
    )
    loaded = _check_numbers(numbers, tmp_path)
    assert loaded["net"]["width"] == widths
    assert loaded["n_validation"] == 16 and loaded["noise_fraction"] == pytest.approx(0.25)
    assert loaded["n_draws"] == 3 and run.test_mse.shape == (3, len(run.times))
    draws = early_stopping.rule_draws(run)
    # The oracle is the best of each draw's full-data curve; t = ∞ is the curve's far end.
    oracle = draws["oracle"]["test_mse"]
    for rule in ("spectral", "validation_refit", "trace_50", "trace_90"):
        assert np.all(oracle <= draws[rule]["test_mse"])
    assert np.all(oracle <= draws["infinite"]["test_mse"] * (1 + 1e-9))
    assert loaded["ratio_spectral_to_oracle"]["ratio"] >= 1.0
    assert loaded["oracle"]["gain_fraction"]["ratio"] == pytest.approx(1.0)
    assert loaded["infinite"]["gain_fraction"]["ratio"] == pytest.approx(0.0, abs=1e-12)
    # every compared quantity carries its interval over the draws
    for name in ("ratio_spectral_to_infinite", "ratio_spectral_to_ridge", "gain_spectral",
                 "ratio_infinite_to_oracle"):  # fmt: skip
        record = loaded[name]
        assert record["n_seeds"] == 3 and record["lo"] <= record["ratio"] <= record["hi"]
    ratio = np.mean(draws["spectral"]["test_mse"]) / np.mean(draws["infinite"]["test_mse"])
    assert loaded["ratio_spectral_to_infinite"]["ratio"] == pytest.approx(ratio)
    acc = loaded["acc_gain_spectral_vs_infinite"]
    assert acc["mean"] == pytest.approx(loaded["spectral"]["test_acc"]["mean"]
                                        - loaded["infinite"]["test_acc"]["mean"])  # fmt: skip
    # the spectral stop time is the formula's: max over the top k of ceil(ln(1/ε)/rate_j)
    lam = np.linalg.eigvalsh(kernels["ntk_train_train"])[::-1][: spec["top_k"]]
    rates = -np.log1p(-spec["lr"] * lam / d["y_train"].size)
    expected = np.max(np.ceil(np.log(1 / spec["eps"]) / rates))
    assert loaded["spectral"]["t"] == expected
    # the trace-fraction rows: the smallest k whose eigenvalues hold that share of the trace
    cumulative = np.cumsum(np.linalg.eigvalsh(kernels["ntk_train_train"])[::-1])
    for frac in (50, 90):
        k = int(np.argmax(cumulative >= frac / 100 * cumulative[-1])) + 1
        assert loaded[f"trace_{frac}"]["k"] == loaded[f"k_trace_{frac}"] == k
    # at the spectral stop every top-k component of the residual is at most eps of its start
    dyn = spectral.spectral_dynamics(kernels["ntk_train_train"], d["y_train"], lr=spec["lr"],
                                     discrete=True)  # fmt: skip
    decay = np.abs(dyn.decay(loaded["spectral"]["t"]))[: spec["top_k"]]
    assert np.all(decay <= spec["eps"]) and np.any(decay > spec["eps"] * 0.5)
    # the closed-form curve passes through the t = ∞ value, kernel regression, which is
    # also the ridge grid's r = 0 and agrees with predict.gp_moments on draw 0
    np.testing.assert_allclose(run.test_mse[:, -1], run.inf_test_mse, rtol=1e-6)
    assert run.ridges[0] == 0 and np.array_equal(run.ridge_test_mse[:, 0], run.inf_test_mse)
    inf = predict.gp_moments(dict(kernels), d["y_train"], np.array([np.inf]), lr=spec["lr"],
                             compute_cov=False)["mean"][0]  # fmt: skip
    assert run.inf_test_mse[0] == pytest.approx(early_stopping.test_mse(inf, d["y_test"]))
    if widths:
        assert loaded["spectral"]["t"] in run.net.steps
        t_val = draws["validation"]["t"][0]  # draw 0's: the nets' labels
        assert t_val in run.net.steps or t_val > spec["steps"]
        assert loaded["net"]["width"] == widths and loaded["net_widest"]["width"] == widths[-1]
        assert loaded["net_widest"]["test_mse_spectral"] > 0
    else:  # the paper's macros exist for every configuration, as an em dash
        assert loaded["net_widest"]["width"] is None
    path = tmp_path / "early_stopping.pdf"
    plot = figures_early_stopping.plot_early_stopping
    plot(through_figure_file(figures["early_stopping"], plot, tmp_path / "figure.npz"), path)
    assert path.stat().st_size > 1000


def test_label_draws_are_fresh_corruptions_of_the_clean_labels(noisy_digits):
    d, _ = noisy_digits
    key = keys.run_key(0, "es", "tiny")
    labels, noisy = early_stopping.label_draws(d, 4, key=key)
    # draw 0 is the data set's own corruption; every draw corrupts as many labels
    assert np.array_equal(labels[0], d["labels_train"])
    assert np.array_equal(noisy[0], d["noisy_train"])
    assert np.all(noisy.sum(axis=1) == d["noisy_train"].sum())
    clean = d["clean_labels_train"]
    for lab, bad in zip(labels, noisy, strict=True):
        assert np.array_equal(lab != clean, bad)  # a corrupted label is always wrong
    assert len({tuple(np.flatnonzero(bad)) for bad in noisy}) == 4  # independent draws
    # deterministic in the key
    again, _ = early_stopping.label_draws(d, 4, key=key)
    assert np.array_equal(labels, again)


def test_ridge_gain_is_kernel_ridge_regression(noisy_digits):
    d, kernels = noisy_digits
    k, k_star, y = kernels["ntk_train_train"], kernels["ntk_test_train"], d["y_train"]
    dyn = spectral.spectral_dynamics(k, y, lr=1.0, k_test_train=k_star)
    ridges = np.array([0.0, 0.01, 1.0])
    ours = early_stopping.apply_gain(dyn.test_projection,
                                     early_stopping.ridge_gain(dyn.gram_values, ridges),
                                     dyn.vectors.T @ y)  # fmt: skip
    scale = np.trace(k) / len(k)
    for r, f in zip(ridges, ours, strict=True):
        direct = k_star @ np.linalg.solve(k + r * scale * np.eye(len(k)), y)
        np.testing.assert_allclose(f, direct, rtol=1e-6, atol=1e-9)


def test_init_variance_matches_gp_moments(noisy_digits):
    d, kernels = noisy_digits
    lr, times = 20.0, np.array([0.0, 3.0, 50.0, np.inf])
    dyn = spectral.spectral_dynamics(kernels["ntk_train_train"], d["y_train"], lr=lr,
                                     k_test_train=kernels["ntk_test_train"])  # fmt: skip
    ours = early_stopping.init_variance(
        dyn, times, nngp_train=kernels["nngp_train_train"],
        nngp_test_train=kernels["nngp_test_train"],
        nngp_test_diag=np.diagonal(kernels["nngp_test_test"]),
    )  # fmt: skip
    reference = predict.gp_moments(dict(kernels), d["y_train"], times, lr=lr)
    np.testing.assert_allclose(ours, np.diagonal(reference["cov"], axis1=1, axis2=2),
                               rtol=1e-8, atol=1e-12)  # fmt: skip
    # at t = 0 the net is its prior: the variance is the NNGP diagonal
    np.testing.assert_allclose(ours[0], np.diagonal(kernels["nngp_test_test"]), rtol=1e-12)


def test_validation_split_is_a_partition():
    fit, val = early_stopping.validation_split(50, 0.2, key=keys.run_key(0, "v"))
    assert len(val) == 10 and len(fit) == 40
    assert np.array_equal(np.sort(np.concatenate([fit, val])), np.arange(50))
