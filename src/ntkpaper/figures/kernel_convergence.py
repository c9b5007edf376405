"""Figures of the kernel_convergence study, drawn from the data files its analysis wrote."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ntkpaper import plotting


def plot_kernel_convergence(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(3, height=2.2)
    a, b, c = axes[0]
    g, widths = data["gammas"], data["widths"]
    cols = plotting.colors(len(widths) + 1)
    for color, w in zip(cols, (widths[0], widths[-1]), strict=False):
        for i, (k0, k1) in enumerate(zip(data[f"before_{w}"], data[f"after_{w}"], strict=True)):
            a.plot(
                g, k0, color=color, lw=0.6, alpha=0.6, label=f"n = {w}, t = 0" if not i else None
            )
            a.plot(
                g,
                k1,
                color=color,
                lw=0.6,
                ls="--",
                alpha=0.6,
                label=f"n = {w}, after training" if not i else None,
            )
    a.plot(g, data["analytic"], "k", lw=1.4, label=r"$n=\infty$")
    a.set(xlabel=r"$\gamma$", ylabel=r"$\Theta(x_0, x(\gamma))$")
    plotting.legend_below(a, ncol=2)
    for ax, key, ref, label in (
        (b, "deviation", -0.5, "deviation from the limit at $t=0$"),
        (c, "drift", -1.0, "relative drift during training"),
    ):
        y = data[key]
        ax.plot(widths, y.mean(1), "o-", color=cols[0], label="mean over seeds")
        ax.fill_between(widths, y.min(1), y.max(1), color=cols[0], alpha=0.2, lw=0)
        ax.plot(
            widths,
            y.mean(1)[0] * (widths / widths[0]) ** ref,
            "k:",
            lw=0.8,
            label=rf"$\propto n^{{{ref:g}}}$",
        )
        ax.set(yscale="log", ylabel=label)
        plotting.width_axis(ax, widths)
        plotting.legend_below(ax, ncol=2)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
