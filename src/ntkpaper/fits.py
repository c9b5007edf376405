"""Log–log slopes with bootstrap intervals over seeds: how a quantity scales with width."""

from __future__ import annotations

import numpy as np


def loglog_slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and intercept of log y against log x (positive, finite points)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)
    return float(slope), float(intercept)


def bootstrap_slope(
    x: np.ndarray, y: np.ndarray, *, n_boot: int = 1000, seed: int = 0, level: float = 0.9
) -> dict[str, float]:
    """Slope of log(mean over seeds) vs log x, with a percentile interval from resampling
    seeds (columns of y, shape (len(x), n_seeds)) with replacement, per width."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    slope, intercept = loglog_slope(x, np.nanmean(y, axis=1))
    rng = np.random.default_rng(seed)
    n_seeds = y.shape[1]
    picks = rng.integers(0, n_seeds, size=(n_boot, len(x), n_seeds))
    means = np.nanmean(np.take_along_axis(y[None], picks, axis=2), axis=2)
    boots = np.array([loglog_slope(x, m)[0] for m in means])
    boots = boots[np.isfinite(boots)]
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boots, [alpha, 1 - alpha]) if len(boots) else (np.nan, np.nan)
    return {
        "slope": slope,
        "intercept": intercept,
        "lo": float(lo),
        "hi": float(hi),
        "level": level,
        "n_seeds": int(n_seeds),
    }


def bootstrap_ratio(
    num: np.ndarray, den: np.ndarray, *, n_boot: int = 1000, seed: int = 0, level: float = 0.9
) -> dict[str, float]:
    """mean(num) / mean(den) over paired seeds (same index = same initialization), with a
    percentile interval from resampling the pairs with replacement."""
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    ok = np.isfinite(num) & np.isfinite(den)
    num, den = num[ok], den[ok]
    picks = np.random.default_rng(seed).integers(0, len(num), size=(n_boot, len(num)))
    boots = num[picks].mean(1) / den[picks].mean(1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boots, [alpha, 1 - alpha])
    return {
        "ratio": float(num.mean() / den.mean()),
        "lo": float(lo),
        "hi": float(hi),
        "level": level,
        "n_seeds": len(num),
    }
