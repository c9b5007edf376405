"""Figures of the kernel_convergence study, drawn from the data files its analysis wrote.

Colour means width (a sequential palette, narrowest darkest); the analytic limit is black.
(a), (b) Jacot et al.'s Fig. 1 view at the narrowest and the widest width, t = 0 and t = T;
(c) the RMS over initializations of Θ_0 − Θ_∞ by angle, per width; (d) inflation against
width; (e) deviation and (f) drift against width with the rate rule's exponent."""

from __future__ import annotations

import numpy as np

from ntkpaper.figures import plotting
from ntkpaper.pipeline.records import Interval
from ntkpaper.studies.kernel_convergence.figure_data import KernelConvergence


def _against_width(ax, widths, y, rate: Interval, cols, label: str) -> None:
    """Mean over seeds (one colour per width) labelled with the rule's exponent, the seeds'
    range, and a guide of slope −1/2 (the claims' rate) a factor two below the narrowest
    width's mean."""
    mean, ref = np.nanmean(y, 1), -0.5  # NaN: initializations not trained
    ax.fill_between(widths, np.nanmin(y, 1), np.nanmax(y, 1), color="0.5", alpha=0.2, lw=0)
    ax.plot(
        widths,
        mean,
        color="0.4",
        lw=0.9,
        label=plotting.rate_label("mean (band: range)", rate),
    )
    for w, m, color in zip(widths, mean, cols, strict=True):
        ax.plot([w], [m], "o", color=color, ms=4.5, zorder=3)
    power = "-1/2" if ref == -0.5 else f"{ref:g}"
    ax.plot(
        widths,
        0.5 * mean[0] * (widths / widths[0]) ** ref,
        "k:",
        lw=0.8,
        label=rf"$\propto n^{{{power}}}$",
    )
    ax.set(yscale="log", ylabel=label)
    plotting.width_axis(ax, widths)
    plotting.legend_below(ax, ncol=1, gap_pt=28)


def _jacot_view(ax, g, before, after, *, width, steps, color, shade) -> None:
    """Jacot et al.'s Fig. 1 at one width: Θ(x_0, x(γ)) of every initialization at t = 0
    (lines) and after training (open markers at every twelfth of the angles, on top: they
    stay visible where training barely moved the kernel). No limit curve: a wide net's
    curves would hide it (panels (c) and (e) measure the distance to it)."""
    every = max(len(g) // 12, 1)
    for i, k0 in enumerate(before):
        ax.plot(g, k0, color=color, lw=0.7, label="$t = 0$" if not i else None)
    for i, k1 in enumerate(after):
        label = f"$t = {steps}$" if not i else None
        ax.plot(
            g,
            k1,
            "o",
            color=shade,
            mfc="white",
            ms=2.6,
            mew=0.7,
            markevery=(every // 2, every),
            label=label,
        )
    ax.set(xlabel=r"angle $\gamma$", ylabel=r"$\Theta(x_0, x(\gamma))$")
    ax.set_title(f"$n = {width}$", loc="right")
    plotting.legend_below(ax, ncol=2, gap_pt=28)


def _inflation(ax, widths, before, after, cols) -> None:
    """Each net's inflation mean_γ(Θ_T − Θ_0) / mean_γ Θ_0 (as the analysis defines it):
    mean over initializations and their range, against width."""
    y = np.stack([(k1 - k0).mean(-1) / k0.mean(-1) for k0, k1 in zip(before, after, strict=True)])
    ax.axhline(0.0, color="0.6", lw=0.6, zorder=1)
    mean = np.nanmean(y, 1)  # NaN: initializations not trained
    ax.fill_between(widths, np.nanmin(y, 1), np.nanmax(y, 1), color="0.5", alpha=0.2, lw=0)
    ax.plot(widths, mean, color="0.4", lw=0.9, label="mean (band: range)")
    for w, m, color in zip(widths, mean, cols, strict=True):
        ax.plot([w], [m], "o", color=color, ms=4.5, zorder=3)
    ax.set(ylabel="inflation in training")
    plotting.width_axis(ax, widths)
    plotting.legend_below(ax, ncol=1, gap_pt=28)


def plot_kernel_convergence(data: KernelConvergence, path) -> None:
    fig, axes = plotting.figure(2, 3, height=2.2)
    (a, b), (c, d), (e, f) = axes
    g, widths = data.gammas, data.widths
    cols = plotting.sequential(len(widths))
    steps = data.steps
    # (a), (b) Jacot et al.'s Fig. 1: the narrowest and the widest width, on one y scale.
    ends = (
        (a, 0, cols[0], plotting.blend(cols[0], 0.35)),
        (b, -1, cols[-1], plotting.blend(cols[-1], 0.45, "black")),
    )
    for ax, i, color, shade in ends:
        _jacot_view(
            ax,
            g,
            data.before[i],
            data.after[i],
            width=widths[i],
            steps=steps,
            color=color,
            shade=shade,
        )
    low = min(ax.get_ylim()[0] for ax in (a, b))
    high = max(ax.get_ylim()[1] for ax in (a, b))
    for ax in (a, b):
        ax.set_ylim(low, high)
    # (c) how far each width's kernel sits from the limit at t = 0, angle by angle (RMS over
    # the initializations).
    for w, k0, color, marker in zip(widths, data.before, cols, plotting.MARKERS, strict=False):
        rms = np.sqrt(np.mean((k0 - data.analytic) ** 2, axis=0))
        x, y = plotting.positive(g, rms)
        c.plot(
            x,
            y,
            color=color,
            marker=marker,
            ms=2.5,
            lw=0.9,
            markevery=max(len(x) // 8, 1),
            label=f"$n = {w}$",
        )
    c.set(
        yscale="log",
        xlabel=r"angle $\gamma$",
        ylabel=r"RMS$_{\rm seeds}$ of $\Theta_0 - \Theta_\infty$",
    )
    plotting.legend_below(c, ncol=min(len(widths), 4), gap_pt=28)
    _inflation(d, widths, data.before, data.after, cols)
    _against_width(e, widths, data.deviation, data.rate_deviation, cols, "deviation at $t = 0$")
    _against_width(f, widths, data.drift, data.rate_drift, cols, "drift in training")
    plotting.panel_labels(axes)
    plotting.save(fig, path)
