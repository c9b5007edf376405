"""Figures of the gp_prediction study, drawn from the data files its analysis wrote."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ntkpaper import plotting


def plot_gp_prediction(data: Mapping[str, np.ndarray], path) -> None:
    widths = data["widths"]
    fig, axes = plotting.figure(len(widths), height=2.1)
    g = data["gammas"]
    finite_color, gp_color = plotting.colors(2)
    for ax, w in zip(axes[0], widths, strict=True):
        ax.fill_between(
            g,
            data["gp_p10"],
            data["gp_p90"],
            color=gp_color,
            alpha=0.2,
            lw=0,
            label="NTK Gaussian, 10–90%",
        )
        # The wide nets' median lies on the Gaussian's: a thick line under a thin one.
        ax.plot(g, data["gp_p50"], color=gp_color, lw=3.0, label="NTK Gaussian, median")
        ax.plot(g, data[f"w{w}_p50"], color=finite_color, lw=0.9, label=f"n = {w}, median")
        for p in (10, 90):
            ax.plot(
                g,
                data[f"w{w}_p{p}"],
                color=finite_color,
                ls="--",
                lw=0.8,
                label=f"n = {w}, 10/90%" if p == 10 else None,
            )
        ax.plot(data["train_angles"], data["y_train"][:, 0], "ko", ms=3, label="training points")
        ax.set(xlabel=r"$\gamma$", ylabel=r"$f(\cos\gamma, \sin\gamma)$", title=f"width {w}")
        plotting.legend_below(ax, ncol=2)
    plotting.save(fig, path)
