"""Figures of the convolutional-NTK study (E13), drawn from the data files its analysis wrote.

Colour means the readout throughout (flatten blue, global average pooling orange, the fully
connected NTK grey); filled markers are kernels at t = ∞ on all training digits, open ones the
analytic CNTK after the T steps the trained CNNs took, on their (smaller) training set. Every
rate or ratio a legend prints is the number its claim reads, computed by the analysis (never
refitted here)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ntkpaper.figures import plotting

READOUTS = ("flatten", "pool")
LABELS = {"flatten": "flatten", "pool": "global avg. pool"}
COLOR = dict(zip(READOUTS, plotting.colors(2), strict=True))
MARKER = {"flatten": "o", "pool": "s"}
FC_COLOR = "0.45"


def _interval_text(data: Mapping[str, np.ndarray], name: str) -> str:
    """'−0.52 [−0.71, −0.33]' from the analysis's point and 90% interval; 'n/a' without."""
    point = float(data[name])
    if not np.isfinite(point):
        return "n/a"
    lo, hi = float(data[f"{name}_lo"]), float(data[f"{name}_hi"])
    return f"{point:.2f} [{lo:.2f}, {hi:.2f}]"


def plot_accuracy(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(3, height=2.4, width=1.0)
    ch = np.asarray(data["train_channels"], np.float64)
    trained = "pool" if bool(data["train_readout_is_pool"]) else "flatten"
    color = COLOR[trained]
    n_all, n_nets = int(data["n_train"]), int(data["train_n"])
    for ax, metric in zip(axes[0][:2], ("accuracy", "mse"), strict=True):
        plotting.mean_band(
            ax,
            ch,
            data[f"net_{metric}"],
            color=color,
            marker=MARKER[trained],
            label=f"trained CNNs, {LABELS[trained]} ({n_nets} digits)",
        )
        ax.plot(
            ch,
            data[f"kernel_T_{metric}"],
            "--",
            marker="D",
            mfc="white",
            ms=4,
            color=color,
            lw=0.8,
            label=f"CNTK, the same {n_nets} digits and $T$ steps",
        )
        x_inf = plotting.width_axis(ax, ch, label="channels $C$", infinity=True)
        values = [float(data[f"{r}_{metric}"]) for r in READOUTS] + [float(data[f"fc_{metric}"])]
        styles = [
            (f"CNTK $t=\\infty$, {LABELS[r]} ({n_all} digits)", "D", COLOR[r], True)
            for r in READOUTS
        ]
        styles.append((f"fully connected NTK, $t=\\infty$ ({n_all} digits)", "*", FC_COLOR, True))
        plotting.at_infinity(ax, x_inf, values, ch[0], styles=styles, guide=False)
    a, b, c = axes[0]
    a.set(ylabel="test accuracy")
    b.set(ylabel="test MSE", yscale="log")
    ratio = _interval_text(data, "distance_ratio")
    plotting.mean_band(
        c,
        ch,
        data["net_distance"],
        color=color,
        marker=MARKER[trained],
        label=f"widest/narrowest {ratio}",
    )
    c.set(yscale="log", ylabel=r"$\|f - f_{\mathrm{CNTK}}\| / \|f_{\mathrm{CNTK}}\|$")
    plotting.width_axis(c, ch, label="channels $C$")
    plotting.legend_below(c, ncol=1)
    handles, labels = a.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=6)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_concentration(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(2, height=2.3, width=0.9)
    a, b = axes[0]
    ch = data["channels"]
    for readout in READOUTS:
        rate = _interval_text(data, f"{readout}_rate")
        plotting.mean_band(
            a,
            ch,
            data[f"{readout}_deviation"],
            color=COLOR[readout],
            marker=MARKER[readout],
            label=f"{LABELS[readout]} (rate {rate})",
        )
    ref = data["pool_deviation"].mean(1)[0]
    a.plot(
        ch, 0.5 * ref * (ch / ch[0]) ** -0.5, ":", color="0.35", lw=0.8, label=r"$\propto C^{-1/2}$"
    )
    a.set(yscale="log", ylabel=r"$\|\hat\Theta - \Theta\|_F / \|\Theta\|_F$")
    plotting.width_axis(a, ch, label="channels $C$ (at initialization)")
    x = np.arange(2)
    for j, (what, hatch) in enumerate((("wall", None), ("CPU", "//"))):
        vals = [1e6 * data[f"{r}_cost"][j] for r in READOUTS]
        b.bar(
            x + (j - 0.5) * 0.35,
            vals,
            width=0.35,
            color=[COLOR[r] for r in READOUTS],
            hatch=hatch,
            edgecolor="k",
            lw=0.4,
            label=f"{what} time",
        )
    b.set_xticks(x, [LABELS[r] for r in READOUTS])
    b.set(yscale="log", ylabel=r"$\mu$s per CNTK entry")
    plotting.legend_below(a, ncol=1)
    b.legend(fontsize=6)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
