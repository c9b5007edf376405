"""Figures of the learning-curve study (E12), drawn from the data files its analysis wrote."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ntkpaper import plotting
from ntkpaper.fits import loglog_slope


def plot_curves(data: Mapping[str, np.ndarray], path) -> None:
    has_nets = "net_rest" in data
    fig, axes = plotting.figure(3 if has_nets else 2, height=2.5)
    a, b = axes[0][:2]
    p = data["sizes"]
    c = plotting.colors(8)
    for name, color, label in (("ridge0", c[0], r"$\lambda = 0$"),
                               ("ridge", c[1], r"$\lambda > 0$")):  # fmt: skip
        mean = data[f"rest_{name}_mean"]
        spread = [mean - data[f"rest_{name}_min"], data[f"rest_{name}_max"] - mean]
        a.errorbar(p, mean, yerr=spread, fmt="o", ms=2.5, color=color, elinewidth=0.6,
                   label=f"NTK regr., {label}")  # fmt: skip
        a.plot(p, data[f"theory_rest_{name}"], "-" if name == "ridge0" else "--", color=color,
               lw=1, label=f"theory, {label}")  # fmt: skip
        whole = data[f"whole_{name}_mean"]
        se = data[f"whole_{name}_std"] / np.sqrt(max(len(whole), 1))
        b.errorbar(p, data[f"theory_{name}"] / whole, yerr=data[f"theory_{name}"] * se / whole**2,
                   fmt="o-", ms=2.5, lw=0.8, color=color, label=label)  # fmt: skip
    lo, hi, exponent = data["fit"]
    sel = (p >= lo) & (p <= hi)
    if sel.sum() >= 2:
        ref = data["rest_ridge0_mean"][sel]
        mid = np.sqrt(lo * hi)
        y_mid = np.exp(np.interp(np.log(mid), np.log(p[sel]), np.log(ref)))
        ps = p[sel]
        a.plot(ps, 0.6 * y_mid * (ps / mid) ** -exponent, "k:", lw=1,
               label=f"$P^{{-{exponent:.2f}}}$ (spectrum)")  # fmt: skip
    if has_nets:
        widths, net = data["widths"], data["net_rest"]  # net: (P_n, W, S)
        shift = np.geomspace(0.9, 1.1, len(widths))
        for j, (w, col) in enumerate(zip(widths, plotting.colors(len(widths) + 3)[3:],
                                         strict=True)):  # fmt: skip
            mean = net[:, j].mean(1)
            a.errorbar(data["net_sizes"] * shift[j], mean,
                       yerr=[mean - net[:, j].min(1), net[:, j].max(1) - mean], fmt="s", ms=2.8,
                       color=col, elinewidth=0.7, label=f"net, $n={int(w)}$")  # fmt: skip
        a.plot(data["net_sizes"], data["kernel_T_rest"], "kx", ms=4, label="kernel, $t=T$")
    a.set(xscale="log", yscale="log", xlabel="training points $P$",
          ylabel="test error on the other $N-P$")  # fmt: skip
    b.axhline(1.0, color="k", lw=0.7)
    b.set(xscale="log", xlabel="training points $P$",
          ylabel=r"theory $E_g$ / measured (population)")  # fmt: skip
    plotting.legend_below(a, ncol=2)
    plotting.legend_below(b, ncol=1)
    if has_nets:
        g = axes[0][2]
        w = data["widths"]
        for gap, label, marker in ((data["net_gap"], "test-error gap", "o"),
                                   (data["net_dist"], "RMS distance", "s")):  # fmt: skip
            mean = gap.mean(1)
            slope, _ = loglog_slope(w, mean)
            g.errorbar(w, mean, yerr=[mean - gap.min(1), gap.max(1) - mean], fmt=f"{marker}-", ms=3,
                       label=f"{label} (slope {slope:.2f})")  # fmt: skip
        g.set(yscale="log", ylabel="net vs kernel at $t=T$ (relative)")
        plotting.width_axis(g, w)
        plotting.legend_below(g, ncol=1)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_modes(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(2, height=2.4, width=0.9)
    a, b = axes[0]
    c = plotting.colors(4)
    centres, binned = data["bin_centres"], data["binned"]
    p = int(data["p"])
    a.plot(data["index"], np.maximum(data["measured"], 1e-30), ".", ms=1, color=c[1], alpha=0.3)
    a.plot(centres, binned[1], "o", ms=3, color=c[1], label="measured (mean per mode, binned)")
    a.plot(centres, binned[0], "-", color=c[0], label=r"theory $E_\rho$")
    a.plot(centres, binned[2], ":", color="0.3", label=r"target power $c_\rho^2$")
    a.axvline(p, color="k", lw=0.6, ls="--")
    a.annotate(f"$\\rho = P = {p}$", (p, 0.9), xycoords=("data", "axes fraction"),
               xytext=(3, 0), textcoords="offset points", fontsize=6)  # fmt: skip
    finite = binned[:2][binned[:2] > 0]
    a.set(xscale="log", yscale="log", xlabel=r"mode $\rho$ (eigenvalue order)",
          ylabel="error per mode", ylim=(finite.min() / 30, None))  # fmt: skip
    b.plot(data["index"], data["cum_measured"], color=c[1], label="measured")
    b.plot(data["index"], data["cum_theory"], "--", color=c[0], label="theory")
    b.plot(data["index"], data["learnability"], ":", color=c[2], label=r"learnability $L_\rho$")
    b.axvline(p, color="k", lw=0.6, ls="--")
    b.set(xscale="log", xlabel=r"mode $\rho$", ylabel=r"fraction of $E_g$ in modes $\leq \rho$",
          ylim=(0, 1.02))  # fmt: skip
    plotting.legend_below(a, ncol=1)
    plotting.legend_below(b, ncol=2)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
