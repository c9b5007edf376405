"""Figures of the gp_prediction study, drawn from the data files its analysis wrote."""

from __future__ import annotations

import numpy as np

from ntkpaper.figures import plotting
from ntkpaper.studies.gp_prediction.figure_data import GpPrediction


def plot_gp_prediction(data: GpPrediction, path) -> None:
    """One panel per width: the ensemble's 10/50/90% percentiles of f(γ) over the Gaussian's,
    both drawn less the Gaussian's mean μ(γ) (the predictive std is a few percent of f, so a
    band around f itself is a line); then the noise-corrected distances per width with their
    90% intervals against the claims' margin."""
    widths = data.widths
    fig, axes = plotting.figure(len(widths) + 1, height=2.3)
    g, mu = data.gammas, data.gp["50"]
    finite_color, gp_color = plotting.colors(2)
    for ax, w in zip(axes[0][: len(widths)], widths, strict=True):
        nets = data.nets[str(w)]
        ax.fill_between(
            g,
            data.gp["10"] - mu,
            data.gp["90"] - mu,
            color=gp_color,
            alpha=0.3,
            lw=0,
            label="NTK Gaussian, 10–90%",
        )
        ax.axhline(0.0, color=gp_color, lw=2.0, label="NTK Gaussian, median")
        ax.plot(g, nets["50"] - mu, color=finite_color, lw=0.9, label="nets, median")
        for p in (10, 90):
            ax.plot(
                g,
                nets[str(p)] - mu,
                color=finite_color,
                ls="--",
                lw=0.8,
                label="nets, 10/90%" if p == 10 else None,
            )
        ax.plot(
            data.train_angles,
            np.zeros(len(data.train_angles)),
            "ko",
            ms=3,
            label="training points",
        )
        ax.set(
            xlabel=r"$\gamma$",
            ylabel=r"$f(\cos\gamma, \sin\gamma) - \mu_\infty(\gamma)$",
            title=f"width {w}",
        )
    lims = np.array([ax.get_ylim() for ax in axes[0][: len(widths)]])
    for ax in axes[0][: len(widths)]:  # one scale, so the widths compare at a glance
        ax.set_ylim(lims[:, 0].min(), lims[:, 1].max())
    plotting.legend_below(axes[0, 0], ncol=2)
    ax = axes[0, -1]
    x = np.arange(len(widths))
    colors = plotting.colors(4)
    parts = [
        (data.distances.mean, "mean", "s", -0.2, colors[2]),
        (data.distances.total, "mean and spread", "o", 0.0, "k"),
        (data.distances.std, "spread", "^", 0.2, colors[3]),
    ]
    for distance, label, marker, dx, color in parts:
        value = distance.value
        err = [value - distance.lo, distance.hi - value]
        ax.errorbar(x + dx, value, yerr=err, fmt=marker, color=color, capsize=2, label=label)
    ax.axhline(data.margin, color="k", ls="--", lw=0.8, label="margin")
    ax.axhline(0.0, color="0.5", lw=0.6)
    ax.set_xticks(x, [str(int(w)) for w in widths])
    ax.set_xlim(-0.6, len(widths) - 0.4)
    ax.set(
        xlabel="width $n$", ylabel=r"distance $/\ \bar s_\infty$", title="distance to the Gaussian"
    )
    plotting.legend_below(ax, ncol=2)
    plotting.save(fig, path)
