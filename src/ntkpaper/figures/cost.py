"""Figures of the cost study, drawn from the data files its analysis wrote."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ntkpaper import plotting
from ntkpaper.fits import loglog_slope


def plot_cost(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(2, height=2.2, width=0.8)
    a, b = axes[0]
    c = plotting.colors(3)
    ns = data["ns"]
    for key, label, color in (
        ("kernel_ours", "analytic NTK, ours", c[0]),
        ("kernel_nt", "analytic NTK, neural-tangents", c[1]),
        ("solve", r"NTK-GP mean at $t=\infty$ (solve)", c[2]),
    ):
        slope = loglog_slope(ns, data[key])[0]
        a.plot(ns, data[key], "o-", color=color, label=f"{label} (slope {slope:.2f})")
    a.set(yscale="log", ylabel="seconds")
    plotting.width_axis(a, ns, label="training points $n$")
    plotting.legend_below(a, ncol=1)
    w = data["widths"]
    for key, label, color in (
        ("emp_ours", "ours (layerwise)", c[0]),
        ("emp_nt3", "nt structured derivatives", c[1]),
        ("emp_nt1", "nt Jacobian contraction", c[2]),
    ):
        b.plot(w, data[key], "o-", color=color, label=label)
    b.set(yscale="log", ylabel="seconds")
    plotting.width_axis(b, w)
    plotting.legend_below(b, ncol=1)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
