"""Figures of the convolutional-NTK study (E13), drawn from the data files its analysis wrote.

Colour means the readout throughout (flatten blue, global average pooling orange, the fully
connected NTK grey); filled markers are kernels at t = ∞, open ones kernels at t = T."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ntkpaper import plotting
from ntkpaper.fits import loglog_slope

READOUTS = ("flatten", "pool")
LABELS = {"flatten": "flatten", "pool": "global avg. pool"}
COLOR = dict(zip(READOUTS, plotting.colors(2), strict=True))
MARKER = {"flatten": "o", "pool": "s"}
FC_COLOR = "0.45"


def plot_accuracy(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(2, height=2.4, width=0.95)
    ch = data["train_channels"]
    for ax, metric in zip(axes[0], ("accuracy", "mse"), strict=True):
        for readout in READOUTS:
            plotting.mean_band(ax, ch, data[f"{readout}_net_{metric}"], color=COLOR[readout],
                               marker=MARKER[readout], label=f"CNN, {LABELS[readout]}")  # fmt: skip
        x_inf = plotting.width_axis(ax, ch, label="channels $C$", infinity=True)
        values, styles = [], []
        for readout in READOUTS:
            for suffix, when, filled in (("", r"\infty", True), ("_T", "T", False)):
                values.append(float(data[f"{readout}_{metric}{suffix}"]))
                styles.append((f"CNTK $t={when}$, {LABELS[readout]}", "D", COLOR[readout], filled))
        values.append(float(data[f"fc_{metric}"]))
        styles.append((r"fully connected NTK, $t=\infty$", "*", FC_COLOR, True))
        plotting.at_infinity(ax, x_inf, values, ch[0], styles=styles, guide=False)
    a, b = axes[0]
    a.set(ylabel="test accuracy")
    b.set(ylabel="test MSE", yscale="log")
    handles, labels = a.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=6)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_concentration(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(2, height=2.3, width=0.9)
    a, b = axes[0]
    ch = data["channels"]
    for readout in READOUTS:
        dev = data[f"{readout}_deviation"]
        slope, _ = loglog_slope(ch, dev.mean(1))
        plotting.mean_band(a, ch, dev, color=COLOR[readout], marker=MARKER[readout],
                           label=f"{LABELS[readout]} (slope {slope:.2f})")  # fmt: skip
    ref = data["pool_deviation"].mean(1)[0]
    a.plot(ch, 0.5 * ref * (ch / ch[0]) ** -0.5, ":", color="0.35", lw=0.8,
           label=r"$\propto C^{-1/2}$")  # fmt: skip
    a.set(yscale="log", ylabel=r"$\|\hat\Theta - \Theta\|_F / \|\Theta\|_F$")
    plotting.width_axis(a, ch, label="channels $C$ (at initialization)")
    x = np.arange(2)
    for j, (what, hatch) in enumerate((("wall", None), ("CPU", "//"))):
        vals = [1e6 * data[f"{r}_cost"][j] for r in READOUTS]
        b.bar(x + (j - 0.5) * 0.35, vals, width=0.35, color=[COLOR[r] for r in READOUTS],
              hatch=hatch, edgecolor="k", lw=0.4, label=f"{what} time")  # fmt: skip
    b.set_xticks(x, [LABELS[r] for r in READOUTS])
    b.set(yscale="log", ylabel=r"$\mu$s per CNTK entry")
    plotting.legend_below(a, ncol=2)
    b.legend(fontsize=6)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
