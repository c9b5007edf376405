"""Figures of the kernel_pca study (E7d, Jacot et al.'s Figure 3 on MNIST)."""

from __future__ import annotations

import matplotlib
import numpy as np

from ntkpaper.figures import plotting
from ntkpaper.studies.kernel_pca.figure_data import Spectrum, Training


def plot_spectrum(data: Spectrum, path) -> None:
    """(a) Kernel PCA of the first batch on components 2 and 3, one colour per digit (their
    Fig. 3a). (b) The leading eigenvalues of Θ/N, mean and range over the batches drawn,
    with the published λ_1..3."""
    fig, axes = plotting.figure(2, height=2.9, width=0.9)
    a, b = axes[0]
    comp, labels = data.components, data.labels
    classes = np.unique(labels)
    cols = matplotlib.colormaps["tab10"].colors  # ten digits: ten categorical colours
    for i, c in enumerate(classes):
        sel = labels == c
        a.plot(
            comp[sel, 1],
            comp[sel, 2],
            ls="none",
            marker=plotting.MARKERS[i % 8],
            ms=2.0,
            mew=0.3,
            color=cols[i % len(cols)],
            alpha=0.8,
            label=str(c),
        )
    a.set(xlabel=r"$f^{(2)} = \sqrt{N}\,v_2$", ylabel=r"$f^{(3)} = \sqrt{N}\,v_3$")
    plotting.legend_below(a, ncol=5, title="digit", markerscale=1.6)
    lam = data.eigenvalues
    k = np.arange(1, lam.shape[1] + 1)
    b.plot(k, lam.mean(0), "o-", ms=3, lw=0.8, color="0.2", label="this build (mean over batches)")
    b.fill_between(
        k, lam.min(0), lam.max(0), color="0.2", alpha=0.2, lw=0, label="range over batches"
    )
    published = data.published
    if published.size:
        b.plot(
            np.arange(1, published.size + 1),
            published,
            "D",
            ms=5,
            mfc="white",
            color=plotting.colors(2)[1],
            mew=1.2,
            label="Jacot et al. (2018)",
        )
    b.set(xscale="log", yscale="log", xlabel="index $k$", ylabel=r"eigenvalue of $\Theta/N$")
    plotting.legend_below(b, ncol=1)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_training(data: Training, path) -> None:
    """Nets trained on f_0 + 0.5·f^(2) (their Fig. 3b/c): (a) the deviation from the
    straight line (RMS of the residual orthogonal to f^(2)); (b) the component along
    f^(2) with the infinite-width linearized model's decay; (c) each net's kernel along
    f^(2), uᵀΘ̂_tu over the analytic λ_2. Mean over seeds, band: range over seeds."""
    fig, axes = plotting.figure(3, height=2.4)
    a, b, c = axes[0]
    t, widths = data.steps, data.widths
    k_steps = data.kernel_steps
    cols = plotting.sequential(len(widths))
    for i, w in enumerate(widths):
        style = {"color": cols[i], "marker": plotting.MARKERS[i], "ms": 3, "label": f"$n = {w}$"}
        every = {"markevery": max(len(t) // 8, 1)}
        x, mean, lo, hi = plotting.positive(
            t,
            np.nanmean(data.orth[i], 0),
            np.nanmin(data.orth[i], 0),
            np.nanmax(data.orth[i], 0),
        )
        x, mean, lo, hi = (v[x >= 1] for v in (x, mean, lo, hi))  # step 0: zero by design
        a.plot(x, mean, **style, **every)
        a.fill_between(x, lo, hi, color=cols[i], alpha=0.2, lw=0)
        mag = np.abs(data.along[i])
        b.plot(t, np.nanmean(mag, 0), **style, **every)
        b.fill_between(t, np.nanmin(mag, 0), np.nanmax(mag, 0), color=cols[i], alpha=0.2, lw=0)
        kernel = data.kernel[i]
        c.plot(k_steps, np.nanmean(kernel, 0), **style)
        c.fill_between(
            k_steps, np.nanmin(kernel, 0), np.nanmax(kernel, 0), color=cols[i], alpha=0.2, lw=0
        )
    b.plot(t, np.abs(data.theory), "k--", lw=1, label="infinite width")
    for ax in (b, c):
        ax.axvline(data.fit_window_end, color="0.5", lw=0.8, ls=":")
    c.axhline(1.0, color="k", lw=1, ls="--", label="infinite width")
    a.set(
        xscale="log", yscale="log", xlabel="step $t$", ylabel=r"RMS of $f_t - f^*$ $\perp f^{(2)}$"
    )
    b.set(yscale="log", xlabel="step $t$", ylabel=r"$|\langle f_t - f^*, f^{(2)}\rangle| / N$")
    c.set(xlabel="step $t$", ylabel=r"$u^\top\hat\Theta_t u\,/\,(N\lambda_2)$")
    for ax in (a, b, c):
        plotting.legend_below(ax, ncol=1 if ax is not a else 2)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
