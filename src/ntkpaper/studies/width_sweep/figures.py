"""Figures of the width_sweep study, drawn from the data files its analysis wrote.

Colour means one thing per figure: the layer type in `lazy`, the model (network blue,
linearization orange, kernel predictors black and grey) in `linearization` and
`generalization`; markers tell apart series that may coincide."""

from __future__ import annotations

import matplotlib.lines
import numpy as np

from ntkpaper.figures import plotting
from ntkpaper.studies.width_sweep.figure_data import Generalization, Lazy, Linearization

LAYERS = ("input", "hidden", "output", "all")
LAYER_LABEL = {
    "input": "input layer",
    "hidden": "hidden layers",
    "output": "output layer",
    "all": "all parameters",
}
NET, LIN = plotting.colors(2)  # network, linearization (the same in E2 and E6)


def _layer_styles(keys) -> dict[str, tuple[str, str]]:
    cols = plotting.colors(4)
    return {k: (cols[i], plotting.MARKERS[i]) for i, k in enumerate(LAYERS) if k in keys}


def _reference(ax, w, anchor: float, power: float, ls: str) -> None:
    """A guide of slope `power` starting a factor two below `anchor` at the narrowest width:
    parallel to the data it is compared with, never on top of it."""
    label = r"$\propto n^{-1/2}$" if power == -0.5 else rf"$\propto n^{{{power:g}}}$"
    ax.plot(w, 0.5 * anchor * (w / w[0]) ** power, color="0.35", ls=ls, lw=0.8, label=label)


def plot_lazy(data: Lazy, path) -> None:
    fig, axes = plotting.figure(3, height=2.3)
    (a, b, c) = axes[0]
    w, layers = data.widths, data.layers
    styles = _layer_styles([k for k in LAYERS if k in layers])
    for kind, (color, marker) in styles.items():
        rel, absolute = layers[kind].final_rel, layers[kind].final_abs
        label = plotting.rate_label(LAYER_LABEL[kind], layers[kind].rate_rel)
        plotting.mean_band(a, w, rel, label=label, color=color, marker=marker)
        plotting.mean_band(b, w, absolute, label=LAYER_LABEL[kind], color=color, marker=marker)
    outer = layers["input"].final_rel if "input" in layers else layers["all"].final_rel
    _reference(a, w, float(np.nanmin(outer[0])), -0.5, ":")
    if "hidden" in layers:
        _reference(a, w, float(np.nanmin(layers["hidden"].final_rel[0])), -1.0, "--")
    a.set(yscale="log", ylabel=r"$\|\theta_T-\theta_0\| / \|\theta_0\|$")
    b.set(yscale="log", ylabel=r"$\|\theta_T-\theta_0\|$")
    plotting.width_axis(a, w)
    plotting.width_axis(b, w)
    # (c): the same colours, over training, at the narrowest and the widest width. t = 0 is
    # not drawn: the change is zero there, which a log axis cannot show.
    steps = data.steps
    ends = [(0, "--", 0.9), (len(w) - 1, "-", 1.3)] if len(w) > 1 else [(0, "-", 1.3)]
    for kind, (color, _marker) in styles.items():
        if kind == "all":
            continue
        for i, ls, lw in ends:
            t, y = plotting.positive(steps, layers[kind].traj_rel[i])
            c.plot(t, y, color=color, ls=ls, lw=lw)
    c.set(
        xscale="log",
        yscale="log",
        xlabel="step $t$",
        ylabel=r"$\|\theta_t-\theta_0\| / \|\theta_0\|$",
    )
    proxies = [
        matplotlib.lines.Line2D([], [], color="k", ls=ls, lw=lw, label=f"$n = {w[i]}$")
        for i, ls, lw in ends
    ]
    plotting.legend_below(a, ncol=1)
    plotting.legend_below(c, ncol=2, handles=proxies)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_linearization(data: Linearization, path) -> None:
    fig, axes = plotting.figure(2, height=2.5, width=0.8)
    a, b = axes[0]
    w = data.widths
    gap = data.rmse_f_g
    label = plotting.rate_label(r"$\max_t$ RMSE$(f_t, g_t)$", data.rate_f_minus_g)
    plotting.mean_band(a, w, gap, label=label, color="k")
    _reference(a, w, float(np.nanmin(gap[0])), -0.5, ":")
    a.set(yscale="log", ylabel=r"$\max_t$ test RMSE of $f_t - g_t$")
    plotting.width_axis(a, w)
    # what E2-cost decides: g's test loss minus f's, paired by θ_0, with its 90% interval
    diff = data.lin_minus_net_test_loss
    mid, lo, hi = diff.value, diff.lo, diff.hi
    b.errorbar(
        w, (lo + hi) / 2, yerr=(hi - lo) / 2, fmt="none", ecolor=LIN, capsize=3, elinewidth=1.0
    )
    b.plot(w, mid, marker="s", color=LIN, ms=3, lw=0.8, label="test loss of $g_T$ minus $f_T$")
    b.axhline(0, color="0.4", lw=0.6, zorder=0)
    b.set(ylabel="paired test-loss difference")
    plotting.width_axis(b, w)
    plotting.legend_below(a, ncol=1)
    plotting.legend_below(b, ncol=1)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_generalization(data: Generalization, path) -> None:
    fig, axes = plotting.figure(3, height=2.8)
    a, b, c = axes[0]
    w = data.widths
    net, lin = data.net_test_loss, data.lin_test_loss
    plotting.mean_band(a, w, net, label="network", color=NET)
    plotting.mean_band(a, w, lin, label="linearization", color=LIN, marker="s")
    x_inf = plotting.width_axis(a, w, infinity=True)
    plotting.mean_band(
        a,
        w,
        data.centred_test_loss,
        label="centred network $f - f_0$",
        color=plotting.colors(4)[2],
        marker="v",
    )
    # Networks trained to convergence are compared with the limit at t = infinity.
    plotting.at_infinity(
        a,
        x_inf,
        [data.ntk_test_loss, data.ntk_mean_test_loss, data.nngp_test_loss],
        w[0],
        styles=[
            ("NTK Gaussian (expected)", "D", "k", True),
            ("NTK mean", "D", "k", False),
            ("NNGP posterior", "v", "0.5", True),
        ],
    )
    a.set(yscale="log", ylabel="expected test loss")
    # (b) signed gaps to the NTK prediction with 90% bootstrap intervals over seeds, for the
    # network, the centred network (f - f_0) and the ensemble of the seeds (Lee et al. 2020).
    series = (
        ("standard", "network", NET, "o"),
        ("centred", "centred $f - f_0$", plotting.colors(4)[2], "s"),
        ("ensemble", "ensemble of the seeds", plotting.colors(4)[3], "^"),
    )
    for i, (key, label, color, marker) in enumerate(series):
        mid, lo, hi = data.gaps[key].value, data.gaps[key].lo, data.gaps[key].hi
        shift = w * (1 + 0.12 * (i - 1))  # side by side, never on top of each other
        # The interval as computed and the point apart: a bootstrap percentile interval need
        # not hold its point estimate (the ensemble's gap is not linear in the seeds).
        b.errorbar(
            shift,
            (lo + hi) / 2,
            yerr=(hi - lo) / 2,
            fmt="none",
            ecolor=color,
            capsize=3,
            elinewidth=1.0,
        )
        b.plot(shift, mid, marker=marker, color=color, ms=3, lw=0.8, label=label)
    b.axhline(0, color="0.4", lw=0.6, zorder=0)
    b.set(ylabel="gap to NTK Gaussian")
    plotting.width_axis(b, w)
    plotting.mean_band(c, w, data.net_accuracy, label="network", color=NET)
    plotting.mean_band(c, w, data.lin_accuracy, label="linearization", color=LIN, marker="s")
    c.plot(
        w,
        data.net_ensemble_accuracy,
        "^-",
        color=plotting.colors(4)[3],
        label="network, output averaged over seeds",
    )
    x_inf = plotting.width_axis(c, w, infinity=True)
    plotting.at_infinity(c, x_inf, [data.ntk_accuracy], w[0], styles=[("NTK mean", "D", "k", True)])
    c.set(ylabel="test accuracy")
    for ax in (a, b, c):
        plotting.legend_below(ax, ncol=1)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
