"""Figures of the lr_limit study (E9, learning-rate phases), drawn from its analysis' data."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib
import matplotlib.ticker
import numpy as np

from ntkpaper import plotting

PHASE_TITLES = {
    "lazy": r"lazy ($\eta < \eta_{\mathrm{crit}}$)",
    "catapult": r"catapult ($\eta > \eta_{\mathrm{crit}}$)",
    "diverged": "divergent",
}
RATIO_LABEL = r"$\eta / \eta_{\mathrm{crit}}$"


def _ratio_axis(ax, ratios) -> None:
    # Ticks at powers of two (what the boundaries are compared with), labelled 0.5, 1, 2, …
    lo, hi = float(np.min(ratios)), float(np.max(ratios))
    ticks = [2.0**k for k in range(int(np.floor(np.log2(lo))), int(np.ceil(np.log2(hi))) + 1)]
    ax.set_xscale("log")
    ax.set_xlim(lo / 1.15, hi * 1.15)
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel(RATIO_LABEL)


def _boundaries(ax, data) -> list:
    """Shaded brackets of the measured boundaries (linearized model, network)."""
    handles = []
    for key, color, label in (
        ("lin_boundary", "0.4", r"linear model's boundary (measured)"),
        ("eta_max", plotting.colors(2)[1], r"network's $\eta_{\max}$ (measured)"),
    ):
        _, lo, hi = data[key]
        if np.isfinite(lo) and np.isfinite(hi):
            handles.append(ax.axvspan(lo, hi, color=color, alpha=0.18, lw=0, label=label))
    handles.append(ax.axvline(1.0, color="k", ls="--", lw=0.8, label=r"$\eta_{\mathrm{crit}}$"))
    return handles


def _median_band(ax, ratios, values, **style):
    """The median over seeds (columns) as a line with markers, the seeds' range as a band."""
    ax.fill_between(ratios, np.nanmin(values, axis=1), np.nanmax(values, axis=1),
                    color=style["color"], alpha=0.15, lw=0)  # fmt: skip
    ax.plot(ratios, np.nanmedian(values, axis=1), **style)


def plot_lr_phases(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(3, height=2.3)
    a, b, c = axes[0]
    r = data["ratios"]
    c_net, c_div = plotting.colors(2)
    c_lin = "0.35"
    diverged = data["phase"] == 2
    with np.errstate(invalid="ignore"):
        net_final = np.where(diverged, np.nan, data["net_final_loss"])
        lin_final = data["lin_final_loss"]
        lin_final = np.where(np.isfinite(lin_final) & (lin_final <= 1), lin_final, np.nan)
        # The linearized model where most seeds converged: open squares, no line.
        lin_median = np.nanmedian(lin_final, axis=1)
    _median_band(a, r, net_final, color=c_net, marker="o", label="network (converged)")
    a.plot(r, lin_median, "s", color=c_lin, mfc="none", ms=6, label="linearized (converged)")
    some = diverged.any(axis=1)
    if some.any():
        top = a.get_xaxis_transform()  # x in data, y in axes coordinates
        a.plot(r[some], np.full(some.sum(), 0.93), "x", color=c_div, ls="none", transform=top,
               label="network diverged (some seeds)")  # fmt: skip
    a.set(yscale="log", ylabel=r"final loss $L_T / L_0$")
    a.set_ylim(top=np.nanmax(np.concatenate([net_final.ravel(), lin_median])) * 30)
    b.plot(r, 1 / r, color="k", ls=":", lw=1.0, label=r"$2m/(\eta\lambda_0)$: stable limit")
    _median_band(b, r, data["lam_ratio"], color=c_net, marker="o", label="network")
    b.set(yscale="log", ylabel=r"$\lambda_{\max}(\Theta_T) / \lambda_{\max}(\Theta_0)$")
    _median_band(c, r, np.where(diverged, np.nan, data["rise"]), color=c_net, marker="o",
                 label="network (not diverged)")  # fmt: skip
    c.set(yscale="log", ylabel=r"peak loss $\max_t L_t / L_0$")
    for ax in (a, b, c):
        own = ax.get_legend_handles_labels()[0]  # the panel's data series
        _boundaries(ax, data)
        _ratio_axis(ax, r)
        # The boundaries are shaded in every panel and named once, under (c).
        plotting.legend_below(ax, ncol=1, handles=None if ax is c else own)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_lr_trajectories(data: Mapping[str, np.ndarray], path) -> None:
    names = [str(n) for n in data["phase_names"]]
    shown = ("lazy", "catapult", "diverged")
    fig, axes = plotting.figure(len(shown), height=2.3)
    r, loss, majority = data["ratios"], data["loss"], data["majority_phase"]
    palette = plotting.sequential(len(r))
    steps = np.arange(loss.shape[1])
    for ax, phase in zip(axes[0], shown, strict=True):
        members = np.flatnonzero(majority == names.index(phase))
        # At most three ratios per phase (its smallest, middle and largest), so that no curve
        # hides another; the phase diagram shows every ratio.
        if members.size:
            members = members[np.unique(np.linspace(0, members.size - 1, 3).round().astype(int))]
        for i in members:
            ax.plot(steps, loss[i], color=palette[i], marker="o", ms=2.5, markevery=[0],
                    label=f"{r[i]:.2g}")  # fmt: skip
        ax.set(yscale="log", ylabel=r"$L_t / L_0$")
        ax.set_title(PHASE_TITLES[phase], loc="right")
        plotting.time_axis(ax)
        ax.set_xlim(right=steps[-1])
        if members.size:
            ax.axhline(1.0, color="k", lw=0.6, ls=":")
            plotting.legend_below(ax, ncol=3, title=RATIO_LABEL)
        else:
            ax.text(0.5, 0.5, "no ratio in this phase", transform=ax.transAxes, ha="center")
            ax.set_yscale("linear")
    plotting.panel_labels(axes)
    plotting.save(fig, path)
