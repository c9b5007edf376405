"""One paper style for every figure: sizes matching the LaTeX body, a colour-blind-safe
palette (Okabe–Ito), labelled log axes, vector PDF written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import matplotlib.ticker

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


def save(fig, path: str | os.PathLike) -> None:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "pdf")
    plt.close(fig)


def width_axis(ax, widths, label: str = "width $n$") -> None:
    """Log x axis ticked at the widths actually run (no crowded minor labels)."""
    ax.set_xscale("log")
    ax.set_xticks(list(widths), [str(int(w)) for w in widths])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel(label)


def legend_below(ax, ncol: int = 2, **kwargs) -> None:
    """A legend under the axes, so it never covers data."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=ncol, fontsize=6, **kwargs)
