"""Rates and means with bootstrap intervals over seeds: how a quantity scales with width, and
how sure we are of it.

The rule the paper applies to every rate claim, every legend and every caption (fixed before
any number was seen):

    The asymptotic rate p of a quantity y(n) is estimated past its finite-width correction:
    log ȳ(n) = a + p·log n + c·n^{-1/2}, fitted by least squares through EVERY width
    (``asymptotic_rate``), where ȳ is the mean over seeds. Equivalently, the local slope
    d log ȳ / d log n = p − (c/2)·n^{-1/2} is extrapolated linearly in n^{-1/2} to n → ∞.
    Its 90% interval is the BCa bootstrap over seeds (resampled with replacement,
    independently at each width: different widths are independent initializations).

Why a correction term: a slope through the widest widths alone treats the correction left
there as a failure, the more so the more precise the slope (a correction c·n^{-1/2} with c ≈ 1
biases a slope over ×4 in width by about 0.02). Why n^{-1/2}: it is the leading relative
correction of the quantities we fit (kernel fluctuations at initialization and their effect on
training, Hanin & Nica 2020; Dyer & Gur-Ari 2020 give 1/n for means, which the n^{-1/2} term
absorbs to first order over our widths). The price is a wider interval (log n and n^{-1/2} are
correlated over a grid), which is honest: a rate our widths cannot pin down comes out
inconclusive, not failed. The fit needs three widths and is determined by them; more widths,
spaced by about √2, make it a least-squares fit with its own check. The local slopes between
neighbouring widths (``local_slopes``) are reported beside it so the bend stays visible.

Why BCa (Efron 1987): the percentile bootstrap undercovers at ten seeds and for skewed
statistics such as ratios; BCa corrects the median bias (z0) and the skewness (acceleration a,
from the jackknife over every seed of every width). ``tests/test_fits.py`` checks its coverage
on a synthetic power law with a known correction.

Every interval record has the point estimate (slope | mean | ratio | value), lo, hi, level,
n_seeds (the smallest number of seeds behind any width) and ``cdist``: the BCa confidence
distribution, its endpoints at the one-sided levels ``CDIST_LEVELS``, from which
``ntkpaper.paper.claims`` reads the p-value of any margin or bound (the family-wise correction needs
p-values, not only a 90% interval).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from statistics import NormalDist

import numpy as np

LEVEL = 0.9
N_BOOT = 4000
# one-sided levels at which an interval record stores its confidence distribution
CDIST_LEVELS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.2,
    0.3,
    0.4,
    0.5,
    0.6,
    0.7,
    0.8,
    0.9,
    0.95,
    0.975,
    0.99,
    0.995,
    0.9975,
    0.999,
    0.9995,
)
_NORMAL = NormalDist()


def loglog_slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and intercept of log y against log x (positive, finite points)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)
    return float(slope), float(intercept)


# ---------------------------------------------------------------------------------------------
# BCa intervals


def _phi(z: np.ndarray) -> np.ndarray:
    return np.vectorize(_NORMAL.cdf, otypes=[float])(z)


def _phi_inv(p: np.ndarray) -> np.ndarray:
    return np.vectorize(_NORMAL.inv_cdf, otypes=[float])(np.clip(p, 1e-12, 1 - 1e-12))


def acceleration(jackknife: Sequence[np.ndarray]) -> float:
    """BCa acceleration from leave-one-out values, one array per independently resampled
    group (the seeds of one width): a = Σ(U/n_g)³ / (6·(Σ(U/n_g)²)^{3/2}), U the empirical
    influence (n_g − 1)(mean − θ_(i)) (Efron 1987, the multi-sample form)."""
    num = den = 0.0
    for values in jackknife:
        values = np.asarray(values, np.float64)
        values = values[np.isfinite(values)]
        if len(values) < 2:
            continue
        u = (len(values) - 1) * (values.mean() - values) / len(values)
        num, den = num + np.sum(u**3), den + np.sum(u**2)
    return float(num / (6 * den**1.5)) if den > 0 else 0.0


def expanded_levels(probs: Sequence[float], n: int) -> np.ndarray:
    """Hesterberg's (2015) small-sample expansion: the normal score of each one-sided level
    replaced by sqrt(n/(n−1))·t_{n−1}, so that a bootstrap over n seeds carries the width of a
    t interval (a bootstrap of n draws underestimates the spread by sqrt((n−1)/n) and uses
    normal instead of t quantiles: about 17% too narrow at ten seeds)."""
    from scipy.stats import t as student_t

    probs = np.asarray(probs, np.float64)
    if n < 3:
        return probs
    return _phi(np.sqrt(n / (n - 1)) * student_t.ppf(probs, n - 1))


def bca_quantiles(
    point: float,
    replicates: np.ndarray,
    probs: Sequence[float],
    *,
    accel: float = 0.0,
    n_seeds: int = 0,
) -> np.ndarray:
    """Endpoints of the BCa confidence distribution at one-sided levels `probs`: the
    replicates' quantiles at Φ(z0 + (z0 + z)/(1 − a(z0 + z))), z the normal score of each
    level after the small-sample expansion for `n_seeds` (``expanded_levels``; none for 0).
    accel = 0 gives the bias-corrected percentile interval."""
    reps = np.asarray(replicates, np.float64)
    reps = reps[np.isfinite(reps)]
    if not len(reps) or not np.isfinite(point):
        return np.full(len(probs), np.nan)
    below = (np.sum(reps < point) + 0.5 * np.sum(reps == point)) / len(reps)
    z0 = float(_phi_inv(np.clip(below, 0.5 / len(reps), 1 - 0.5 / len(reps))))
    z = _phi_inv(expanded_levels(probs, n_seeds) if n_seeds else np.asarray(probs))
    adjusted = _phi(z0 + (z0 + z) / (1 - accel * (z0 + z)))
    return np.quantile(reps, np.clip(adjusted, 0.0, 1.0))


def interval_record(
    point: float,
    replicates: np.ndarray,
    *,
    jackknife: Sequence[np.ndarray] = (),
    n_seeds: int,
    key: str = "mean",
    level: float = LEVEL,
) -> dict[str, float]:
    """The interval record of a statistic: point under `key`, the BCa interval at `level`,
    n_seeds and the confidence distribution (``cdist``). Without `jackknife` the acceleration
    is zero (bias-corrected percentile)."""
    accel = acceleration(jackknife)
    alpha = (1 - level) / 2
    lo, hi = bca_quantiles(point, replicates, [alpha, 1 - alpha], accel=accel, n_seeds=n_seeds)
    cdist = bca_quantiles(point, replicates, CDIST_LEVELS, accel=accel, n_seeds=n_seeds)
    return {
        key: float(point),
        "lo": float(lo),
        "hi": float(hi),
        "level": level,
        "n_seeds": int(n_seeds),
        "cdist": [float(v) for v in cdist],
    }


def p_above(record: dict, bound: float) -> float:
    """One-sided p-value for 'the quantity exceeds `bound`' from a record's confidence
    distribution: the level α at which `bound` is the BCa lower endpoint (small when the
    whole distribution lies above the bound). None-safe: NaN without ``cdist``."""
    cdist = record.get("cdist")
    if not cdist or not all(np.isfinite(cdist)):
        return float("nan")
    z = _phi_inv(np.asarray(CDIST_LEVELS))
    ends = np.maximum.accumulate(np.asarray(cdist, np.float64))  # monotone
    if bound <= ends[0]:
        return CDIST_LEVELS[0] / 2
    if bound >= ends[-1]:
        return 1 - CDIST_LEVELS[0] / 2
    return float(_phi(np.interp(bound, ends, z)))


def p_below(record: dict, bound: float) -> float:
    """One-sided p-value for 'the quantity is below `bound`'."""
    return 1.0 - p_above(record, bound)


# ---------------------------------------------------------------------------------------------
# Resampling seeds


def resample_means(
    y: np.ndarray, *, n_boot: int = N_BOOT, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Means over seeds of y (n_widths, n_seeds), and n_boot bootstrap replicates of them,
    (n_boot, n_widths): each width's seeds resampled with replacement, independently.
    NaN entries (diverged seeds) are ignored."""
    y = np.asarray(y, np.float64)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, y.shape[1], size=(n_boot, *y.shape))
    with np.errstate(all="ignore"):
        reps = np.nanmean(np.take_along_axis(y[None], picks, axis=2), axis=2)
        return np.nanmean(y, axis=1), reps


def jackknife_means(y: np.ndarray) -> list[np.ndarray]:
    """For each width i, the per-width means (n_left_out, n_widths) with one finite seed of
    width i left out (the other widths untouched): the inputs of BCa's acceleration."""
    y = np.asarray(y, np.float64)
    full = np.nanmean(y, axis=1)
    out = []
    for i, row in enumerate(y):
        seeds = row[np.isfinite(row)]
        if len(seeds) < 2:
            out.append(np.empty((0, len(y))))
            continue
        left = (seeds.sum() - seeds) / (len(seeds) - 1)
        means = np.repeat(full[None], len(seeds), axis=0)
        means[:, i] = left
        out.append(means)
    return out


def n_finite_seeds(y: np.ndarray) -> int:
    """The smallest number of finite seeds at any width of y (n_widths, n_seeds)."""
    return int(np.min(np.sum(np.isfinite(np.asarray(y, np.float64)), axis=1)))


# ---------------------------------------------------------------------------------------------
# The rate rule


def _design(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    return np.stack([np.ones_like(x), np.log(x), x**-0.5], axis=1)


def corrected_fit(x: np.ndarray, means: np.ndarray) -> np.ndarray:
    """(a, p, c) of log|ȳ| = a + p·log n + c·n^{-1/2} for many curves at once: means
    (..., len(x)); a curve with a non-positive or non-finite point gets NaN."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(np.asarray(means, np.float64))
    coef = logs @ np.linalg.pinv(_design(x)).T
    return np.where(np.all(np.isfinite(logs), axis=-1, keepdims=True), coef, np.nan)


def _rate_record(
    x: np.ndarray,
    point: np.ndarray,
    replicates: np.ndarray,
    jackknife: Sequence[np.ndarray],
    *,
    n_seeds: int,
    absolute: bool,
    level: float,
) -> dict[str, float]:
    if absolute:
        point, replicates = np.abs(point), np.abs(replicates)
        jackknife = [np.abs(j) for j in jackknife]
    a, p, c = corrected_fit(x, point)
    jack = [corrected_fit(x, j)[:, 1] for j in jackknife]
    record = interval_record(
        p,
        corrected_fit(x, replicates)[:, 1],
        jackknife=jack,
        n_seeds=n_seeds,
        key="slope",
        level=level,
    )
    record.update(
        intercept=float(a),
        correction=float(c),
        widths=[int(v) if float(v).is_integer() else float(v) for v in np.asarray(x)],
    )
    return record


def asymptotic_rate(
    x: np.ndarray,
    y: np.ndarray,
    *,
    absolute: bool = False,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, float] | None:
    """The rule's asymptotic rate of y (n_widths, n_seeds) against the widths x: the exponent
    p of the corrected fit of the mean over seeds (module docstring), with its BCa interval
    over seeds; None with fewer than three widths. ``absolute`` fits log|mean| (the size of a
    signed quantity)."""
    x, y = np.asarray(x), np.asarray(y, np.float64)
    if len(x) < 3:
        return None
    order = np.argsort(x)
    x, y = x[order], y[order]
    point, reps = resample_means(y, n_boot=n_boot, seed=seed)
    return _rate_record(
        x,
        point,
        reps,
        jackknife_means(y),
        n_seeds=n_finite_seeds(y),
        absolute=absolute,
        level=level,
    )


def asymptotic_rate_from_replicates(
    x: np.ndarray,
    point: np.ndarray,
    replicates: np.ndarray,
    *,
    n_seeds: int,
    jackknife: Sequence[np.ndarray] = (),
    absolute: bool = False,
    level: float = LEVEL,
) -> dict[str, float] | None:
    """``asymptotic_rate`` for a statistic that is not a mean over seeds (e.g. the test loss
    of an ensemble), given its per-width values, bootstrap replicates (n_boot, len(x)) and,
    for the acceleration, leave-one-seed-out values per width (each (n_left_out, len(x)))."""
    x = np.asarray(x)
    if len(x) < 3:
        return None
    order = np.argsort(x)
    return _rate_record(
        x[order],
        np.asarray(point)[order],
        np.asarray(replicates)[:, order],
        [np.asarray(j)[:, order] for j in jackknife],
        n_seeds=n_seeds,
        absolute=absolute,
        level=level,
    )


def bootstrap_slope(
    x: np.ndarray, y: np.ndarray, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL
) -> dict[str, float]:
    """Least-squares log-log slope of the mean over seeds (y: (len(x), n_seeds)) through every
    x, with its BCa interval. Not for width rates (those follow the rule,
    ``asymptotic_rate``): for a power law over a range chosen in advance, such as a learning
    curve's exponent over training-set sizes."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    point, reps = resample_means(y, n_boot=n_boot, seed=seed)
    lx = np.log(x) - np.log(x).mean()

    def slopes(means: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(means) @ lx / (lx @ lx)

    record = interval_record(
        slopes(point),
        slopes(reps),
        key="slope",
        level=level,
        jackknife=[slopes(j) for j in jackknife_means(y)],
        n_seeds=n_finite_seeds(y),
    )
    record["widths"] = [int(v) if float(v).is_integer() else float(v) for v in x]
    return record


def local_slopes(
    x: np.ndarray, y: np.ndarray, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL
) -> list[dict[str, float]]:
    """Log-log slopes between neighbouring widths, each with its BCa interval: where a curve
    bends, and what the rule extrapolates."""
    x, y = np.asarray(x), np.asarray(y, np.float64)
    order = np.argsort(x)
    x, y = x[order], y[order]
    point, reps = resample_means(y, n_boot=n_boot, seed=seed)
    jack = jackknife_means(y)
    out = []
    for i in range(len(x) - 1):
        lx = np.log(x[i + 1] / x[i])
        with np.errstate(divide="ignore", invalid="ignore"):
            slope = np.log(point[i + 1] / point[i]) / lx
            boots = np.log(reps[:, i + 1] / reps[:, i]) / lx
            js = [np.log(j[:, i + 1] / j[:, i]) / lx for j in jack[i : i + 2]]
        rec = interval_record(
            slope,
            boots,
            jackknife=js,
            key="slope",
            level=level,
            n_seeds=n_finite_seeds(y[i : i + 2]),
        )
        rec["widths"] = [int(x[i]), int(x[i + 1])]
        out.append(rec)
    return out


# ---------------------------------------------------------------------------------------------
# Means, statistics and ratios of seeds


def _jackknife_statistic(v: np.ndarray, statistic: Callable[[np.ndarray], float]) -> np.ndarray:
    return np.array([statistic(np.delete(v, i, axis=0)) for i in range(len(v))])


def bootstrap_mean(
    values: np.ndarray, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL
) -> dict[str, float]:
    """Mean over seeds (NaN ignored) with its BCa interval; for paired differences, pass the
    per-seed differences (same index = same initialization)."""
    v = np.asarray(values, np.float64).ravel()
    v = v[np.isfinite(v)]
    picks = np.random.default_rng(seed).integers(0, len(v), size=(n_boot, len(v)))
    jack = (v.sum() - v) / max(len(v) - 1, 1)
    return interval_record(
        v.mean(), v[picks].mean(1), jackknife=[jack], n_seeds=len(v), level=level
    )


def bootstrap_statistic(
    values: np.ndarray,
    statistic: Callable[[np.ndarray], float],
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, float]:
    """A statistic of the seeds (first axis of values) with its BCa interval, e.g. the
    distance of an ensemble's mean from a prediction."""
    v = np.asarray(values, np.float64)
    picks = np.random.default_rng(seed).integers(0, len(v), size=(n_boot, len(v)))
    boots = np.array([statistic(v[p]) for p in picks])
    return interval_record(
        statistic(v),
        boots,
        jackknife=[_jackknife_statistic(v, statistic)],
        n_seeds=len(v),
        key="value",
        level=level,
    )


def bootstrap_ratio(
    num: np.ndarray, den: np.ndarray, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL
) -> dict[str, float]:
    """mean(num) / mean(den) over paired seeds (same index = same initialization), with a BCa
    interval from resampling the pairs with replacement."""
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    ok = np.isfinite(num) & np.isfinite(den)
    num, den = num[ok], den[ok]
    picks = np.random.default_rng(seed).integers(0, len(num), size=(n_boot, len(num)))
    boots = num[picks].mean(1) / den[picks].mean(1)
    n = len(num)
    jack = ((num.sum() - num) / (n - 1)) / ((den.sum() - den) / (n - 1)) if n > 1 else []
    return interval_record(
        num.mean() / den.mean(), boots, jackknife=[jack], n_seeds=n, key="ratio", level=level
    )


def independent_ratio(
    num: np.ndarray,
    den: np.ndarray,
    statistic: Callable[[np.ndarray], float],
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, float]:
    """statistic(num) / statistic(den) for two independent sets of seeds (e.g. two widths),
    each resampled on its own; BCa interval of the ratio."""
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    rng = np.random.default_rng(seed)
    p_num = rng.integers(0, len(num), size=(n_boot, len(num)))
    p_den = rng.integers(0, len(den), size=(n_boot, len(den)))
    boots = np.array(
        [statistic(num[a]) / statistic(den[b]) for a, b in zip(p_num, p_den, strict=True)]
    )
    s_num, s_den = statistic(num), statistic(den)
    jack = [
        _jackknife_statistic(num, statistic) / s_den,
        s_num / _jackknife_statistic(den, statistic),
    ]
    return interval_record(
        s_num / s_den,
        boots,
        jackknife=jack,
        key="ratio",
        level=level,
        n_seeds=int(min(len(num), len(den))),
    )


def difference_of_means(
    a: np.ndarray, b: np.ndarray, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL
) -> dict[str, float]:
    """mean(a) − mean(b) for two independent sets of seeds, each resampled on its own, with
    its BCa interval."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    rng = np.random.default_rng(seed)
    pa = rng.integers(0, len(a), size=(n_boot, len(a)))
    pb = rng.integers(0, len(b), size=(n_boot, len(b)))
    boots = a[pa].mean(1) - b[pb].mean(1)
    jack = [(a.sum() - a) / (len(a) - 1) - b.mean(), a.mean() - (b.sum() - b) / (len(b) - 1)]
    return interval_record(
        a.mean() - b.mean(),
        boots,
        jackknife=jack,
        key="mean",
        level=level,
        n_seeds=int(min(len(a), len(b))),
    )


def sequence_of(records: Sequence[dict[str, float]], key: str) -> list[float]:
    """One field of a list of records, e.g. the point slopes of ``local_slopes``."""
    return [r[key] for r in records]
