"""The rate rule (fits.widest_slope), its intervals and the other bootstrap records."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ntkpaper import fits
from ntkpaper.studies import width_sweep

WIDTHS = np.array([16, 32, 64, 128, 256, 512, 1024])


def noisy(curve: np.ndarray, n_seeds: int = 12, noise: float = 0.03, seed: int = 0):
    rng = np.random.default_rng(seed)
    return curve[:, None] * np.exp(noise * rng.normal(size=(len(curve), n_seeds)))


def test_widest_slope_recovers_the_asymptotic_rate_of_a_bent_curve():
    """y = n^{-1/2}(1 + 2 n^{-1/2}): the global line is biased by the narrow widths, the
    widest three widths much less (the local slope there is −1/2 − 0.04)."""
    y = noisy(WIDTHS**-0.5 * (1 + 2 * WIDTHS**-0.5))
    rule, everything = fits.widest_slope(WIDTHS, y), fits.bootstrap_slope(WIDTHS, y)
    assert rule["widths"] == [256, 512, 1024] and rule["n_seeds"] == 12
    assert rule["lo"] - 0.06 <= -0.5 <= rule["hi"] + 0.06  # residual correction at 256..1024
    assert abs(everything["slope"] + 0.5) > abs(rule["slope"] + 0.5) + 0.02  # global: more biased


def test_widest_slope_interval_is_consistent_and_none_for_too_few_widths():
    y = noisy(3.0 * WIDTHS**-1.0, noise=0.05)
    rule = fits.widest_slope(WIDTHS, y)
    assert rule["lo"] < rule["slope"] < rule["hi"] and rule["lo"] < -1 < rule["hi"]
    assert fits.widest_slope(WIDTHS[:2], y[:2]) is None
    # a signed quantity: the size of the mean, not its sign
    signed = fits.widest_slope(WIDTHS, -y, absolute=True)
    assert signed["slope"] == pytest.approx(rule["slope"])


def test_local_slopes_and_replicate_form_agree_with_the_rule():
    y = noisy(WIDTHS**-0.5)
    local = fits.local_slopes(WIDTHS, y)
    assert len(local) == len(WIDTHS) - 1 and all(r["lo"] <= r["hi"] for r in local)
    point, reps = fits.resample_means(y[-3:], n_boot=fits.N_BOOT, seed=0)
    again = fits.widest_slope_from_replicates(WIDTHS[-3:], point, reps, n_seeds=12)
    rule = fits.widest_slope(WIDTHS, y)
    assert again["slope"] == pytest.approx(rule["slope"]) and again["lo"] == pytest.approx(
        rule["lo"]
    )


def test_bootstrap_mean_and_ratios():
    rng = np.random.default_rng(3)
    v = 1.0 + 0.1 * rng.normal(size=40)
    m = fits.bootstrap_mean(v)
    assert m["lo"] < m["mean"] < m["hi"] and m["n_seeds"] == 40
    assert m["hi"] - m["lo"] == pytest.approx(2 * 1.645 * v.std() / np.sqrt(40), rel=0.25)
    r = fits.independent_ratio(2 * v, v[:20], np.mean)
    assert r["lo"] < 2 < r["hi"] and r["n_seeds"] == 20
    s = fits.bootstrap_statistic(v, np.mean)
    assert s["value"] == pytest.approx(m["mean"])


def test_ensemble_gap_is_unbiased_for_exact_draws():
    """Nets drawn exactly from the predicted Gaussian: the ensemble's gap to the prediction
    (bias + variance/S) averages zero, and so do its bootstrap replicates, whose prediction
    counts the repeated nets (variance·Σc²/S²)."""
    rng = np.random.default_rng(0)
    mu, sigma, y = rng.normal(size=(50, 3)), 0.7, rng.normal(size=(50, 3))
    bias, variance = 0.5 * np.mean((mu - y) ** 2), 0.5 * sigma**2
    gaps, reps = [], []
    for trial in range(300):
        f = mu + sigma * rng.normal(size=(10, 50, 3))
        g, r = width_sweep.ensemble_gap(f, y, bias, variance, n_boot=50, seed=trial)
        gaps.append(g)
        reps.append(r.mean())
    scale = variance / 10
    assert abs(np.mean(gaps)) < 0.1 * scale and abs(np.mean(reps)) < 0.1 * scale


def test_convergence_criterion():
    steps = np.array([0, 1, 5, 50, 100])
    loss = np.array([[1.0, 1.0], [0.5, 0.5], [1e-2, 1e-2], [1e-4, 1e-3], [1e-5, 1e-5]])
    dist = np.array([[0, 0], [1, 1], [2, 2], [3.0, 3.0], [3.03, 3.2]])
    net = width_sweep.Training(steps=steps, train_loss=loss, test_loss=loss, param_dist=dist,
                               param_rel_dist=dist, layer_dist=dist[..., None],
                               layer_rel_dist=dist[..., None], diverged=np.array([False, False]),
                               f_test_final=np.zeros((2, 3, 1)))  # fmt: skip
    # seed 0: loss 1e-5 ≤ 1e-4, distance +1% over T/2..T; seed 1: +6.7%
    np.testing.assert_array_equal(width_sweep.converged(net), [True, False])
    net = dataclasses.replace(net, diverged=np.array([True, False]))
    np.testing.assert_array_equal(width_sweep.converged(net), [False, False])
