"""Figures of the early_stopping study, drawn from the data files its analysis wrote.

Colour means one thing: black and grey the NTK predictors, a sequential palette the width of
the finite networks, and one qualitative colour per stopping rule (vertical lines). Time is
on a symlog axis, so t = 0 is drawn where it is."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ntkpaper import plotting

_, VERMILLION, _, PURPLE, _, SKY, _ = plotting.colors(7)
RULES = {  # name: (colour, line style, label)
    "spectral": (VERMILLION, "-", "stop: spectral rule"),
    "validation": (SKY, "--", "stop: validation"),
    "oracle": (PURPLE, ":", "stop: oracle (test labels)"),
}


def plot_early_stopping(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(3, height=2.9)
    a, b, c = axes[0]
    t = data["times"]
    a.plot(t, data["test_mse"], color="k", label="NTK mean predictor ($f_0 = 0$)")
    # Thick and pale under the networks, which follow it: both stay visible.
    a.plot(data["times_expected"], data["test_mse_expected"], color="0.6", lw=3.2,
           label="NTK, one network (mean + init variance)")  # fmt: skip
    a.axhline(data["inf_test_mse"], color="k", ls="-.", lw=0.8, label=r"NTK mean, $t=\infty$")
    b.plot(t, data["test_acc"], color="k", label="NTK mean: test accuracy")
    b.plot(t, data["train_noisy_fit"], color="k", ls="--", lw=1.0,
           label="NTK mean: corrupted labels fitted")  # fmt: skip
    widths = data["net_widths"]
    for w, color, marker in zip(widths, plotting.sequential(len(widths)), plotting.MARKERS,
                                strict=False):  # fmt: skip
        i = list(widths).index(w)
        kw = {"marker": marker, "ms": 2.2, "lw": 0.7, "color": color,
              "markevery": max(len(data["net_steps"]) // 10, 1)}  # fmt: skip
        a.plot(data["net_steps"], data["net_test_mse"][i], label=f"networks, $n = {w}$", **kw)
        b.plot(data["net_steps"], data["net_test_acc"][i], **kw)
    for ax in (a, b):
        for name, stop in zip(data["stop_names"], data["stop_times"], strict=True):
            color, style, label = RULES[str(name)]
            ax.axvline(stop, color=color, ls=style, lw=1.0, label=label if ax is a else None)
        plotting.time_axis(ax)
    a.set(yscale="log", ylabel="test MSE")
    b.set(ylabel="fraction", ylim=(0, 1.02))
    ks = data["k_grid"]
    eps = f"{float(data['eps']):g}"
    c.plot(ks, data["k_grid_test_mse"], "o-", ms=2, lw=0.9, color=VERMILLION,
           label=f"spectral rule with $k$ modes, $\\varepsilon = {eps}$")  # fmt: skip
    c.axhline(data["oracle_test_mse"], color=PURPLE, ls=":", lw=1.0, label="oracle")
    c.axhline(data["inf_test_mse"], color="k", ls="-.", lw=0.8, label=r"$t=\infty$")
    c.axvline(data["top_k"], color=VERMILLION, ls="--", lw=0.8,
              label=f"$k = {int(data['top_k'])}$ (configured)")  # fmt: skip
    c.axvline(data["k_trace_90"], color="0.5", ls="--", lw=0.8,
              label="$k$ holding 90% of the trace")  # fmt: skip
    c.set(xscale="log", yscale="log", xlabel="modes $k$ fitted to $\\varepsilon$",
          ylabel="test MSE")  # fmt: skip
    plotting.legend_below(c, ncol=1, gap_pt=28)
    handles = [h for ax in (a, b) for h in ax.get_legend_handles_labels()[0]]
    fig.legend(handles=handles, loc="outside lower left", ncol=3, fontsize=6)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
