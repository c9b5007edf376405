"""Figures of the cost study, drawn from the data files its analysis wrote.

Colour means the method, in both panels: blue ours, orange neural-tangents' counterpart,
green the kernel solve, purple neural-tangents' Jacobian contraction."""

from __future__ import annotations

import numpy as np

from ntkpaper.figures import plotting
from ntkpaper.studies.cost.figure_data import Cost

OURS, NT, SOLVE, JACOBIAN = plotting.colors(4)


def plot_cost(data: Cost, path) -> None:
    fig, axes = plotting.figure(2, height=2.5, width=0.9)
    a, b = axes[0]
    ns = data.ns
    for timing, label, color, marker in (
        (data.kernel_ours, "analytic NTK, ours", OURS, "o"),
        (data.kernel_nt, "analytic NTK, neural-tangents", NT, "s"),
        (data.solve, r"NTK-GP mean at $t=\infty$ (solve)", SOLVE, "D"),
    ):
        rate = timing.exponent
        a.plot(
            ns,
            timing.seconds,
            "-",
            marker=marker,
            color=color,
            label=plotting.rate_label(label, rate),
        )
    a.set(yscale="log", ylabel="seconds")
    plotting.width_axis(a, ns, label="training points $N$")
    plotting.legend_below(a, ncol=1, gap_pt=28)
    # (b): a few widths only, so one row per implementation and one marker per width
    # instead of lines that would suggest a trend between two points.
    widths = data.widths
    rows = (
        (data.empirical.ours, "ours (layerwise)", OURS),
        (data.empirical.nt3, "nt: structured derivatives", NT),
        (data.empirical.nt1, "nt: Jacobian contraction", JACOBIAN),
    )
    for i, (seconds, _label, color) in enumerate(rows):
        timed = np.isfinite(seconds)  # Jacobian contraction is not timed at every width
        if timed.sum() > 1:
            b.plot(seconds[timed], np.full(timed.sum(), i), color=color, lw=0.8, ls=":")
        for w, x, marker in zip(widths, seconds, plotting.MARKERS, strict=False):
            if np.isfinite(x):
                b.plot(
                    [x], [i], marker, color=color, ms=5, mfc="white" if w == widths[0] else color
                )
    b.set(
        xscale="log",
        xlabel="s per empirical NTK",
        yticks=range(len(rows)),
        yticklabels=[label for _, label, _ in rows],
        ylim=(-0.6, len(rows) - 0.4),
    )
    b.invert_yaxis()
    b.grid(False, axis="y")
    handles = [
        plotting.matplotlib.lines.Line2D(
            [],
            [],
            color="0.3",
            marker=m,
            ls="none",
            ms=5,
            mfc="white" if i == 0 else "0.3",
            label=f"width {w}",
        )
        for i, (w, m) in enumerate(zip(widths, plotting.MARKERS, strict=False))
    ]
    plotting.legend_below(b, ncol=len(widths), handles=handles, gap_pt=28)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
