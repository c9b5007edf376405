"""Figures of the lr_limit study (E9, learning-rate phases), drawn from its analysis' data."""

from __future__ import annotations

import matplotlib
import matplotlib.ticker
import numpy as np

from ntkpaper.figures import plotting
from ntkpaper.studies.lr_limit.figure_data import Boundaries, LrPhases, LrTopMode, LrTrajectories

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


def _boundaries(ax, boundaries: Boundaries) -> list:
    """Shaded brackets of the measured boundaries (linearized model, network)."""
    handles = []
    for interval, color, label in (
        (boundaries.lin, "0.4", r"linear model's boundary (measured)"),
        (boundaries.net, plotting.colors(2)[1], r"network's $\eta_{\max}$ (measured)"),
    ):
        lo, hi = interval.lo, interval.hi
        if np.isfinite(lo) and np.isfinite(hi):
            handles.append(ax.axvspan(lo, hi, color=color, alpha=0.18, lw=0, label=label))
    handles.append(ax.axvline(1.0, color="k", ls="--", lw=0.8, label=r"$\eta_{\mathrm{crit}}$"))
    return handles


def _median_band(ax, ratios, values, **style):
    """The median over seeds (columns) as a line with markers, the seeds' range as a band."""
    ax.fill_between(
        ratios,
        np.nanmin(values, axis=1),
        np.nanmax(values, axis=1),
        color=style["color"],
        alpha=0.15,
        lw=0,
    )
    ax.plot(ratios, np.nanmedian(values, axis=1), **style)


def _lazy_widths(ax, data: LrPhases, color) -> None:
    """The largest relative change of λ_max below η_crit against width: the seeds' mean and
    range, and the rate rule's fit when there are three widths or more."""
    widths, change = data.lazy_widths, data.lazy_change
    plotting.mean_band(
        ax, widths, change, label=r"network, $\eta < \eta_{\mathrm{crit}}$", color=color
    )
    fit = data.lazy_fit
    if fit.size:
        slope, lo, hi = data.lazy_rate.value, data.lazy_rate.lo, data.lazy_rate.hi
        ax.plot(
            fit[0],
            fit[1],
            color="k",
            lw=0.8,
            ls="--",
            label=f"fit: exponent {slope:.2f} [{lo:.2f}, {hi:.2f}]",
        )
    ax.set(yscale="log", ylabel=r"$|\Delta\lambda_{\max}| / \lambda_{\max}(\Theta_0)$")
    plotting.width_axis(ax, widths)
    plotting.legend_below(ax, ncol=1)


def plot_lr_phases(data: LrPhases, path) -> None:
    fig, axes = plotting.figure(3, height=2.3)
    a, b, c = axes[0]
    r = data.ratios
    c_net, c_div = plotting.colors(2)
    c_lin = "0.35"
    diverged = data.phase == 2
    with np.errstate(invalid="ignore"):
        net_final = np.where(diverged, np.nan, data.net_final_loss)
        lin_final = data.lin_final_loss
        lin_final = np.where(np.isfinite(lin_final) & (lin_final <= 1), lin_final, np.nan)
        # The linearized model where most seeds converged: open squares, no line.
        lin_median = np.nanmedian(lin_final, axis=1)
    _median_band(a, r, net_final, color=c_net, marker="o", label="network (converged)")
    a.plot(r, lin_median, "s", color=c_lin, mfc="none", ms=6, label="linearized (converged)")
    some = diverged.any(axis=1)
    if some.any():
        top = a.get_xaxis_transform()  # x in data, y in axes coordinates
        a.plot(
            r[some],
            np.full(some.sum(), 0.93),
            "x",
            color=c_div,
            ls="none",
            transform=top,
            label="network diverged (some seeds)",
        )
    a.set(yscale="log", ylabel=r"final loss $L_T / L_0$")
    a.set_ylim(top=np.nanmax(np.concatenate([net_final.ravel(), lin_median])) * 30)
    b.plot(r, 1 / r, color="k", ls=":", lw=1.0, label=r"$2m/(\eta\lambda_0)$: stable limit")
    _median_band(b, r, data.lam_ratio, color=c_net, marker="o", label="network")
    b.set(yscale="log", ylabel=r"$\lambda_{\max}(\Theta_T) / \lambda_{\max}(\Theta_0)$")
    for ax in (a, b):
        own = ax.get_legend_handles_labels()[0]  # the panel's data series
        _boundaries(ax, data.boundaries)
        _ratio_axis(ax, r)
        # The boundaries are shaded in both panels and named once, under (b).
        plotting.legend_below(ax, ncol=1, handles=None if ax is b else own)
    _lazy_widths(c, data, c_net)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def _shown_ratios(phase: np.ndarray, majority: np.ndarray, index: int) -> np.ndarray:
    """The ratios a phase's panel shows: those where every seed is in the phase (else those
    where most are), at most three (the smallest, middle and largest) so no curve hides
    another; the phase diagram shows every ratio."""
    members = np.flatnonzero(np.all(phase == index, axis=1))
    if not members.size:
        members = np.flatnonzero(majority == index)
    if members.size:
        members = members[np.unique(np.linspace(0, members.size - 1, 3).round().astype(int))]
    return members


def _curves(ax, steps, curves, members, ratios, palette) -> None:
    """Median curves over steps, one per shown ratio; a cross where the median run blew up."""
    for i in members:
        ax.plot(
            steps,
            curves[i],
            color=palette[i],
            marker="o",
            ms=2.5,
            markevery=[0],
            label=f"{ratios[i]:.2g}",
        )
        alive = np.flatnonzero(np.isfinite(curves[i]))
        if alive.size and alive[-1] < len(steps) - 1:
            ax.plot(steps[alive[-1]], curves[i, alive[-1]], "x", color=palette[i], ms=5)
    ax.axhline(1.0, color="k", lw=0.6, ls=":")
    plotting.time_axis(ax)
    ax.set_xlim(right=steps[-1])


def _empty(ax) -> None:
    ax.text(0.5, 0.5, "no ratio\nin this phase", transform=ax.transAxes, ha="center", va="center")
    ax.set_yticks([])


def plot_lr_top_mode(data: LrTopMode, path) -> None:
    """(a) How far the top mode grew, and how far the loss rose, against the rate; (b) the
    catapult phase's top mode |c_t|/|c_0| against the linearized model's |1 − 2r|^t."""
    fig, axes = plotting.figure(2, height=2.3)
    a, b = axes[0]
    r = data.ratios
    c_net = plotting.colors(1)[0]
    diverged = data.phase == 2
    _median_band(
        a,
        r,
        np.where(diverged, np.nan, data.top_growth),
        color=c_net,
        marker="o",
        label=r"top mode $\max_{t\geq1}|c_t|/|c_0|$",
    )
    _median_band(
        a,
        r,
        np.where(diverged, np.nan, data.rise),
        color="0.35",
        marker="^",
        label=r"loss $\max_{t\geq1} L_t/L_0$",
    )
    a.plot(
        r,
        np.abs(1 - 2 * r),
        color="k",
        ls=":",
        lw=1.0,
        label=r"linearized, one step: $|1 - 2\eta/\eta_{\mathrm{crit}}|$",
    )
    a.axhline(1.0, color="k", lw=0.6)
    a.set(yscale="log", ylabel="peak / start")
    _boundaries(a, data.boundaries)
    _ratio_axis(a, r)
    a.set_ylim(top=np.nanmax(np.where(diverged, np.nan, data.top_growth)) * 5)
    plotting.legend_below(a, ncol=2)
    steps = np.arange(data.top.shape[1])
    palette = plotting.sequential(len(r))
    members = _shown_ratios(data.phase, data.majority_phase, 1)
    if members.size:
        _curves(b, steps, data.top, members, r, palette)
        shown = data.top[members]
        shown = shown[np.isfinite(shown) & (shown > 0)]
        ceiling = shown.max() * 3
        linear = r"linearized: $|1 - 2\eta/\eta_{\mathrm{crit}}|^t$"
        for i in members:  # the linearized model's growth from t = 1, inside the panel
            factor = abs(1 - 2 * r[i])
            t = np.arange(1, int(np.ceil(np.log(ceiling) / np.log(factor))) + 1)
            t = t[factor**t <= ceiling]
            if t.size:
                b.plot(
                    t, factor**t, "o", color=palette[i], mfc="white", ms=3.5, zorder=3, label=linear
                )
                linear = None  # named once
        b.set(yscale="log", ylim=(shown.min() / 2, ceiling))
        plotting.legend_below(b, ncol=2, title=RATIO_LABEL + " (catapult phase)")
    else:
        _empty(b)
    b.set_ylabel(r"top mode $|c_t| / |c_0|$")
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_lr_trajectories(data: LrTrajectories, path) -> None:
    names = [str(n) for n in data.phase_names]
    shown = ("lazy", "catapult", "diverged")
    fig, axes = plotting.figure(len(shown), height=2.3)
    r, loss = data.ratios, data.loss
    palette = plotting.sequential(len(r))
    steps = np.arange(loss.shape[1])
    for ax, phase in zip(axes[0], shown, strict=True):
        members = _shown_ratios(data.phase, data.majority_phase, names.index(phase))
        ax.set_title(PHASE_TITLES[phase], loc="right")
        if members.size:
            _curves(ax, steps, loss, members, r, palette)
            ax.set(yscale="log", ylabel=r"$L_t / L_0$")
            plotting.legend_below(ax, ncol=3, title=RATIO_LABEL)
        else:
            _empty(ax)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
