"""Figures of the early_stopping study, drawn from the data files its analysis wrote.

Colour means one thing: black and grey the NTK predictors, a sequential palette the width of
the finite networks, and one qualitative colour per stopping rule (vertical lines, and the
rules' columns in panel d). Time is on a symlog axis, so t = 0 is drawn where it is."""

from __future__ import annotations

import numpy as np

from ntkpaper.figures import plotting
from ntkpaper.studies.early_stopping.figure_data import EarlyStopping, NetCurves

BLUE, VERMILLION, GREEN, PURPLE, _, SKY, _ = plotting.colors(7)
RULES = {  # name: (colour, line style, label)
    "spectral": (VERMILLION, "-", "stop: spectral rule"),
    "validation": (SKY, "--", "stop: validation"),
    "oracle": (PURPLE, ":", "stop: oracle (test labels)"),
}
RATIO_STYLE = {  # panel (d): name: (colour, tick label)
    "spectral": (VERMILLION, "spectral"),
    "validation": (SKY, "validation\n(held out)"),
    "validation_refit": (BLUE, "validation\n(refit)"),
    "ridge": (GREEN, "tuned\nridge"),
    "infinite": ("k", "$t=\\infty$"),
}


def _nets(a, b, nets: NetCurves) -> None:
    """The finite nets' test MSE (a) and accuracy (b), one colour and marker per width."""
    widths = nets.widths
    for w, color, marker in zip(
        widths, plotting.sequential(len(widths)), plotting.MARKERS, strict=False
    ):
        i = list(widths).index(w)
        kw = {
            "marker": marker,
            "ms": 2.2,
            "lw": 0.7,
            "color": color,
            "markevery": max(len(nets.steps) // 10, 1),
        }
        a.plot(nets.steps, nets.test_mse[i], label=f"networks, $n = {w}$", **kw)
        b.plot(nets.steps, nets.test_acc[i], **kw)


def plot_early_stopping(data: EarlyStopping, path) -> None:
    """E8's figure. Over 80 lines by design: its four panels share one set of colours and
    line styles and the one legend that names them all."""
    fig, axes = plotting.figure(2, 2, height=2.5)
    (a, b), (c, d) = axes
    t = data.times
    n_draws = data.n_draws
    a.fill_between(
        t,
        data.test_mse_lo,
        data.test_mse_hi,
        color="0.85",
        lw=0,
        label=f"NTK mean predictor, range over {n_draws} noise draws",
    )
    a.plot(t, data.test_mse, color="k", label="NTK mean predictor ($f_0 = 0$), draw 0")
    # Thick and pale under the networks, which follow it: both stay visible.
    a.plot(
        data.times_expected,
        data.test_mse_expected,
        color="0.6",
        lw=3.2,
        label="NTK, one network (mean + init variance)",
    )
    a.axhline(data.inf_test_mse, color="k", ls="-.", lw=0.8, label=r"NTK mean, $t=\infty$")
    a.axhline(data.ridge_test_mse, color=GREEN, ls="-", lw=0.8, label="tuned kernel ridge")
    b.plot(t, data.test_acc, color="k", label="NTK mean: test accuracy")
    b.plot(
        t,
        data.train_noisy_fit,
        color="k",
        ls="--",
        lw=1.0,
        label="NTK mean: corrupted labels fitted",
    )
    if data.nets is not None:
        _nets(a, b, data.nets)
    for ax in (a, b):
        for name, (color, style, label) in RULES.items():
            stop = data.stops[name]
            ax.axvline(stop, color=color, ls=style, lw=1.0, label=label if ax is a else None)
        plotting.time_axis(ax)
    a.set(yscale="log", ylabel="test MSE")
    b.set(ylabel="fraction", ylim=(0, 1.02))
    ks = data.k_grid
    eps = f"{data.eps:g}"
    c.plot(
        ks,
        data.k_grid_test_mse,
        "o-",
        ms=2,
        lw=0.9,
        color=VERMILLION,
        label=f"spectral rule with $k$ modes, $\\varepsilon = {eps}$",
    )
    c.axhline(data.oracle_test_mse_mean, color=PURPLE, ls=":", lw=1.0, label="oracle")
    c.axhline(data.ridge_test_mse_mean, color=GREEN, ls="-", lw=0.8, label="tuned ridge")
    c.axhline(data.inf_test_mse_mean, color="k", ls="-.", lw=0.8, label=r"$t=\infty$")
    c.axvline(
        data.top_k,
        color=VERMILLION,
        ls="--",
        lw=0.8,
        label=f"$k = {data.top_k}$ (configured)",
    )
    c.axvline(data.k_trace_90, color="0.5", ls="--", lw=0.8, label="$k$ holding 90% of the trace")
    c.set(
        xscale="log",
        yscale="log",
        xlabel="modes $k$ fitted to $\\varepsilon$",
        ylabel="test MSE, mean of draws",
    )
    plotting.legend_below(c, ncol=2, gap_pt=28)
    # (d) each draw's test MSE over its oracle's, and the ratio of means with its interval
    rng = np.random.default_rng(0)  # jitter only, so the dots of a column do not overlap
    names = list(data.ratios)
    for i, (name, ratio) in enumerate(data.ratios.items()):
        color, _ = RATIO_STYLE[name]
        values = ratio.draws
        d.scatter(
            i + rng.uniform(-0.18, 0.18, len(values)), values, s=5, color=color, alpha=0.5, lw=0
        )
        lo, hi = ratio.mean.lo, ratio.mean.hi
        point = ratio.mean.value
        # the interval as a pale box behind the point, which stays visible however short
        d.bar([i + 0.32], [hi - lo], bottom=[lo], width=0.14, color=color, alpha=0.35, lw=0)
        d.plot([i + 0.32], [point], "o", ms=3.5, mfc="white", mew=0.9, color=color)
    d.axhline(1.0, color=PURPLE, ls=":", lw=1.0)
    d.set_xticks(range(len(names)), [RATIO_STYLE[n][1] for n in names], fontsize=6)
    d.set(ylabel="test MSE / oracle's", xlim=(-0.5, len(names) - 0.3))
    handles = [h for ax in (a, b) for h in ax.get_legend_handles_labels()[0]]
    fig.legend(handles=handles, loc="outside lower left", ncol=3, fontsize=6)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
