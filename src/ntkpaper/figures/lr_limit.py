"""Figures of the lr_limit study, drawn from the data files its analysis wrote."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ntkpaper import plotting


def plot_lr_limit(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(3, height=2.1)
    a, b, c = axes[0]
    r = data["ratios"]
    c0, c1 = plotting.colors(2)
    a.plot(r, data["net_diverged_fraction"], "o-", color=c0, label="network diverged")
    a.plot(r, data["lin_diverged_fraction"], "s--", color=c1, label="linearized diverged")
    for x, style in ((1, ":"), (2, "-.")):
        for ax in (a, b):
            ax.axvline(x, color="k", ls=style, lw=0.8)
    a.set(ylabel="fraction of seeds", ylim=(-0.05, 1.05))
    b.plot(r, np.nanmean(data["gap"], axis=1), "o-", color=c0)
    b.set(ylabel="test RMSE, network vs linear")
    for ax in (a, b):
        plotting.log_ticks(ax, r)
        ax.set_xlabel(r"$\eta / \eta_{\mathrm{crit}}$")
    steps = np.maximum(data["record_steps"], 1)
    for color, ratio, loss in zip(plotting.colors(len(r)), r, data["net_train_loss"], strict=True):
        c.plot(steps, np.nanmedian(loss, axis=1), color=color, label=f"{ratio:g}")
    c.set(xscale="log", yscale="log", xlabel="step $t$", ylabel="network train loss")
    plotting.legend_below(a, ncol=1)
    plotting.legend_below(c, ncol=4, title=r"$\eta/\eta_{\mathrm{crit}}$")
    plotting.panel_labels(axes)
    plotting.save(fig, path)
