"""Figures of the early_stopping study, drawn from the data files its analysis wrote."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ntkpaper import plotting

_RULE_STYLE = {"spectral": ("-", 3), "validation": ("--", 4), "oracle": (":", 7)}


def plot_early_stopping(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(3, height=2.2)
    a, b, c = axes[0]
    t = np.maximum(data["times"], 1)
    cols = plotting.colors(8)
    a.plot(t, data["test_mse"], color="k", label="NTK mean ($f_0 = 0$)")
    a.plot(np.maximum(data["times_expected"], 1), data["test_mse_expected"], color="0.55",
           lw=0.9, label="NTK, one net (mean + init variance)")  # fmt: skip
    a.axhline(data["inf_test_mse"], color="k", ls="-.", lw=0.8, label=r"NTK mean, $t=\infty$")
    b.plot(t, data["test_acc"], color="k", label="NTK mean: test accuracy")
    b.plot(t, data["train_noisy_fit"], color=cols[1], label="NTK mean: corrupted labels fitted")
    net_cols = [cols[i] for i in (0, 2, 5, 6)]
    for i, w in enumerate(data["net_widths"]):
        s = np.maximum(data["net_steps"], 1)
        col = net_cols[i % len(net_cols)]
        a.plot(s, data["net_test_mse"][i], "o-", ms=1.8, lw=0.9, color=col,
               label=f"nets, $n={w}$ (mean over seeds)")  # fmt: skip
        b.plot(s, data["net_test_acc"][i], "o-", ms=1.8, lw=0.9, color=col)
    for ax in (a, b):
        for name, stop in zip(data["stop_names"], data["stop_times"], strict=True):
            style, ci = _RULE_STYLE[str(name)]
            ax.axvline(max(stop, 1), color=cols[ci], ls=style, lw=0.9,
                       label=f"stop: {name}" if ax is a else None)  # fmt: skip
        ax.set(xscale="log", xlabel="step $t$")
    a.set(yscale="log", ylabel="test MSE (clean labels)")
    b.set(ylabel="test accuracy / fraction", ylim=(0, 1.02))
    ks = data["k_grid"]
    c.plot(ks, data["k_grid_test_mse"], "o-", ms=1.8, color=cols[3],
           label=f"spectral rule, $\\varepsilon={float(data['eps']):g}$")  # fmt: skip
    c.axhline(data["oracle_test_mse"], color=cols[7], ls=":", lw=0.9, label="oracle")
    c.axhline(data["inf_test_mse"], color="k", ls="-.", lw=0.8, label=r"$t=\infty$")
    c.axvline(data["top_k"], color=cols[3], ls="-", lw=0.8,
              label=f"$k={int(data['top_k'])}$ (config)")  # fmt: skip
    c.axvline(data["k_trace_90"], color=cols[2], ls="--", lw=0.8, label="90% of the trace")
    c.set(xscale="log", yscale="log", xlabel="top-$k$ modes fitted to $\\varepsilon$",
          ylabel="test MSE, NTK mean")  # fmt: skip
    c.legend(fontsize=5.5, loc="upper right")
    handles = [h for ax in (a, b) for h in ax.get_legend_handles_labels()[0]]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=6)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
