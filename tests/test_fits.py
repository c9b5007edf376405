"""The rate rule (fits.asymptotic_rate), its BCa intervals, their coverage and the other
bootstrap records."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ntkpaper.statistics import fits
from ntkpaper.studies.width_sweep import compute as width_sweep

WIDTHS = np.array([16, 32, 64, 128, 256, 512, 1024])


def noisy(curve: np.ndarray, n_seeds: int = 12, noise: float = 0.03, seed: int = 0):
    rng = np.random.default_rng(seed)
    return curve[:, None] * np.exp(noise * rng.normal(size=(len(curve), n_seeds)))


def test_asymptotic_rate_recovers_the_exponent_past_a_finite_width_correction():
    """y = n^{-1/2}(1 + n^{-1/2}) on widths 64..1024: a line through the widest three widths
    is biased by the correction still left there (by -0.02, twice its interval's half-width
    at 1% seed noise); the rule's corrected fit is not."""
    widths = WIDTHS[2:]
    y = noisy(widths**-0.5 * (1 + widths**-0.5), noise=0.01)
    rule = fits.asymptotic_rate(widths, y)
    assert rule["widths"] == widths.tolist() and rule["n_seeds"] == 12
    assert rule["lo"] < -0.5 < rule["hi"] and abs(rule["slope"] + 0.5) < 0.01
    widest_three, _ = fits.loglog_slope(widths[-3:], y[-3:].mean(1))
    assert widest_three < -0.515  # the bias the rule removes
    assert rule["correction"] == pytest.approx(1.0, rel=0.2)  # log(1 + 1/√n) ≈ 1/√n


def test_asymptotic_rate_interval_is_consistent_and_none_for_too_few_widths():
    y = noisy(3.0 * WIDTHS**-1.0, noise=0.05)
    rule = fits.asymptotic_rate(WIDTHS, y)
    assert rule["lo"] < rule["slope"] < rule["hi"] and rule["lo"] < -1 < rule["hi"]
    assert fits.asymptotic_rate(WIDTHS[:2], y[:2]) is None
    # a signed quantity: the size of the mean, not its sign
    signed = fits.asymptotic_rate(WIDTHS, -y, absolute=True)
    assert signed["slope"] == pytest.approx(rule["slope"])
    # the confidence distribution is monotone and holds the interval's ends
    cdist = np.array(rule["cdist"])
    assert np.all(np.diff(cdist) >= 0) and cdist[0] < rule["lo"] and rule["hi"] < cdist[-1]


def test_replicate_form_agrees_with_the_rule_and_local_slopes_cover_each_step():
    y = noisy(WIDTHS**-0.5)
    point, reps = fits.resample_means(y, n_boot=fits.N_BOOT, seed=0)
    again = fits.asymptotic_rate_from_replicates(WIDTHS, point, reps, n_seeds=12,
                                                 jackknife=fits.jackknife_means(y))  # fmt: skip
    rule = fits.asymptotic_rate(WIDTHS, y)
    assert again["slope"] == pytest.approx(rule["slope"])
    assert again["lo"] == pytest.approx(rule["lo"]) and again["hi"] == pytest.approx(rule["hi"])
    local = fits.local_slopes(WIDTHS, y)
    assert len(local) == len(WIDTHS) - 1 and all(r["lo"] <= r["slope"] <= r["hi"] for r in local)


@pytest.mark.parametrize(("correction", "noise"), [(1.0, 0.1), (-1.0, 0.3)])
def test_rate_interval_keeps_its_coverage_at_ten_seeds(correction, noise):
    """The 90% interval of the rule, on a synthetic power law n^{-1}(1 + c n^{-1/2}) with
    log-normal seed noise, 10 seeds, widths 64..1024 by ×2: it covers the true exponent in
    about 90% of 300 repetitions (binomial sd 1.7%). The percentile interval of the slope
    through the widest three widths does not (its correction bias and small-sample width)."""
    widths = np.array([64, 128, 256, 512, 1024])
    truth = widths[:, None] ** -1.0 * (1 + correction * widths[:, None] ** -0.5)
    rng = np.random.default_rng(7)
    hits = old_hits = 0
    for rep in range(300):
        y = truth * np.exp(noise * rng.normal(size=(len(widths), 10)))
        rule = fits.asymptotic_rate(widths, y, n_boot=1000, seed=rep)
        hits += rule["lo"] <= -1.0 <= rule["hi"]
        _, boots = fits.resample_means(y[-3:], n_boot=1000, seed=rep)
        slopes = [fits.loglog_slope(widths[-3:], b)[0] for b in boots]
        lo, hi = np.quantile(slopes, [0.05, 0.95])
        old_hits += lo <= -1.0 <= hi
    assert 0.85 <= hits / 300 <= 0.95
    assert old_hits / 300 < hits / 300


def test_p_values_read_from_the_confidence_distribution():
    rng = np.random.default_rng(0)
    m = fits.bootstrap_mean(1.0 + 0.1 * rng.normal(size=50))
    assert fits.p_above(m, m["lo"]) == pytest.approx(0.05, abs=0.01)
    assert fits.p_below(m, m["hi"]) == pytest.approx(0.05, abs=0.01)
    assert fits.p_above(m, 0.0) < 0.001 and fits.p_below(m, 0.0) > 0.999
    assert fits.p_above(m, m["mean"]) == pytest.approx(0.5, abs=0.05)


def test_bootstrap_mean_and_ratios():
    rng = np.random.default_rng(3)
    v = 1.0 + 0.1 * rng.normal(size=40)
    m = fits.bootstrap_mean(v)
    assert m["lo"] < m["mean"] < m["hi"] and m["n_seeds"] == 40
    assert m["hi"] - m["lo"] == pytest.approx(2 * 1.685 * v.std(ddof=1) / np.sqrt(40), rel=0.2)
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
