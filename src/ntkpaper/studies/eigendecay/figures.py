"""Figures of the eigendecay study, drawn from the data files its analysis wrote."""

from __future__ import annotations

import re

import matplotlib.lines
import numpy as np

from ntkpaper.figures import plotting
from ntkpaper.studies.eigendecay.figure_data import (
    ModeRates,
    Pc2Decay,
    Pc2Kernel,
    PowerLaw,
    Spectrum,
)


def _variant_style(label: str, depths: list[int]) -> dict:
    """Colour for the depth (sequential), filled markers and solid lines with bias, open
    markers and dashed lines without."""
    depth = int(re.search(r"L=(\d+)", label).group(1))
    no_bias = re.search(r"\\beta=0\$", label) is not None
    color = plotting.sequential(len(depths))[depths.index(depth)]
    marker = plotting.MARKERS[depths.index(depth) % len(plotting.MARKERS)]
    return {
        "color": color,
        "marker": marker,
        "ls": "--" if no_bias else "-",
        "mfc": "white" if no_bias else color,
        "ms": 3.2,
        "lw": 1.0,
    }


def _power_law(fit: PowerLaw) -> tuple[float, float, int, int]:
    return fit.exponent, fit.prefactor, fit.lo, fit.hi


def plot_spectrum(data: Spectrum, path) -> None:
    """E7a's spectrum figure. Over 80 lines by design: three panels drawn from one data file share
    its fits, reference lines and legend styles."""
    fig, axes = plotting.figure(3, height=2.7)
    a, b, p = axes[0]
    lam = data.digits_values
    idx = np.arange(1, lam.size + 1)
    idx, lam = plotting.positive(idx, lam)
    a.plot(idx, lam, "o", ms=1.6, color="0.45", label=r"eigenvalues of $\Theta/N$ (digits)")
    slope, pref, lo, hi = _power_law(data.digits_fit)
    ks = np.arange(int(lo), int(hi) + 1)
    a.plot(
        ks,
        2.5 * pref * ks**slope,
        "k--",
        lw=1,
        label=f"fit $\\propto k^{{{slope:.2f}}}$ (drawn $2.5\\times$ above)",
    )
    a.set(xscale="log", yscale="log", xlabel="index $k$", ylabel="eigenvalue")
    # Parity is panel (c)'s subject: here every frequency is one series, and the N-point
    # matrix, which equals it until aliasing sets in, is drawn thin on top.
    freqs, mu = data.circle_freqs, data.circle_mu
    sel = (freqs >= 1) & (mu > 0)
    b.plot(
        freqs[sel],
        mu[sel],
        "o",
        ms=3,
        color="0.2",
        mfc="white",
        mew=0.7,
        ls="none",
        markevery=plotting.log_marks(int(sel.sum())),
        label=r"$\mu_k$, kernel on the whole circle",
    )
    sampled = data.circle_sampled_mu
    sel = (freqs >= 1) & (sampled > 0)
    b.plot(
        freqs[sel], sampled[sel], "-", lw=0.8, color="0.5", zorder=3, label="$N$-point Gram matrix"
    )
    slope, pref, lo, hi = _power_law(data.circle_fit)
    ks = np.arange(int(lo), int(hi) + 1)
    if np.isfinite(slope):
        b.plot(
            ks,
            pref * ks**slope / 3,
            "k--",
            lw=1,
            label=f"fit $\\propto k^{{{slope:.2f}}}$ (drawn $3\\times$ below)",
        )
        mid = np.sqrt(lo * hi)
        theory = data.theory_exponent
        ref = 3 * pref * mid**slope * (ks / mid) ** theory
        b.plot(
            ks,
            ref,
            "k:",
            lw=1.2,
            label=f"theory $\\propto k^{{{theory:g}}}$ (drawn $3\\times$ above)",
        )
    b.set(
        xscale="log",
        yscale="log",
        xlabel="frequency $k$",
        ylabel=r"$\mu_k$ (eigenvalue of $\Theta/N$)",
    )
    labels = [str(s) for s in data.parity_labels]
    depths = sorted({int(re.search(r"L=(\d+)", s).group(1)) for s in labels})
    for label, ratio in zip(labels, data.parity_ratios, strict=True):
        p.plot(
            data.parity_k,
            np.where(np.abs(ratio) < 1e-9, 0.0, ratio),
            label=label,
            markevery=plotting.log_marks(len(data.parity_k), 10),
            **_variant_style(label, depths),
        )
    p.set(
        xscale="log",
        ylim=(-0.05, 1.1),
        xlabel="odd frequency $k$",
        ylabel=r"$\mu_k / \sqrt{\mu_{k-1}\mu_{k+1}}$",
    )
    for ax in (a, b, p):
        plotting.legend_below(ax, ncol=1, gap_pt=28)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_pc2_decay(data: Pc2Decay, path) -> None:
    fig, axes = plotting.figure(2, height=2.6, width=0.85)
    a, b = axes[0]
    t = data.times
    widths = data.widths
    cols = plotting.sequential(len(widths))
    every = max(len(t) // 6, 1)
    for i, (color, marker, w, along, orth) in enumerate(
        zip(cols, plotting.MARKERS, widths, data.along, data.orth, strict=False)
    ):
        mag = np.abs(along)
        # Markers only, staggered by width (the band shows the curve): where every width
        # follows the theory line, each still shows.
        marks = (i * every // len(widths), every)
        a.plot(
            t,
            np.nanmean(mag, 0),
            color=color,
            marker=marker,
            ms=3.5,
            markevery=marks,
            ls="none",
            label=f"$n = {w}$",
        )
        a.fill_between(t, np.nanmin(mag, 0), np.nanmax(mag, 0), color=color, alpha=0.2, lw=0)
        x, mean, lo, hi = plotting.positive(
            t, np.nanmean(orth, 0), np.nanmin(orth, 0), np.nanmax(orth, 0)
        )
        x, mean, lo, hi = x[x >= 1], mean[x >= 1], lo[x >= 1], hi[x >= 1]
        b.plot(x, mean, color=color, marker=marker, ms=3, markevery=marks, label=f"$n = {w}$")
        b.fill_between(x, lo, hi, color=color, alpha=0.2, lw=0)
    a.plot(t, np.abs(data.theory_along), "k--", lw=1, label=r"theory $0.5(1-\eta\lambda_2/m)^t$")
    a.set(yscale="log", xlabel="step $t$", ylabel=r"$|\langle f_t - f^*, f^{(2)}\rangle| / N$")
    b.set(
        xscale="log", yscale="log", xlabel="step $t$", ylabel=r"RMS of $f_t - f^*$ $\perp f^{(2)}$"
    )
    plotting.legend_below(a, ncol=2, gap_pt=28)
    plotting.legend_below(b, ncol=2, gap_pt=28)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_pc2_kernel(data: Pc2Kernel, path) -> None:
    """Why the nets of E7b fall short of their own linearizations. (a) The kernel along
    f^(2), R_t/R_0, mean over seeds per width, against the time η·t in steps of the full
    rate; the slow repeat as open markers (a kernel that moves by time puts both on one
    curve). (b) Per width, network/own-linearization rate at both rates, what the measured
    kernel path predicts, and flow/GD (where nets that followed the flow rate would sit).

    Over 80 lines by design: the two panels share the per-width colours, the two learning
    rates' markers and one legend."""
    fig, axes = plotting.figure(2, height=2.6, width=0.85)
    a, b = axes[0]
    t, widths, frac = data.times, data.widths, data.slow_lr_fraction
    rate_text = (r"$\eta$", f"${frac:g}\\,\\eta$")
    cols = plotting.sequential(len(widths))
    every = max(len(t) // 6, 1)
    for i, (color, marker, w) in enumerate(zip(cols, plotting.MARKERS, widths, strict=False)):
        marks = (i * every // len(widths), every)
        full, slow = data.full.rayleigh_rel[i], data.slow.rayleigh_rel[i]
        a.plot(
            t,
            np.nanmean(full, 0),
            color=color,
            marker=marker,
            ms=3,
            markevery=marks,
            label=f"$n = {w}$",
        )
        # the slow repeat as open markers on top: where it follows the full rate's curve
        # (a kernel that moves by time), it lands on that line and still shows
        a.plot(
            frac * t,
            np.nanmean(slow, 0),
            color=color,
            marker=marker,
            mfc="white",
            ms=3,
            mew=0.7,
            ls="none",
            markevery=(2 * i % 5, 5),
            zorder=3,
        )
    a.axvline(data.window_end, color="0.5", ls=":", lw=0.8)
    a.set(
        xlabel=r"time $\eta t/\eta_{\mathrm{full}}$ (steps at the full rate)",
        ylabel=r"$u^\top\hat\Theta_t u \,/\, u^\top\hat\Theta_0 u$",
    )
    handles = [
        *a.get_legend_handles_labels()[0],
        matplotlib.lines.Line2D([], [], color="0.3", lw=1.1, label=rate_text[0]),
        matplotlib.lines.Line2D(
            [], [], color="0.3", marker="o", mfc="white", ls="none", label=rate_text[1]
        ),
        matplotlib.lines.Line2D([], [], color="0.5", ls=":", lw=0.8, label="end of the fit"),
    ]
    plotting.legend_below(a, ncol=3, handles=handles, gap_pt=28)
    # (b) one marker series per quantity, set apart along the width axis; filled: η, open:
    # the slow repeat. Grey lines: flow/GD rate at each rate, where nets that followed the
    # flow rate while their linearizations follow GD would sit.
    x = np.asarray(widths, np.float64)
    shift = 2.0 ** np.array([-0.21, -0.07, 0.07, 0.21])
    net_color, path_color = plotting.colors(2)
    per_rate = (data.full, data.slow)
    series = (
        ("network / own linearization", "o", net_color, [d.net_over_lin for d in per_rate]),
        ("kernel path", "D", path_color, [d.kernel_path for d in per_rate]),
    )
    for k, ((label, marker, color, intervals), rate) in enumerate(
        (s, r) for s in series for r in (0, 1)
    ):
        mean, lo, hi = intervals[rate].value, intervals[rate].lo, intervals[rate].hi
        b.errorbar(
            x * shift[k],
            mean,
            yerr=[mean - lo, hi - mean],
            fmt=marker,
            color=color,
            mfc=color if rate == 0 else "white",
            ms=4,
            capsize=2,
            lw=0.8,
            barsabove=True,
            label=f"{label}, {rate_text[rate]}",
        )
    for rate, ls in ((0, "-"), (1, "--")):
        b.axhline(per_rate[rate].flow_over_gd, color="0.5", ls=ls, lw=0.8)
    b.axhline(1.0, color="k", ls=":", lw=0.8)
    plotting.width_axis(b, widths)
    b.set(ylabel="rate ratio")
    b.margins(y=0.15)
    b_handles = [
        *b.get_legend_handles_labels()[0],
        matplotlib.lines.Line2D(
            [], [], color="0.5", lw=0.8, label=f"flow / GD rate, {rate_text[0]}"
        ),
        matplotlib.lines.Line2D(
            [], [], color="0.5", ls="--", lw=0.8, label=f"flow / GD rate, {rate_text[1]}"
        ),
    ]
    plotting.legend_below(b, ncol=1, handles=b_handles, gap_pt=28)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_mode_rates(data: ModeRates, path) -> None:
    fig, axes = plotting.figure(2, height=2.6, width=0.85)
    a, b = axes[0]
    t = data.times
    pred = data.predicted
    n_modes = pred.size
    cols = plotting.sequential(n_modes)
    every = max(len(t) // 7, 1)
    # Modes 2, 3, ... decay at similar rates: each is shifted down by a factor 10 from the
    # one before, so that no curve hides another.
    shift = 10.0 ** -np.arange(n_modes)
    for k in range(n_modes):
        a.plot(
            t,
            shift[k] * np.nanmean(data.norms[:, :, k], 0),
            color=cols[k],
            lw=1.1,
            label=f"$k = {k + 1}$",
        )
        # The theory down to a tenth of its start, where the next mode's curves begin: a fast
        # mode's markers would otherwise land on (and under) the slower modes' curves.
        theory = data.theory[:, k]
        x, y = plotting.positive(t, np.where(theory >= 0.1, shift[k] * theory, np.nan))
        a.plot(x, y, "o", color=cols[k], mfc="white", ms=3.2, mew=0.8, markevery=every, zorder=3)
    floor = 0.3 * shift[-1] * np.nanmin(np.nanmean(data.norms[:, :, -1], 0))
    a.set(
        yscale="log",
        xlabel="step $t$",
        ylim=(min(floor, 1e-3), 1.5),
        ylabel=r"$\|c_k(t)\| / \|c_k(0)\|$, times $10^{1-k}$",
    )
    ratio = data.measured / pred  # (seeds, modes)
    ks = np.arange(1, n_modes + 1)
    b.axhline(1.0, color="k", lw=0.8, ls=":")
    spread = np.linspace(-0.12, 0.12, ratio.shape[0]) if ratio.shape[0] > 1 else [0.0]
    for k in range(n_modes):
        b.plot(ks[k] + np.asarray(spread), ratio[:, k], "o", color=cols[k], ms=3.5, ls="none")
    b.set(
        xlabel="mode $k$", ylabel="measured / predicted rate", xticks=ks, xlim=(0.5, n_modes + 0.5)
    )
    b.margins(y=0.15)
    handles = [
        matplotlib.lines.Line2D([], [], color="0.3", lw=1.1, label="measured, mean over seeds"),
        matplotlib.lines.Line2D(
            [],
            [],
            color="0.3",
            marker="o",
            mfc="white",
            ls="none",
            label=r"theory $(1-\eta\lambda_k/m)^t$",
        ),
        *a.get_legend_handles_labels()[0],
    ]
    plotting.legend_below(a, ncol=3, handles=handles, gap_pt=28)
    b_handles = [
        matplotlib.lines.Line2D([], [], color="0.3", marker="o", ls="none", label="one seed"),
        matplotlib.lines.Line2D([], [], color="k", ls=":", label="equal rates"),
    ]
    plotting.legend_below(b, ncol=2, handles=b_handles, gap_pt=28)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
