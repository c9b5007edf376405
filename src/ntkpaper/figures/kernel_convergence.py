"""Figures of the kernel_convergence study, drawn from the data files its analysis wrote.

Colour means width (a sequential palette, narrowest darkest); the analytic limit is black."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ntkpaper import plotting


def _against_width(ax, widths, y, rate, cols, label: str) -> None:
    """Mean over seeds (one colour per width) labelled with the rule's exponent, the seeds'
    range, and a guide of slope −1/2 (the claims' rate) a factor two below the narrowest
    width's mean."""
    mean, ref = y.mean(1), -0.5
    ax.fill_between(widths, y.min(1), y.max(1), color="0.5", alpha=0.2, lw=0)
    ax.plot(widths, mean, color="0.4", lw=0.9,
            label=plotting.rate_label("mean (band: range)", rate))  # fmt: skip
    for w, m, color in zip(widths, mean, cols, strict=True):
        ax.plot([w], [m], "o", color=color, ms=4.5, zorder=3)
    power = "-1/2" if ref == -0.5 else f"{ref:g}"
    ax.plot(widths, 0.5 * mean[0] * (widths / widths[0]) ** ref, "k:", lw=0.8,
            label=rf"$\propto n^{{{power}}}$")  # fmt: skip
    ax.set(yscale="log", ylabel=label)
    plotting.width_axis(ax, widths)
    plotting.legend_below(ax, ncol=1, gap_pt=28)


def plot_kernel_convergence(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(2, 2, height=2.35)
    (a, b), (c, d) = axes
    g, widths = data["gammas"], data["widths"]
    cols = plotting.sequential(len(widths))
    narrow = widths[0]
    # (a) Jacot's view, for the narrowest width: a few seeds at t = 0 (lines) and after
    # training (open markers, which stay visible where training barely moved the kernel).
    seeds = min(len(data[f"before_{narrow}"]), 4)
    every = max(len(g) // 10, 1)
    for i in range(seeds):
        k0, k1 = data[f"before_{narrow}"][i], data[f"after_{narrow}"][i]
        a.plot(g, k0, color=cols[0], lw=0.7, label=f"$n = {narrow}$, $t = 0$" if not i else None)
        a.plot(g, k1, "o", color=cols[0], mfc="white", ms=2.6, mew=0.6,
               markevery=(i * every // seeds, every),
               label=f"$n = {narrow}$, after training" if not i else None)  # fmt: skip
    a.plot(g, data["analytic"], "k", lw=1.4, label=r"$n = \infty$ (analytic)")
    a.set(xlabel=r"angle $\gamma$", ylabel=r"$\Theta(x_0, x(\gamma))$")
    plotting.legend_below(a, ncol=2, gap_pt=28)
    # (b) how far each width's kernel sits from the limit at t = 0, angle by angle.
    for w, color, marker in zip(widths, cols, plotting.MARKERS, strict=False):
        rms = np.sqrt(np.mean((data[f"before_{w}"] - data["analytic"]) ** 2, axis=0))
        x, y = plotting.positive(g, rms)
        b.plot(x, y, color=color, marker=marker, ms=2.5, lw=0.9, markevery=max(len(x) // 8, 1),
               label=f"$n = {w}$")  # fmt: skip
    b.set(yscale="log", xlabel=r"angle $\gamma$",
          ylabel=r"RMS$_{\rm seeds}$ of $\Theta_n - \Theta_\infty$")  # fmt: skip
    plotting.legend_below(b, ncol=min(len(widths), 4), gap_pt=28)
    _against_width(c, widths, data["deviation"], data["rate_deviation"], cols,
                   "deviation at $t = 0$")  # fmt: skip
    _against_width(d, widths, data["drift"], data["rate_drift"], cols, "drift in training")
    plotting.panel_labels(axes)
    plotting.save(fig, path)
