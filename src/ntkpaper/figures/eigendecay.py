"""Figures of the eigendecay study, drawn from the data files its analysis wrote."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ntkpaper import plotting


def plot_spectrum(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(3, height=2.3)
    a, b, p = axes[0]
    c = plotting.colors(8)
    lam = data["digits_values"]
    idx = np.arange(1, lam.size + 1)
    pos = lam > 0
    a.plot(idx[pos], lam[pos], ".", ms=2, color=c[0], label=r"digits, eigenvalues of $\Theta/n$")
    slope, pref, lo, hi = data["digits_fit"]
    ks = np.arange(int(lo), int(hi) + 1)
    a.plot(ks, pref * ks**slope, "k--", lw=1, label=f"fit $k^{{{slope:.2f}}}$")
    a.set(xscale="log", yscale="log", xlabel="index $k$", ylabel="eigenvalue")
    freqs, mu = data["circle_freqs"], data["circle_mu"]
    for parity, marker, color in ((0, "o", c[1]), (1, "s", c[2])):
        sel = (freqs >= 1) & (freqs % 2 == parity) & (mu > 0)
        b.plot(freqs[sel], mu[sel], marker, ms=2.2, color=color, ls="none",
               label=f"circle, {'even' if parity == 0 else 'odd'} $k$")  # fmt: skip
    sampled = data["circle_sampled_mu"]
    sel = (freqs >= 1) & (sampled > 0)
    b.plot(freqs[sel], sampled[sel], "-", lw=0.6, color="0.5", label="$N$-point matrix")
    slope, pref, lo, hi = data["circle_fit"]
    ks = np.arange(int(lo), int(hi) + 1)
    if np.isfinite(slope):
        b.plot(ks, pref * ks**slope, "k--", lw=1, label=f"fit $k^{{{slope:.2f}}}$")
        mid = np.sqrt(lo * hi)
        theory = float(data["theory_exponent"])
        # the theory's slope, drawn 3x above the fit so the two stay distinguishable
        ref = 3 * pref * mid**slope * (ks / mid) ** theory
        b.plot(ks, ref, ":", color=c[3], lw=1.2, label=f"theory $\\propto k^{{{theory:g}}}$")
    b.set(xscale="log", yscale="log", xlabel="frequency $k$",
          ylabel=r"$\mu_k$ (eigenvalue of $\Theta/N$)")  # fmt: skip
    floor = 1e-3
    for i, (label, ratio) in enumerate(zip(data["parity_labels"], data["parity_ratios"],
                                           strict=True)):  # fmt: skip
        p.plot(data["parity_k"], np.maximum(ratio, floor), "o-" if i == 0 else "-", ms=2,
               lw=1.4 if i == 0 else 0.9, color=c[[0, 1, 3, 4][i % 4]], label=label)  # fmt: skip
    p.set(xscale="log", yscale="log", ylim=(floor * 0.7, 2), xlabel="odd frequency $k$",
          ylabel="odd-to-even ratio")  # fmt: skip
    p.annotate(f"zero (< {floor:g})", (data["parity_k"][0], floor), xytext=(2, 4),
               textcoords="offset points", fontsize=6)  # fmt: skip
    a.legend(fontsize=6)
    b.legend(fontsize=6)
    p.legend(fontsize=5.5, loc="center right")
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_pc2_decay(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(2, height=2.3, width=0.85)
    a, b = axes[0]
    t = data["times"]
    widths = data["widths"]
    for color, w, along, orth in zip(plotting.colors(len(widths)), widths, data["along"],
                                     data["orth"], strict=True):  # fmt: skip
        mag = np.abs(along)
        a.plot(t, np.nanmean(mag, 0), color=color, label=f"$n = {w}$")
        a.fill_between(t, np.nanmin(mag, 0), np.nanmax(mag, 0), color=color, alpha=0.2, lw=0)
        b.plot(t[1:], np.nanmean(orth, 0)[1:], color=color, label=f"$n = {w}$")
        b.fill_between(t[1:], np.nanmin(orth, 0)[1:], np.nanmax(orth, 0)[1:], color=color,
                       alpha=0.2, lw=0)  # fmt: skip
    a.plot(t, np.abs(data["theory_along"]), "k--", lw=1, label=r"theory $0.5(1-\eta\lambda_2/m)^t$")
    a.set(yscale="log", xlabel="step $t$", ylabel=r"$|\langle f_t - f^*, f^{(2)}\rangle| / n$")
    b.set(xscale="log", yscale="log", xlabel="step $t$",
          ylabel=r"RMS of $f_t - f^*$ orthogonal to $f^{(2)}$")  # fmt: skip
    a.legend(fontsize=6)
    b.legend(fontsize=6)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_mode_rates(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(2, height=2.3, width=0.85)
    a, b = axes[0]
    t = data["times"]
    n_modes = data["predicted"].size
    cols = plotting.colors(n_modes)
    for k in range(n_modes):
        a.plot(t, np.nanmean(data["norms"][:, :, k], 0), color=cols[k], label=f"$k = {k + 1}$")
        a.plot(t, data["theory"][:, k], "--", color=cols[k], lw=0.8)
    a.set(yscale="log", xlabel="step $t$", ylabel=r"$\|c_k(t)\| / \|c_k(0)\|$",
          ylim=(1e-3, 1.5))  # fmt: skip
    pred = data["predicted"]
    for k in range(n_modes):
        b.plot(np.full(data["measured"].shape[0], pred[k]), data["measured"][:, k], "o",
               color=cols[k])  # fmt: skip
    lims = np.array([pred.min() * 0.7, pred.max() * 1.4])
    b.plot(lims, lims, "k:", lw=0.8, label="measured = predicted")
    b.set(xscale="log", yscale="log", xlabel=r"predicted rate $-\ln(1-\eta\lambda_k/m)$",
          ylabel="measured rate (per seed)")  # fmt: skip
    a.legend(fontsize=6, ncol=2)
    b.legend(fontsize=6)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
