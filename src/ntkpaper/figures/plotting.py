"""One paper style for every figure: sizes matching the LaTeX body, a colour-blind-safe
palette (Okabe–Ito), labelled log axes, vector PDF written atomically."""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib
import matplotlib.collections
import matplotlib.colors
import matplotlib.lines
import matplotlib.patches
import matplotlib.text
import matplotlib.ticker
import matplotlib.transforms
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ntkpaper.figures.check import CHECK_ENV, FigureCheckError, check_figure, check_path, panels
from ntkpaper.pipeline.io import atomic_path, write_json
from ntkpaper.pipeline.records import Interval

TEXT_WIDTH_IN = 6.45  # a4paper with 2.3 cm margins, as in paper/ntk.tex
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
STYLE = {
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8.5,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "font.family": "serif",
    "mathtext.fontset": "cm",
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "legend.frameon": False,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,
}


def colors(n: int) -> list[str]:
    """Qualitative colours, for categories (methods, layer types, rules): Okabe–Ito without
    its yellow, which is faint on white and hard to tell from the orange."""
    palette = [c for c in OKABE_ITO if c != "#F0E442"]
    return [palette[i % len(palette)] for i in range(n)]


def sequential(n: int) -> list[str]:
    """Sequential colours, for ordered quantities (width, learning rate, mode index): viridis
    from dark to light, stopping short of its pale yellow end."""
    cmap = matplotlib.colormaps["viridis"]
    return [matplotlib.colors.to_hex(cmap(x)) for x in np.linspace(0.0, 0.8, n)]


def blend(color, amount: float, toward="white") -> str:
    """`color` mixed with a fraction `amount` of `toward` (white: a paler shade of the same
    hue; black: a darker one)."""
    rgb, other = (np.asarray(matplotlib.colors.to_rgb(c)) for c in (color, toward))
    return matplotlib.colors.to_hex(rgb + (other - rgb) * amount)


MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")  # tell apart series that may coincide


def log_marks(n: int, count: int = 14) -> list[int]:
    """About `count` indices of n points, evenly spaced on a log axis (a `markevery`): dense
    markers on a log-spaced series would bury the lines drawn with them."""
    return sorted({int(np.rint(i)) for i in np.geomspace(1, n, count) - 1})


def figure(ncols: int = 1, nrows: int = 1, *, height: float = 2.1, width: float = 1.0):
    """A figure `width` × the text width wide, `height` inches per row."""
    plt.rcParams.update(STYLE)
    return plt.subplots(
        nrows,
        ncols,
        figsize=(TEXT_WIDTH_IN * width, height * nrows),
        constrained_layout=True,
        squeeze=False,
    )


def panel_labels(axes) -> None:
    for i, ax in enumerate(axes.flat):
        ax.set_title(f"({chr(ord('a') + i)})", loc="left", fontweight="bold")


def tick_text(value: float, _pos=None) -> str:
    """A tick label as a reader writes the number: 0.02, 5, 2000; powers of ten beyond."""
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.6g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    power = f"10^{{{int(exponent)}}}"
    return f"${power}$" if mantissa == "1" else rf"${mantissa}\times{power}$"


def _round_out(value: float, *, up: bool) -> float:
    """`value` rounded outward (up or down) to two significant digits."""
    scale = 10.0 ** (np.floor(np.log10(value)) - 1)
    return float(
        (np.ceil if up else np.floor)(value / scale * (1 - 1e-12 if up else 1 + 1e-12)) * scale
    )


def _set_lim(ax, axis, lo: float, hi: float) -> None:
    """New limits, keeping the axis' direction (an inverted axis stays inverted)."""
    set_lim, (a, b) = (
        (ax.set_xlim, ax.get_xlim()) if axis is ax.xaxis else (ax.set_ylim, ax.get_ylim())
    )
    set_lim((lo, hi) if a <= b else (hi, lo))


def readable_log_axes(fig) -> None:
    """At least two labelled ticks on every log axis, and one at or beyond each end of its
    data (no data below the lowest label or above the highest). Where two or more powers of
    ten fall inside the limits they are the labels (minor ticks unlabelled: matplotlib's 2×,
    3×, 4× … crowd a narrow panel); a shorter axis is labelled at 1-2-5 multiples, or every
    integer multiple, as plain numbers. Where that leaves an end of the axis unlabelled, the
    limit itself, rounded outward to two digits, is labelled too (widening the axis by under
    a tenth: the data keep their room). Axes ticked by hand (`log_ticks`) are left alone:
    their ticks are the values run."""
    for ax in fig.axes:
        for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            if axis.get_scale() != "log" or isinstance(
                axis.get_major_locator(), matplotlib.ticker.FixedLocator
            ):
                continue
            lo, hi = sorted(lim)
            if not lo > 0:
                continue
            length = _length_pt(ax, axis)
            first, last = np.floor(np.log10(lo) - 1e-9), np.ceil(np.log10(hi) + 1e-9)
            ticks = [10.0**e for e in np.arange(first, last + 1) if lo <= 10.0**e <= hi]
            if len(ticks) < 2:
                for subs in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
                    ticks = [m * 10.0**e for e in np.arange(first, last + 1) for m in subs]
                    ticks = [t for t in ticks if lo <= t <= hi]
                    if len(ticks) >= 2:
                        break
            # a label at or beyond each end of the data: the limit itself, rounded outward to
            # two digits, where the sequence leaves the end unlabelled (a few % of the span)
            margin = 0.04 * np.log10(hi / lo)
            if not ticks or np.log10(min(ticks) / lo) > margin:
                lo = _round_out(lo, up=False)
                ticks.append(lo)
            if np.log10(hi / max(ticks)) > margin:
                hi = _round_out(hi, up=True)
                ticks.append(hi)
            _set_lim(ax, axis, lo, hi)
            ticks = _spaced(sorted(set(ticks)), length, lo, hi, axis is ax.yaxis)
            axis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
            axis.set_major_formatter(matplotlib.ticker.FuncFormatter(tick_text))
            axis.set_minor_locator(matplotlib.ticker.LogLocator(subs="auto"))
            axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def _length_pt(ax, axis) -> float:
    """The axes' length along `axis`, in points, once the layout has run."""
    ax.figure.draw_without_rendering()
    box = ax.get_window_extent()
    return (box.height if axis is ax.yaxis else box.width) * 72.0 / ax.figure.dpi


def _apart(values, min_gap: float, span: float) -> set[float]:
    """The values kept from the largest down, each at least `min_gap` of a log span `span`
    (decades) below the one kept before it: labels that never print over each other."""
    kept: list[float] = []
    for v in sorted(values, reverse=True):
        if not kept or np.log10(kept[-1] / v) / span >= min_gap:
            kept.append(v)
    return set(kept)


def _spaced(ticks, length_pt: float, lo: float, hi: float, vertical: bool) -> list[float]:
    """Ticks a label's size apart (12 pt up the y axis, 22 pt along x): integer multiples
    crowd a short log axis. The lowest and the highest are always kept."""
    # along x a label takes its width: about 6 pt a character as printed
    chars = max(len(re.sub(r"[\\${}^]", "", tick_text(t).replace(r"\times", "x"))) for t in ticks)
    need = 12.0 if vertical else max(22.0, 6.0 * chars)
    gap = need / length_pt
    kept = _apart(ticks, gap, np.log10(hi / lo))
    # the lowest tick stays (an end of the data's range): drop its crowding neighbours instead
    low = min(ticks)
    kept = {t for t in kept if t == max(ticks) or np.log10(t / low) / np.log10(hi / lo) >= gap}
    return sorted(kept | {low})


def time_axis(ax, label: str = "step $t$") -> None:
    """The training step on a symlog axis: linear from 0 to 1, logarithmic beyond, so t = 0
    is drawn where it is instead of being clipped or floored onto t = 1."""
    ax.set_xscale("symlog", linthresh=1.0, linscale=0.4)
    ax.set_xlim(left=-0.15)  # no negative steps; a sliver of room for a marker at t = 0
    ax.xaxis.set_major_formatter(
        matplotlib.ticker.FuncFormatter(
            lambda v, _pos=None: tick_text(v) if v < 100 else f"$10^{{{round(np.log10(v))}}}$"
        )
    )
    ax.xaxis.set_minor_locator(
        matplotlib.ticker.SymmetricalLogLocator(linthresh=1.0, base=10, subs=range(2, 10))
    )
    ax.set_xlabel(label)


def positive(x, *ys):
    """x and ys where every y is > 0 and finite: what a log y axis can show (masking, not
    clipping, the rest)."""
    x = np.asarray(x)
    keep = np.ones(x.shape, bool)
    for y in ys:
        keep &= np.isfinite(y) & (np.asarray(y) > 0)
    return (x[keep], *(np.asarray(y)[keep] for y in ys))


def save(fig, path: str | os.PathLike, *, check: str | None = None) -> list[str] | None:
    """Write `fig` to `path` (atomically) after running `check_figure` on it; `check` (or
    the environment's NTKPAPER_FIGURE_CHECK) is record, raise or off (see below). Returns
    the problems found (None when the check is off)."""
    readable_log_axes(fig)
    path = Path(path)
    mode = check or os.environ.get(CHECK_ENV, "record")
    if mode not in ("record", "raise", "off"):
        raise ValueError(f"{CHECK_ENV}={mode!r}: expected record, raise or off")
    problems = None if mode == "off" else check_figure(fig)
    drawn = panels(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "pdf")
    plt.close(fig)
    if problems is not None:
        write_json(check_path(path), {"figure": path.name, "problems": problems, "panels": drawn})
        if mode == "raise" and problems:
            raise FigureCheckError(f"{path}:\n  " + "\n  ".join(problems))
    return problems


def log_ticks(ax, values, *, axis: str = "x", min_gap: float = 0.22, fmt=None) -> None:
    """Log axis ticked at the values actually run; a tick is labelled only when it sits at
    least `min_gap` of the axis' log span from the labelled tick to its right (the largest
    is always labelled), so neighbours such as 1024 and 1600 never print over each other."""
    values = sorted(float(v) for v in values)
    fmt = fmt or (lambda v: f"{v:g}")
    shown = _apart(values, min_gap, max(np.log10(values[-1] / values[0]), 1e-12))
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_ticks(values, [fmt(v) if v in shown else "" for v in values])
    target.set_minor_locator(matplotlib.ticker.NullLocator())


def width_axis(ax, widths, label: str = "width $n$", *, infinity: bool = False) -> float | None:
    """Log x axis ticked at the widths actually run (see `log_ticks`). With `infinity`, one
    more tick labelled ∞ to the right of the widest, where infinite-width predictions go;
    returns its position (None without)."""
    widths = sorted(float(w) for w in widths)
    x_inf = None
    if infinity:
        span = widths[-1] / widths[0] if widths[-1] > widths[0] else 10.0
        x_inf = widths[-1] * span**0.3
    log_ticks(ax, widths, fmt=lambda w: str(int(w)))
    if infinity:
        ticks = [*widths, x_inf]
        labels = [t.get_text() for t in ax.xaxis.get_ticklabels()]
        ax.xaxis.set_ticks(ticks, [*labels[: len(widths)], r"$\infty$"])
        ax.set_xlim(widths[0] / span**0.08, x_inf * span**0.16)
    ax.set_xlabel(label)
    return x_inf


def rate_label(name: str, rate: Interval) -> str:
    """A legend entry with the exponent of the rate rule as the analysis computed it (the
    figure data's interval), the number the text and the claims use."""
    slope, lo, hi = rate.value, rate.lo, rate.hi
    return f"{name} (exponent ${slope:.2f}$ [${lo:.2f}$, ${hi:.2f}$])"


def mean_band(ax, x, y, *, label, color, marker="o", **kwargs) -> None:
    """The mean over seeds (axis 1 of `y`) as a line with markers, the min–max range as a
    band (none at a single x, where a band has no width)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    ax.plot(x, np.nanmean(y, axis=1), marker=marker, color=color, label=label, **kwargs)
    if y.shape[1] > 1 and len(x) > 1:
        ax.fill_between(x, np.nanmin(y, axis=1), np.nanmax(y, axis=1), color=color, alpha=0.2, lw=0)


def at_infinity(ax, x_inf, values, w0, *, styles, guide: bool = True) -> None:
    """Infinite-width predictions at the ∞ tick (see `width_axis`), set 6 points apart so
    equal values stay distinguishable; `styles` holds (label, marker, colour, filled) per
    value. With `guide`, a dashed line carries the first one across from width `w0`."""
    fig = ax.figure
    for i, (value, (label, marker, color, filled)) in enumerate(zip(values, styles, strict=True)):
        if i == 0 and guide:
            ax.plot([w0, x_inf], [value, value], color=color, ls="--", lw=0.7)
        shift = matplotlib.transforms.offset_copy(
            ax.transData, fig=fig, x=6.0 * (i - (len(values) - 1) / 2), units="points"
        )
        ax.plot(
            [x_inf],
            [value],
            marker,
            color=color,
            ms=5,
            ls="none",
            label=label,
            mfc=color if filled else "white",
            transform=shift,
        )
    ax.update_datalim([(x_inf, v) for v in values])  # the shifted markers do not count
    ax.margins(y=0.12)
    ax.autoscale_view(scalex=False)


def legend_below(ax, ncol: int = 2, *, gap_pt: float = 30.0, **kwargs) -> None:
    """A legend under the axes, so it never covers data: `gap_pt` points below the axes'
    bottom edge (clear of tick labels and the x label, however small the axes end up)."""
    offset = matplotlib.transforms.ScaledTranslation(0, -gap_pt / 72, ax.figure.dpi_scale_trans)
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=ax.transAxes + offset,
        ncol=ncol,
        fontsize=6,
        **kwargs,
    )
