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


def _sequential(n: int) -> list[str]:
    """Ordered colours (viridis, dark to light, short of its pale yellow end)."""
    cmap = matplotlib.colormaps["viridis"]
    return [matplotlib.colors.to_hex(cmap(x)) for x in np.linspace(0.0, 0.8, max(n, 1))]


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


def _per_seed(ax, ratios, values, *, color, marker, label):
    """Each seed as a faint point, the median over seeds as a line with markers."""
    seeds = values.shape[1]
    ax.plot(np.repeat(ratios, seeds), values.ravel(), marker, color=color, alpha=0.3, ms=2.2, ls="")
    ax.plot(ratios, np.nanmedian(values, axis=1), marker + "-", color=color, label=label)


def plot_lr_phases(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(3, height=2.3)
    a, b, c = axes[0]
    r = data["ratios"]
    c_net, c_lin = plotting.colors(2)[0], "0.35"
    diverged = data["phase"] == 2
    with np.errstate(invalid="ignore", divide="ignore"):
        net_final = np.where(diverged, np.nan, data["net_final_loss"])
        lin_final = data["lin_final_loss"]
        lin_final = np.where(np.isfinite(lin_final) & (lin_final <= 1), lin_final, np.nan)
    _per_seed(a, r, net_final, color=c_net, marker="o", label="network (converged)")
    _per_seed(a, r, lin_final, color=c_lin, marker="s", label="linearized (converged)")
    frac = diverged.mean(axis=1)
    top = a.get_xaxis_transform()
    a.plot(
        r[frac > 0],
        np.full((frac > 0).sum(), 0.95),
        "x",
        color=plotting.colors(2)[1],
        transform=top,
        label="network diverged (some seeds)",
    )
    a.set(yscale="log", ylabel=r"final loss $L_T / L_0$")
    _per_seed(b, r, data["lam_ratio"], color=c_net, marker="o", label="network")
    b.plot(r, 1 / r, color="k", ls=":", lw=1.0, label=r"$2m/(\eta\lambda_0)$, the stable limit")
    b.set(yscale="log", ylabel=r"$\lambda_{\max}(\Theta_T) / \lambda_{\max}(\Theta_0)$")
    _per_seed(c, r, np.where(diverged, np.nan, data["rise"]), color=c_net, marker="o",
              label="network (not diverged)")  # fmt: skip
    c.axhline(1.0, color="k", lw=0.8, ls=":")
    c.set(yscale="log", ylabel=r"peak loss $\max_t L_t / L_0$")
    for ax in (a, b, c):
        own = ax.get_legend_handles_labels()[0]  # the panel's data series
        _boundaries(ax, data)
        _ratio_axis(ax, r)
        # The boundaries are shaded in every panel and named once, under (c).
        plotting.legend_below(ax, ncol=1, handles=None if ax is c else own)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def _time_axis(ax) -> None:
    """Steps on a symlog axis (linear below 1), so that t = 0 is drawn where it is."""
    ax.set_xscale("symlog", linthresh=1.0, linscale=0.4)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_locator(
        matplotlib.ticker.SymmetricalLogLocator(linthresh=1.0, base=10, subs=range(2, 10))
    )
    ax.set_xlabel("step $t$")


def plot_lr_trajectories(data: Mapping[str, np.ndarray], path) -> None:
    names = [str(n) for n in data["phase_names"]]
    shown = ("lazy", "catapult", "diverged")
    fig, axes = plotting.figure(len(shown), height=2.3)
    r, loss, majority = data["ratios"], data["loss"], data["majority_phase"]
    palette = _sequential(len(r))
    steps = np.arange(loss.shape[1])
    for ax, phase in zip(axes[0], shown, strict=True):
        members = np.flatnonzero(majority == names.index(phase))
        for i in members:
            ax.plot(steps, loss[i], color=palette[i], marker="o", ms=2, markevery=[0],
                    label=f"{r[i]:.2g}")  # fmt: skip
        ax.axhline(1.0, color="k", lw=0.6, ls=":")
        ax.set(yscale="log", ylabel=r"$L_t / L_0$ (median over seeds)")
        ax.set_title(PHASE_TITLES[phase], loc="right")
        _time_axis(ax)
        ax.set_xlim(0, steps[-1])
        if members.size:
            plotting.legend_below(ax, ncol=3, title=RATIO_LABEL)
        else:
            ax.text(0.5, 0.5, "no ratio in this phase", transform=ax.transAxes, ha="center")
            ax.set_yscale("linear")
    plotting.panel_labels(axes)
    plotting.save(fig, path)
