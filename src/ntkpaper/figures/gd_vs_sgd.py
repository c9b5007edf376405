"""Figures of the gd_vs_sgd study, drawn from the data files its analysis wrote."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ntkpaper import plotting


def plot_gd_vs_sgd(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(2, height=2.1, width=0.75)
    a, b = axes[0]
    steps = np.maximum(data["record_steps"], 1)
    full = data["batch_sizes"][0]
    for color, bs, gap, loss in zip(
        plotting.colors(len(data["batch_sizes"])),
        data["batch_sizes"],
        data["gap"],
        data["net_test_loss"],
        strict=True,
    ):
        label = f"GD (full batch {bs})" if bs == full else f"SGD, batch {bs}"
        a.plot(steps, np.nanmean(gap, axis=1), color=color, label=label)
        b.plot(steps, np.nanmean(loss, axis=1), color=color, label=label)
    a.set(xscale="log", yscale="log", xlabel="step $t$", ylabel="test RMSE, network vs linear")
    b.set(xscale="log", xlabel="step $t$", ylabel="network test loss")
    a.legend(fontsize=6)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
