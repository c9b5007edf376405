"""Figures of the width_sweep study, drawn from the data files its analysis wrote."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ntkpaper import plotting
from ntkpaper.fits import WIDEST_K, loglog_slope


def _mean_band(ax, x, y, *, label, color, marker="o"):
    mean = np.nanmean(y, axis=1)
    ax.plot(x, mean, marker=marker, color=color, label=label)
    if y.shape[1] > 1:
        ax.fill_between(x, np.nanmin(y, axis=1), np.nanmax(y, axis=1), color=color, alpha=0.2, lw=0)


def _slope_label(name: str, y: np.ndarray, x: np.ndarray) -> str:
    """The rule's slope (widest three widths), as the claims use it."""
    slope, _ = loglog_slope(x[-WIDEST_K:], np.nanmean(y, axis=1)[-WIDEST_K:])
    return f"{name} (slope {slope:.2f})"


def plot_lazy(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(3, height=2.2)
    (a, b, c) = axes[0]
    w = data["widths"]
    cols = plotting.colors(4)
    for i, kind in enumerate(("input", "hidden", "output", "all")):
        key = f"final_rel_{kind}"
        if key in data:
            label = _slope_label("all" if kind == "all" else f"{kind} layer", data[key], w)
            _mean_band(a, w, data[key], label=label, color=cols[i])
            _mean_band(b, w, data[f"final_abs_{kind}"], label=kind, color=cols[i])
    ref = data["final_rel_all"][0].mean()
    a.plot(w, ref * (w / w[0]) ** -0.5, "k:", lw=0.8, label=r"$\propto n^{-1/2}$")
    a.plot(w, ref * (w / w[0]) ** -1.0, "k--", lw=0.8, label=r"$\propto n^{-1}$")
    a.set(yscale="log", ylabel=r"$\|\theta_T-\theta_0\| / \|\theta_0\|$")
    b.set(yscale="log", ylabel=r"$\|\theta_T-\theta_0\|$")
    plotting.width_axis(a, w)
    plotting.width_axis(b, w)
    steps = np.maximum(data["steps"], 1)
    for color, width, traj in zip(plotting.colors(len(w)), w, data["traj_rel_all"], strict=True):
        c.plot(steps, traj, color=color, label=f"n = {width}")
    c.set(
        xscale="log",
        yscale="log",
        xlabel="step $t$",
        ylabel=r"$\|\theta_t-\theta_0\| / \|\theta_0\|$",
    )
    for ax in (a, b, c):
        plotting.legend_below(ax, ncol=1 if ax is a else 2)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_linearization(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(2, height=2.2, width=0.75)
    a, b = axes[0]
    w = data["widths"]
    c0, c1 = plotting.colors(2)
    _mean_band(
        a,
        w,
        data["rmse_f_g"],
        label=_slope_label("RMSE$(f_T, g_T)$", data["rmse_f_g"], w),
        color=c0,
    )
    ref = np.nanmean(data["rmse_f_g"][0])
    a.plot(w, ref * (w / w[0]) ** -0.5, "k:", lw=0.8, label=r"$\propto n^{-1/2}$")
    a.set(yscale="log", ylabel=r"$\sup_t$ test RMSE, network vs linear")
    plotting.width_axis(a, w)
    _mean_band(b, w, data["net_test_loss"], label="network $f$", color=c0)
    _mean_band(b, w, data["lin_test_loss"], label="linearized $g$", color=c1, marker="s")
    b.set(ylabel="test loss")
    plotting.width_axis(b, w)
    a.legend()
    b.legend()
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_generalization(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(3, height=2.2)
    a, b, g = axes[0]
    w = data["widths"]
    c = plotting.colors(5)
    _mean_band(a, w, data["net_test_loss"], label="network", color=c[0])
    _mean_band(a, w, data["centred_test_loss"], label="centred network", color=c[3], marker="v")
    _mean_band(a, w, data["lin_test_loss"], label="linearized", color=c[1], marker="s")
    a.axhline(data["ntk_test_loss"][0], color=c[2], ls="--", label="NTK Gaussian (expected)")
    a.axhline(data["ntk_test_loss"][1], color=c[3], ls="-.", label="NTK mean")
    a.axhline(data["nngp_test_loss"][0], color=c[4], ls=":", label="NNGP")
    a.set(ylabel="test loss at $T$")
    plotting.width_axis(a, w)
    _mean_band(b, w, data["net_accuracy"], label="network", color=c[0])
    _mean_band(b, w, data["centred_accuracy"], label="centred network", color=c[3], marker="v")
    _mean_band(b, w, data["lin_accuracy"], label="linearized", color=c[1], marker="s")
    b.plot(w, data["net_ensemble_accuracy"], "^-", color=c[4], label="ensemble of the seeds")
    b.axhline(data["ntk_accuracy"][0], color=c[2], ls="--", label="NTK mean")
    b.set(ylabel="test accuracy")
    plotting.width_axis(b, w)
    # signed gaps to the NTK prediction, mean and 90% bootstrap interval over seeds
    for i, (key, label) in enumerate((("gap_standard", "network"),
                                      ("gap_centred", "centred"),
                                      ("gap_ensemble", "ensemble"))):  # fmt: skip
        mid, lo, hi = data[key].T
        shift = w * (1 + 0.04 * (i - 1))  # side by side, not on top of each other
        g.errorbar(shift, mid, yerr=[mid - lo, hi - mid], marker="os^"[i], color=c[[0, 3, 4][i]],
                   capsize=2, label=label)  # fmt: skip
    g.axhline(0, color="k", lw=0.8)
    g.set(ylabel="test loss $-$ NTK prediction")
    plotting.width_axis(g, w)
    for ax in (a, b, g):
        plotting.legend_below(ax, ncol=1)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
