"""Figures of the learning-curve study (E12), drawn from the data files its analysis wrote."""

from __future__ import annotations

import numpy as np

from ntkpaper.figures import plotting
from ntkpaper.studies.learning_curves.figure_data import Curves, Modes


def plot_curves(data: Curves, path) -> None:
    nets = data.nets
    fig, axes = plotting.figure(3 if nets is not None else 2, height=2.5)
    a, b = axes[0][:2]
    p = data.sizes
    c = plotting.colors(3)
    # (a) ridge 0 only: the small ridge changes the curve by well under its spread (see (b)).
    rest = data.rest
    a.fill_between(p, rest.lo, rest.hi, color=c[0], alpha=0.2, lw=0)
    a.plot(p, rest.mean, "o", color=c[0], label="NTK regression (mean of draws)")
    a.plot(p, rest.theory, "-", color=c[1], lw=1, label="theory")
    lo, hi, exponent = data.fit.lo, data.fit.hi, data.fit.exponent
    sel = (p >= lo) & (p <= hi)
    if sel.sum() >= 2:
        ps, ref = p[sel], rest.mean[sel]
        mid = np.sqrt(lo * hi)
        y_mid = np.exp(np.interp(np.log(mid), np.log(ps), np.log(ref)))
        a.plot(
            ps,
            0.5 * y_mid * (ps / mid) ** -exponent,
            ":",
            color="0.35",
            lw=1,
            label=rf"$\propto N^{{-{exponent:.2f}}}$ (spectrum)",
        )
    a.set(xscale="log", yscale="log", xlabel="training points $N$", ylabel="test error")
    # (b) side by side, never on top of each other: the two ridges differ by little.
    for i, (name, marker, label) in enumerate(
        (("ridge0", "o", r"$\xi = 0$"), ("ridge", "s", r"$\xi > 0$"))
    ):
        curve = data.ridges[name]
        whole = curve.whole_mean
        se = curve.whole_se
        ratio = curve.theory / whole
        b.errorbar(
            p * (0.93 if i == 0 else 1.07),
            ratio,
            yerr=ratio * se / whole,
            fmt=marker,
            ms=3,
            lw=0.8,
            capsize=2,
            color=c[i],
            label=label,
        )
    b.axhline(1.0, color="0.4", lw=0.6, zorder=0)
    b.set(xscale="log", xlabel="training points $N$", ylabel="theory / measured")
    plotting.legend_below(a, ncol=1)
    plotting.legend_below(b, ncol=2)
    if nets is not None:
        g = axes[0][2]
        w = nets.widths
        for gap, rate, label, color, marker in (
            (nets.gap, nets.gap_rate, "test-error gap", c[0], "o"),
            (nets.dist, nets.dist_rate, "RMS distance", c[2], "s"),
        ):
            plotting.mean_band(
                g, w, gap, color=color, marker=marker, label=plotting.rate_label(label, rate)
            )
        g.set(yscale="log", ylabel="net vs kernel (relative)")
        plotting.width_axis(g, w)
        plotting.legend_below(g, ncol=1)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_modes(data: Modes, path) -> None:
    fig, axes = plotting.figure(2, height=2.6, width=0.9)
    a, b = axes[0]
    c = plotting.colors(4)
    binned = data.binned
    centres = binned.centres
    p = data.size
    a.plot(data.index, np.maximum(data.measured, 1e-30), ".", ms=1, color=c[1], alpha=0.3)
    a.plot(
        centres, binned.measured, "o", ms=3, color=c[1], label="measured (mean per mode, binned)"
    )
    a.plot(centres, binned.theory, "-", color=c[0], label=r"theory $E_\rho$")
    a.plot(centres, binned.c2, ":", color="0.3", label=r"target power $c_\rho^2$")
    a.axvline(p, color="k", lw=0.6, ls="--", label=f"$\\rho = N = {p}$")
    drawn = np.concatenate([binned.theory, binned.measured])  # the two drawn series
    finite = drawn[drawn > 0]
    a.set(
        xscale="log",
        yscale="log",
        xlabel=r"mode $\rho$ (eigenvalue order)",
        ylabel="error per mode",
        ylim=(finite.min() / 30, None),
    )
    b.plot(data.index, data.cum_measured, color=c[1], label="measured")
    b.plot(data.index, data.cum_theory, "--", color=c[0], label="theory")
    b.plot(data.index, data.learnability, ":", color=c[2], label=r"learnability $L_\rho$")
    b.axvline(p, color="k", lw=0.6, ls="--")
    b.set(xscale="log", xlabel=r"mode $\rho$", ylabel=r"cumulative share of $E_g$", ylim=(0, 1.02))
    plotting.legend_below(a, ncol=1)
    plotting.legend_below(b, ncol=2)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
