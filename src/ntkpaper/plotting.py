"""One paper style for every figure: sizes matching the LaTeX body, a colour-blind-safe
palette (Okabe–Ito), labelled log axes, vector PDF written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import matplotlib.ticker
import matplotlib.transforms
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ntkpaper.io import atomic_path

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
    return [OKABE_ITO[i % len(OKABE_ITO)] for i in range(n)]


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


def quiet_minor_labels(fig, min_decades: float = 0.7) -> None:
    """No labels on the minor ticks of a log axis spanning `min_decades` or more: its decade
    labels suffice, and matplotlib's 2×, 3×, 4× … labels crowd a narrow panel."""
    for ax in fig.axes:
        for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            if axis.get_scale() == "log" and lo > 0 and abs(np.log10(hi / lo)) >= min_decades:
                axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def save(fig, path: str | os.PathLike) -> None:
    quiet_minor_labels(fig)
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "pdf")
    plt.close(fig)


def log_ticks(ax, values, *, axis: str = "x", min_gap: float = 0.22, fmt=None) -> None:
    """Log axis ticked at the values actually run; a tick is labelled only when it sits at
    least `min_gap` of the axis' log span from the labelled tick to its right (the largest
    is always labelled), so neighbours such as 1024 and 1600 never print over each other."""
    values = sorted(float(v) for v in values)
    fmt = fmt or (lambda v: f"{v:g}")
    span = max(np.log10(values[-1] / values[0]), 1e-12)
    labels, right = [], None
    for v in reversed(values):
        show = right is None or np.log10(right / v) / span >= min_gap
        labels.append(fmt(v) if show else "")
        right = v if show else right
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_ticks(values, labels[::-1])
    target.set_minor_locator(matplotlib.ticker.NullLocator())


def width_axis(ax, widths, label: str = "width $n$") -> None:
    """Log x axis ticked at the widths actually run (see `log_ticks`)."""
    log_ticks(ax, widths, fmt=lambda w: str(int(w)))
    ax.set_xlabel(label)


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
