"""Width sweep on real data: lazy training (E1), linearization (E2), generalization (E6).

Inputs: one run file per width (network and linearization records, all seeds) and the
infinite-width kernels of the same data and architecture. Layer types follow Lee et al.
(2019): the input layer (Dense_0) and the output layer (Dense_{L−1}) have O(1) norm at
init, so their relative change scales like n^{-1/2}; hidden-to-hidden layers have
‖W_0‖ ∝ n, so theirs scales like n^{-1}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ntkpaper import infinite, plotting
from ntkpaper.fits import bootstrap_slope, loglog_slope

LAYER_TYPES = ("input", "hidden", "output")


def layer_type_change(run: Mapping[str, np.ndarray], prefix: str = "net") -> dict[str, np.ndarray]:
    """Absolute and relative parameter change per layer type, (n_records, n_seeds) each."""
    dist = run[f"{prefix}_layer_dist"]
    rel = run[f"{prefix}_layer_rel_dist"]
    with np.errstate(invalid="ignore", divide="ignore"):
        norm0 = dist / rel  # ‖θ_0‖ per layer, recovered from the two records
    n_layers = dist.shape[-1]
    groups = {"input": [0], "hidden": list(range(1, n_layers - 1)), "output": [n_layers - 1]}
    out = {}
    for name, idx in groups.items():
        if not idx:
            continue
        d = np.sqrt(np.sum(dist[..., idx] ** 2, axis=-1))
        out[f"abs_{name}"] = d
        out[f"rel_{name}"] = d / np.sqrt(np.sum(norm0[..., idx] ** 2, axis=-1))
    out["abs_all"] = run[f"{prefix}_param_dist"]
    out["rel_all"] = run[f"{prefix}_param_rel_dist"]
    return out


def analyze(
    runs: Sequence[Mapping[str, np.ndarray]],
    kernels: Mapping[str, np.ndarray],
    data: Mapping[str, np.ndarray],
    *,
    lr: float,
) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
    """Numbers (JSON) and figure data (one dict of arrays per figure)."""
    runs = sorted(runs, key=lambda r: int(r["width"]))
    widths = np.array([int(r["width"]) for r in runs])
    steps = runs[0]["record_steps"]
    t_final = float(steps[-1])
    numbers: dict[str, Any] = {
        "widths": widths.tolist(),
        "width_min": int(widths.min()),
        "width_max": int(widths.max()),
    }

    # E1: final relative and absolute change per layer type, (n_widths, n_seeds)
    changes = [layer_type_change(r) for r in runs]
    lazy_fig: dict[str, np.ndarray] = {"widths": widths, "steps": steps}
    for name in changes[0]:
        final = np.stack([c[name][-1] for c in changes])
        lazy_fig[f"final_{name}"] = final
        lazy_fig[f"traj_{name}"] = np.stack([np.nanmean(c[name], axis=1) for c in changes])
        numbers[f"slope_{name}"] = bootstrap_slope(widths, final)
    # E2: network vs linearization on the test set at the end of training
    gap = np.stack(
        [
            np.sqrt(np.mean((r["net_f_test"][-1] - r["lin_f_test"][-1]) ** 2, axis=(-2, -1)))
            for r in runs
        ]
    )
    net_loss = np.stack([r["net_test_loss"][-1] for r in runs])
    lin_loss = np.stack([r["lin_test_loss"][-1] for r in runs])
    numbers["slope_f_minus_g"] = bootstrap_slope(widths, gap)
    numbers["net_test_loss"] = np.nanmean(net_loss, axis=1).tolist()
    numbers["lin_test_loss"] = np.nanmean(lin_loss, axis=1).tolist()
    numbers["lin_test_loss_smallest_width"] = float(np.nanmean(lin_loss[0]))
    numbers["net_test_loss_smallest_width"] = float(np.nanmean(net_loss[0]))
    numbers["width_min"] = int(widths.min())
    numbers["lin_minus_net_test_loss_smallest_width"] = (
        numbers["lin_test_loss_smallest_width"] - numbers["net_test_loss_smallest_width"]
    )
    lin_fig = {
        "widths": widths,
        "rmse_f_g": gap,
        "net_test_loss": net_loss,
        "lin_test_loss": lin_loss,
    }

    # E6: finite nets against the infinite-width predictors at the same time and at t = ∞
    y_train, y_test, labels = data["y_train"], data["y_test"], data["labels_test"]
    ntk = infinite.gp_moments(kernels, y_train, np.array([t_final, np.inf]), lr=lr)
    ntk_mse = infinite.expected_test_mse(ntk["mean"], ntk["cov"], y_test)
    nngp = infinite.gp_moments(kernels, y_train, np.array([np.inf]), lr=lr, kernel="nngp")
    nngp_mse = infinite.expected_test_mse(nngp["mean"], nngp["cov"], y_test)
    net_acc = np.stack([infinite.accuracy(r["net_f_test"][-1], labels) for r in runs])
    lin_acc = np.stack([infinite.accuracy(r["lin_f_test"][-1], labels) for r in runs])
    ntk_acc = infinite.accuracy(ntk["mean"], labels)
    # A single net's output carries its random initial function; averaging the seeds
    # estimates the infinite ensemble's mean, which is what the NTK mean predicts.
    ens_acc = np.array(
        [infinite.accuracy(np.nanmean(r["net_f_test"][-1], 0), labels) for r in runs]
    )
    gen_gap = np.abs(net_loss - ntk_mse[0])
    numbers.update(
        {
            "ntk_test_loss_T": float(ntk_mse[0]),
            "ntk_test_loss_inf": float(ntk_mse[1]),
            "nngp_test_loss_inf": float(nngp_mse[0]),
            "ntk_mean_accuracy_T": float(ntk_acc[0]),
            "ntk_mean_accuracy_inf": float(ntk_acc[1]),
            "nngp_mean_accuracy_inf": float(infinite.accuracy(nngp["mean"], labels)[0]),
            "net_accuracy": np.nanmean(net_acc, axis=1).tolist(),
            "net_accuracy_widest": float(np.nanmean(net_acc[-1])),
            "net_ensemble_accuracy": ens_acc.tolist(),
            "net_test_loss_widest": float(np.nanmean(net_loss[-1])),
            "slope_gap_to_ntk": bootstrap_slope(widths, gen_gap),
            "diverged_runs": int(
                sum(r["net_diverged"].sum() + r["lin_diverged"].sum() for r in runs)
            ),
        }
    )
    gen_fig = {
        "widths": widths,
        "net_test_loss": net_loss,
        "lin_test_loss": lin_loss,
        "net_accuracy": net_acc,
        "lin_accuracy": lin_acc,
        "ntk_test_loss": ntk_mse,
        "nngp_test_loss": nngp_mse,
        "ntk_accuracy": ntk_acc,
        "net_ensemble_accuracy": ens_acc,
    }
    return numbers, {"lazy": lazy_fig, "linearization": lin_fig, "generalization": gen_fig}


def _mean_band(ax, x, y, *, label, color, marker="o"):
    mean = np.nanmean(y, axis=1)
    ax.plot(x, mean, marker=marker, color=color, label=label)
    if y.shape[1] > 1:
        ax.fill_between(x, np.nanmin(y, axis=1), np.nanmax(y, axis=1), color=color, alpha=0.2, lw=0)


def _slope_label(name: str, y: np.ndarray, x: np.ndarray) -> str:
    slope, _ = loglog_slope(x, np.nanmean(y, axis=1))
    return f"{name} (slope {slope:.2f})"


def plot_lazy(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(3, height=2.2)
    (a, b, c) = axes[0]
    w = data["widths"]
    cols = plotting.colors(4)
    for i, kind in enumerate(("input", "hidden", "output", "all")):
        key = f"final_rel_{kind}"
        if key in data:
            label = _slope_label("all" if kind == "all" else f"{kind} layer", data[key], w)
            _mean_band(a, w, data[key], label=label, color=cols[i])
            _mean_band(b, w, data[f"final_abs_{kind}"], label=kind, color=cols[i])
    ref = data["final_rel_all"][0].mean()
    a.plot(w, ref * (w / w[0]) ** -0.5, "k:", lw=0.8, label=r"$\propto n^{-1/2}$")
    a.plot(w, ref * (w / w[0]) ** -1.0, "k--", lw=0.8, label=r"$\propto n^{-1}$")
    a.set(yscale="log", ylabel=r"$\|\theta_T-\theta_0\| / \|\theta_0\|$")
    b.set(yscale="log", ylabel=r"$\|\theta_T-\theta_0\|$")
    plotting.width_axis(a, w)
    plotting.width_axis(b, w)
    steps = np.maximum(data["steps"], 1)
    for color, width, traj in zip(plotting.colors(len(w)), w, data["traj_rel_all"], strict=True):
        c.plot(steps, traj, color=color, label=f"n = {width}")
    c.set(
        xscale="log",
        yscale="log",
        xlabel="step $t$",
        ylabel=r"$\|\theta_t-\theta_0\| / \|\theta_0\|$",
    )
    for ax in (a, b, c):
        plotting.legend_below(ax, ncol=1 if ax is a else 2)
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_linearization(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(2, height=2.2, width=0.75)
    a, b = axes[0]
    w = data["widths"]
    c0, c1 = plotting.colors(2)
    _mean_band(
        a,
        w,
        data["rmse_f_g"],
        label=_slope_label("RMSE$(f_T, g_T)$", data["rmse_f_g"], w),
        color=c0,
    )
    ref = np.nanmean(data["rmse_f_g"][0])
    a.plot(w, ref * (w / w[0]) ** -0.5, "k:", lw=0.8, label=r"$\propto n^{-1/2}$")
    a.set(yscale="log", ylabel="test RMSE, network vs linear")
    plotting.width_axis(a, w)
    _mean_band(b, w, data["net_test_loss"], label="network $f$", color=c0)
    _mean_band(b, w, data["lin_test_loss"], label="linearized $g$", color=c1, marker="s")
    b.set(ylabel="test loss")
    plotting.width_axis(b, w)
    a.legend()
    b.legend()
    plotting.panel_labels(axes)
    plotting.save(fig, path)


def plot_generalization(data: Mapping[str, np.ndarray], path) -> None:
    fig, axes = plotting.figure(2, height=2.2, width=0.75)
    a, b = axes[0]
    w = data["widths"]
    c = plotting.colors(5)
    _mean_band(a, w, data["net_test_loss"], label="network", color=c[0])
    _mean_band(a, w, data["lin_test_loss"], label="linearized", color=c[1], marker="s")
    a.axhline(data["ntk_test_loss"][0], color=c[2], ls="--", label="NTK, same $t$")
    a.axhline(data["ntk_test_loss"][1], color=c[3], ls="-.", label=r"NTK, $t=\infty$")
    a.axhline(data["nngp_test_loss"][0], color=c[4], ls=":", label=r"NNGP, $t=\infty$")
    a.set(ylabel="test loss (mean over inits)")
    plotting.width_axis(a, w)
    _mean_band(b, w, data["net_accuracy"], label="network", color=c[0])
    _mean_band(b, w, data["lin_accuracy"], label="linearized", color=c[1], marker="s")
    b.plot(w, data["net_ensemble_accuracy"], "^-", color=c[3], label="network, seed average")
    b.axhline(data["ntk_accuracy"][0], color=c[2], ls="--", label="NTK mean, same $t$")
    b.set(ylabel="test accuracy")
    plotting.width_axis(b, w)
    plotting.legend_below(a, ncol=1)
    plotting.legend_below(b, ncol=1)
    plotting.panel_labels(axes)
    plotting.save(fig, path)
