"""Figures of the convolutional-NTK study (E13), drawn from the data files its analysis wrote.

Colour means the readout throughout (flatten blue, global average pooling orange, the fully
connected NTK grey); filled markers are kernels at t = ∞ on all training digits, open ones the
analytic CNTK after the T steps the trained CNNs took, on their (smaller) training set. Every
rate or ratio a legend prints is the number its claim reads, computed by the analysis (never
refitted here)."""

from __future__ import annotations

import numpy as np

from ntkpaper.figures import plotting
from ntkpaper.pipeline.records import Interval
from ntkpaper.studies.conv_ntk.figure_data import Accuracy, Concentration

READOUTS = ("flatten", "pool")
LABELS = {"flatten": "flatten", "pool": "global avg. pool"}
COLOR = dict(zip(READOUTS, plotting.colors(2), strict=True))
MARKER = {"flatten": "o", "pool": "s"}
FC_COLOR = "0.45"


def _interval_text(interval: Interval) -> str:
    """'−0.52 [−0.71, −0.33]' from the analysis's point and 90% interval; 'n/a' without."""
    point = interval.value
    if not np.isfinite(point):
        return "n/a"
    return f"{point:.2f} [{interval.lo:.2f}, {interval.hi:.2f}]"


def plot_accuracy(data: Accuracy, path) -> None:
    fig, axes = plotting.figure(3, height=2.4, width=1.0)
    nets = data.nets
    ch = np.asarray(nets.channels, np.float64)
    trained = nets.readout
    color = COLOR[trained]
    n_all, n_nets = data.n_train, nets.n_digits
    kernels = (*READOUTS, "fc")
    metrics = (
        (nets.accuracy, nets.kernel_T_accuracy, [data.infinite[k].accuracy for k in kernels]),
        (nets.mse, nets.kernel_T_mse, [data.infinite[k].mse for k in kernels]),
    )
    for ax, (net, kernel_T, values) in zip(axes[0][:2], metrics, strict=True):
        plotting.mean_band(
            ax,
            ch,
            net,
            color=color,
            marker=MARKER[trained],
            label=f"trained CNNs, {LABELS[trained]} ({n_nets} digits)",
        )
        ax.plot(
            ch,
            kernel_T,
            "--",
            marker="D",
            mfc="white",
            ms=4,
            color=color,
            lw=0.8,
            label=f"CNTK, the same {n_nets} digits and $T$ steps",
        )
        x_inf = plotting.width_axis(ax, ch, label="channels $C$", infinity=True)
        styles = [
            (f"CNTK $t=\\infty$, {LABELS[r]} ({n_all} digits)", "D", COLOR[r], True)
            for r in READOUTS
        ]
        styles.append((f"fully connected NTK, $t=\\infty$ ({n_all} digits)", "*", FC_COLOR, True))
        plotting.at_infinity(ax, x_inf, values, ch[0], styles=styles, guide=False)
    a, b, c = axes[0]
    a.set(ylabel="test accuracy")
    b.set(ylabel="test MSE", yscale="log")
    ratio = _interval_text(nets.distance_ratio)
    plotting.mean_band(
        c,
        ch,
        nets.distance,
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


def plot_concentration(data: Concentration, path) -> None:
    fig, axes = plotting.figure(2, height=2.3, width=0.9)
    a, b = axes[0]
    ch = data.channels
    for readout in READOUTS:
        rate = _interval_text(data.readouts[readout].rate)
        plotting.mean_band(
            a,
            ch,
            data.readouts[readout].deviation,
            color=COLOR[readout],
            marker=MARKER[readout],
            label=f"{LABELS[readout]} (rate {rate})",
        )
    ref = data.readouts["pool"].deviation.mean(1)[0]
    a.plot(
        ch, 0.5 * ref * (ch / ch[0]) ** -0.5, ":", color="0.35", lw=0.8, label=r"$\propto C^{-1/2}$"
    )
    a.set(yscale="log", ylabel=r"$\|\hat\Theta - \Theta\|_F / \|\Theta\|_F$")
    plotting.width_axis(a, ch, label="channels $C$ (at initialization)")
    x = np.arange(2)
    costs = [data.readouts[r].cost for r in READOUTS]
    wall, cpu = [c.wall for c in costs], [c.cpu for c in costs]
    for j, (what, hatch, seconds) in enumerate((("wall", None, wall), ("CPU", "//", cpu))):
        vals = [1e6 * s for s in seconds]
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
