"""Figures of the convolutional-NTK study (E13), drawn from the data files its analysis wrote."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ntkpaper import plotting
from ntkpaper.fits import loglog_slope

LABELS = {"flatten": "flatten", "pool": "global avg. pool"}


def plot_accuracy(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(2, height=2.3, width=0.9)
    a, b = axes[0]
    c = plotting.colors(4)
    ch = data["train_channels"]
    for ax, metric in ((a, "accuracy"), (b, "mse")):
        ax.axhline(float(data[f"fc_{metric}"]), color=c[2], lw=1, ls=":",
                   label="fully connected NTK")  # fmt: skip
        for i, readout in enumerate(("flatten", "pool")):
            ax.axhline(float(data[f"{readout}_{metric}"]), color=c[i], lw=1, ls="--",
                       label=f"CNTK, {LABELS[readout]}")  # fmt: skip
            ax.axhline(float(data[f"{readout}_{metric}_T"]), color=c[i], lw=0.8, ls="-.",
                       label=f"CNTK at $t=T$, {LABELS[readout]}")  # fmt: skip
            net = data[f"{readout}_net_{metric}"]  # (channels, seeds)
            ax.errorbar(ch * (0.95 if i == 0 else 1.05), net.mean(1),
                        yerr=[net.mean(1) - net.min(1), net.max(1) - net.mean(1)], fmt="o-",
                        ms=3, color=c[i], label=f"CNN, {LABELS[readout]}")  # fmt: skip
        plotting.width_axis(ax, ch, label="channels $C$ (trained CNNs)")
    a.set(ylabel="test accuracy")
    b.set(ylabel="test MSE", yscale="log")
    handles, labels = a.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=4, fontsize=6)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_concentration(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(2, height=2.3, width=0.9)
    a, b = axes[0]
    c = plotting.colors(4)
    ch = data["channels"]
    for i, readout in enumerate(("flatten", "pool")):
        dev = data[f"{readout}_deviation"]
        slope, _ = loglog_slope(ch, dev.mean(1))
        a.errorbar(ch, dev.mean(1), yerr=[dev.mean(1) - dev.min(1), dev.max(1) - dev.mean(1)],
                   fmt="o-", ms=3, color=c[i],
                   label=f"{LABELS[readout]} (slope {slope:.2f})")  # fmt: skip
    ref = data["pool_deviation"].mean(1)[0]
    a.plot(ch, ref * (ch / ch[0]) ** -0.5, "k:", lw=0.8, label=r"$\propto C^{-1/2}$")
    a.set(yscale="log", ylabel=r"$\|\hat\Theta - \Theta\|_F / \|\Theta\|_F$ at init")
    plotting.width_axis(a, ch, label="channels $C$")
    x = np.arange(2)
    for j, (what, hatch) in enumerate((("wall", None), ("CPU", "//"))):
        vals = [1e6 * data[f"{r}_cost"][j] for r in ("flatten", "pool")]
        b.bar(x + (j - 0.5) * 0.35, vals, width=0.35, color=[c[0], c[1]], hatch=hatch,
              edgecolor="k", lw=0.4, label=f"{what} time")  # fmt: skip
    b.set_xticks(x, [LABELS[r] for r in ("flatten", "pool")])
    b.set(yscale="log", ylabel=r"analytic CNTK, $\mu$s per kernel entry")
    plotting.legend_below(a, ncol=2)
    b.legend(fontsize=6)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
