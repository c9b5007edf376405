"""Log–log slopes and means with bootstrap intervals over seeds: how a quantity scales with
width, and how sure we are of it.

The rule the paper applies to every rate claim (decided before any number was seen):

    The asymptotic rate of a quantity is the least-squares slope of log(mean over seeds)
    against log(width) through the WIDEST three widths (``widest_slope``, k = WIDEST_K).
    Its 90% interval is the percentile bootstrap over seeds, resampled with replacement
    independently at each width (different widths are independent initializations).

Why not one line through every width: the curves bend (finite-width corrections decay
with width, so the narrow widths pull a global line away from the asymptote). Why not a
model of the correction such as a·n^p·(1 + c·n^{-1/2}): the correction's form differs by
quantity (n^{-1/2} relative for kernel fluctuations, n^{-1} for means over
initializations, nonlinear terms during training), a wrong form biases p, and with four to
six widths the three-parameter fit is poorly determined. The widest-widths slope assumes
only that the correction is small there; the grids are chosen so that the widest three
widths span at least a factor four, and the slope over all widths and the local slopes
between neighbouring widths (``local_slopes``) are reported beside it, so the bend is
visible. The interval covers seed noise only, not the correction still left at the widest
widths.

Every interval record has the point estimate (slope | mean | ratio), lo, hi, level and
n_seeds (the smallest number of seeds behind any width), which is how
``ntkpaper.report`` decides a claim.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

LEVEL = 0.9
N_BOOT = 2000
WIDEST_K = 3


def loglog_slope(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and intercept of log y against log x (positive, finite points)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    if ok.sum() < 2:
        return float("nan"), float("nan")
    slope, intercept = np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)
    return float(slope), float(intercept)


def _loglog_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares log-log slopes of many curves at once: y (n_curves, len(x)); a curve
    with a non-positive or non-finite point gets NaN."""
    lx = np.log(np.asarray(x, np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        ly = np.log(y)
    lx = lx - lx.mean()
    slopes = (ly * lx).sum(axis=-1) / (lx**2).sum()
    return np.where(np.all(np.isfinite(ly), axis=-1), slopes, np.nan)


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    values = np.asarray(values, np.float64)
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan"), float("nan")
    alpha = (1 - level) / 2
    lo, hi = np.quantile(values, [alpha, 1 - alpha])
    return float(lo), float(hi)


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


def n_finite_seeds(y: np.ndarray) -> int:
    """The smallest number of finite seeds at any width of y (n_widths, n_seeds)."""
    return int(np.min(np.sum(np.isfinite(np.asarray(y, np.float64)), axis=1)))


def slope_record(
    x: np.ndarray,
    point: np.ndarray,
    replicates: np.ndarray,
    *,
    n_seeds: int,
    level: float = LEVEL,
    absolute: bool = False,
) -> dict[str, float]:
    """The interval record of a log-log slope from per-width values and their bootstrap
    replicates (n_boot, len(x)). ``absolute`` fits log|value| (for a signed quantity such
    as a gap whose size, not sign, is the question)."""
    point, replicates = np.asarray(point, np.float64), np.asarray(replicates, np.float64)
    if absolute:
        point, replicates = np.abs(point), np.abs(replicates)
    slope, intercept = loglog_slope(x, point)
    lo, hi = _interval(_loglog_slopes(x, replicates), level)
    return {
        "slope": slope,
        "intercept": intercept,
        "lo": lo,
        "hi": hi,
        "level": level,
        "n_seeds": int(n_seeds),
        "widths": [int(v) if float(v).is_integer() else float(v) for v in np.asarray(x)],
    }


def bootstrap_slope(
    x: np.ndarray, y: np.ndarray, *, n_boot: int = 1000, seed: int = 0, level: float = LEVEL
) -> dict[str, float]:
    """Slope of log(mean over seeds) vs log x through EVERY x, with a percentile interval
    from resampling seeds (columns of y, shape (len(x), n_seeds)) with replacement, per
    width. The global fit: reported beside the rule's ``widest_slope``."""
    point, reps = resample_means(y, n_boot=n_boot, seed=seed)
    return slope_record(x, point, reps, n_seeds=n_finite_seeds(y), level=level)


def widest_slope(
    x: np.ndarray,
    y: np.ndarray,
    *,
    k: int = WIDEST_K,
    absolute: bool = False,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, float] | None:
    """The rule's asymptotic rate: the log-log slope of the mean over seeds through the k
    widest x (module docstring), with its bootstrap interval; None with fewer than k
    widths. ``absolute`` fits log|mean| (a signed quantity)."""
    x, y = np.asarray(x), np.asarray(y, np.float64)
    if len(x) < k:
        return None
    order = np.argsort(x)[-k:]
    point, reps = resample_means(y[order], n_boot=n_boot, seed=seed)
    return slope_record(
        x[order], point, reps, n_seeds=n_finite_seeds(y[order]), level=level, absolute=absolute
    )


def widest_slope_from_replicates(
    x: np.ndarray,
    point: np.ndarray,
    replicates: np.ndarray,
    *,
    n_seeds: int,
    k: int = WIDEST_K,
    absolute: bool = False,
    level: float = LEVEL,
) -> dict[str, float] | None:
    """``widest_slope`` for a statistic that is not a mean over seeds (e.g. the test loss of
    an ensemble), given its per-width values and bootstrap replicates (n_boot, len(x))."""
    x = np.asarray(x)
    if len(x) < k:
        return None
    order = np.argsort(x)[-k:]
    return slope_record(x[order], np.asarray(point)[order], np.asarray(replicates)[:, order],
                        n_seeds=n_seeds, level=level, absolute=absolute)  # fmt: skip


def local_slopes(
    x: np.ndarray, y: np.ndarray, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL
) -> list[dict[str, float]]:
    """Slopes between neighbouring widths, each with its bootstrap interval: where a curve
    bends, and whether its last piece has settled."""
    x, y = np.asarray(x), np.asarray(y, np.float64)
    order = np.argsort(x)
    point, reps = resample_means(y[order], n_boot=n_boot, seed=seed)
    return [
        slope_record(
            x[order][i : i + 2],
            point[i : i + 2],
            reps[:, i : i + 2],
            n_seeds=n_finite_seeds(y[order][i : i + 2]),
            level=level,
        )
        for i in range(len(x) - 1)
    ]


def bootstrap_mean(
    values: np.ndarray, *, n_boot: int = N_BOOT, seed: int = 0, level: float = LEVEL
) -> dict[str, float]:
    """Mean over seeds (NaN ignored) with its percentile bootstrap interval; for paired
    differences, pass the per-seed differences (same index = same initialization)."""
    v = np.asarray(values, np.float64).ravel()
    v = v[np.isfinite(v)]
    picks = np.random.default_rng(seed).integers(0, len(v), size=(n_boot, len(v)))
    lo, hi = _interval(v[picks].mean(1), level)
    return {"mean": float(v.mean()), "lo": lo, "hi": hi, "level": level, "n_seeds": len(v)}


def bootstrap_statistic(
    values: np.ndarray,
    statistic: Callable[[np.ndarray], float],
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
    level: float = LEVEL,
) -> dict[str, float]:
    """A statistic of the seeds (first axis of values) with its percentile bootstrap
    interval, e.g. the distance of an ensemble's mean from a prediction."""
    v = np.asarray(values, np.float64)
    picks = np.random.default_rng(seed).integers(0, len(v), size=(n_boot, len(v)))
    lo, hi = _interval(np.array([statistic(v[p]) for p in picks]), level)
    return {"value": float(statistic(v)), "lo": lo, "hi": hi, "level": level,
            "n_seeds": len(v)}  # fmt: skip


def bootstrap_ratio(
    num: np.ndarray, den: np.ndarray, *, n_boot: int = 1000, seed: int = 0, level: float = LEVEL
) -> dict[str, float]:
    """mean(num) / mean(den) over paired seeds (same index = same initialization), with a
    percentile interval from resampling the pairs with replacement."""
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    ok = np.isfinite(num) & np.isfinite(den)
    num, den = num[ok], den[ok]
    picks = np.random.default_rng(seed).integers(0, len(num), size=(n_boot, len(num)))
    boots = num[picks].mean(1) / den[picks].mean(1)
    lo, hi = _interval(boots, level)
    return {
        "ratio": float(num.mean() / den.mean()),
        "lo": lo,
        "hi": hi,
        "level": level,
        "n_seeds": len(num),
    }


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
    each resampled on its own; the interval is the percentile bootstrap of the ratio."""
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    rng = np.random.default_rng(seed)
    p_num = rng.integers(0, len(num), size=(n_boot, len(num)))
    p_den = rng.integers(0, len(den), size=(n_boot, len(den)))
    boots = np.array(
        [statistic(num[a]) / statistic(den[b]) for a, b in zip(p_num, p_den, strict=True)]
    )
    lo, hi = _interval(boots, level)
    return {"ratio": float(statistic(num) / statistic(den)), "lo": lo, "hi": hi,
            "level": level, "n_seeds": int(min(len(num), len(den)))}  # fmt: skip


def sequence_of(records: Sequence[dict[str, float]], key: str) -> list[float]:
    """One field of a list of records, e.g. the point slopes of ``local_slopes``."""
    return [r[key] for r in records]
