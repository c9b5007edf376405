"""Figures of the gd_vs_sgd study (E10, optimizers against their linearization)."""

from __future__ import annotations

import numpy as np

from ntkpaper.figures import plotting
from ntkpaper.studies.gd_vs_sgd.figure_data import Optimizers

# Momentum and Adam can end at nearly the same values: momentum is drawn broad underneath,
# Adam thin and dashed on top, so that each stays visible where they coincide.
LINES = {"momentum": {"lw": 2.6, "ms": 5.5, "zorder": 2.1}, "adam": {"ls": "--", "zorder": 2.2}}


def _mean_band(ax, x, y, *, color, **style):
    """Mean over seeds (columns) with markers, the seeds' range as a band."""
    ax.plot(x, np.nanmean(y, axis=1), color=color, **style)
    ax.fill_between(x, np.nanmin(y, axis=1), np.nanmax(y, axis=1), color=color, alpha=0.15, lw=0)


def plot_optimizers(data: Optimizers, path) -> None:
    fig, axes = plotting.figure(3, height=2.3)
    a, b, c = axes[0]
    w = data.widths
    colors = plotting.colors(len(data.optimizers))
    gd = data.optimizers["gd"]
    for i, (name, opt) in enumerate(data.optimizers.items()):
        style = {"color": colors[i], "marker": plotting.MARKERS[i], "label": opt.label}
        style |= LINES.get(name, {})
        _mean_band(a, w, opt.gap, **{**style, "label": plotting.rate_label(opt.label, opt.rate)})
        _mean_band(c, w, opt.param_dist, **style)
        if name != "gd":
            ratio = opt.gap / gd.gap  # paired seeds: same initialization
            _mean_band(b, w, ratio, **style)
    ref = np.nanmean(gd.gap[0])
    a.plot(w, ref * (w / w[0]) ** -0.5, "k:", lw=0.8, label=r"$\propto n^{-1/2}$")
    a.set(yscale="log", ylabel=r"RMSE$(f_T, g_T)$")
    b.axhline(1.0, color="k", lw=0.8, ls=":")
    b.set(yscale="log", ylabel="ratio to GD")
    c.set(yscale="log", ylabel=r"$\|\theta_T - \theta_0\|$")
    for ax in (a, b, c):
        plotting.width_axis(ax, w)
    plotting.legend_below(a, ncol=1)
    plotting.legend_below(b, ncol=1)
    plotting.legend_below(c, ncol=1)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
