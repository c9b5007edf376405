"""Width sweep on real data: lazy training (E1), linearization (E2), generalization (E6).

Design (issue 14): the claims are about the trained net, so every net is trained until it
meets a convergence criterion stated in advance, and every rate is decided by the rule of
``ntkpaper.statistics.fits`` (the extrapolated rate rule, BCa over >= 10 seeds).

- Data: the first ``train_subset`` training digits (all test digits), one-hot targets minus
  their mean. Few points keep the kernel well conditioned, so full-batch GD converges in a
  few hundred steps.
- Learning rate: each net trains at ``lr_ratio`` times its own critical rate at
  initialization, η_s = lr_ratio·2m/λ_max(Θ̂_0,s), with Θ̂_0,s its full empirical NTK (every
  pair of outputs; m = y.size). Below η_crit the linearization is stable, which is the
  premise of Lee et al.'s theorem; a rate fixed against the analytic kernel would not do:
  at width 64 the empirical λ_max is about twice the analytic one, and the linearizations
  of narrow nets diverge. As the width grows η_s tends to lr_ratio times the analytic η_crit.
- Convergence criterion (``CONVERGED_LOSS``, ``CONVERGED_GROWTH``): at step T the training
  loss is below 10^-4 of its initial value and ‖θ_t − θ_0‖ grew by less than 2% from T/2 to
  T. It is checked at the steps T_k = ``min_steps``·1.25^k (and at ``steps``, the cap);
  each training stops at the first T_k where every seed meets it. The analysis reports the
  fraction of nets that met it (claim E1-converged) and T per width.
- Per width, one ensemble of ``seeds`` nets trains twice from the same θ_0: the standard net
  f on y, and the centred net f − f_0 on y (as training f on y + f_0 of its own seed; Lee et
  al. 2020). The linearization g of each net is not trained step by step: its discrete GD
  is exact in function space from the net's full empirical NTK at θ_0
  (``predict.linearized_gd``), evaluated at every recording step of the standard net.

Layer types (E1): the input layer (Dense_0) and the output layer (Dense_{L−1}) have
‖W_0‖_F ∝ sqrt(n), hidden-to-hidden layers ‖W_0‖_F ∝ n; the parameter change stays O(1)
(Lee et al. 2019, Thm 2.1), so their relative change scales like n^{-1/2} and n^{-1}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper.kernels import nt_reference, predict
from ntkpaper.networks import train
from ntkpaper.networks.empirical import nt_full_empirical_ntk
from ntkpaper.networks.finite import init_width
from ntkpaper.networks.models import ensemble_apply, make_apply, model_spec
from ntkpaper.pipeline.records import Interval, Intervals, Record
from ntkpaper.statistics import fits, rates
from ntkpaper.studies.width_sweep import figure_data

LAYER_TYPES = ("input", "hidden", "output")
CONVERGED_LOSS = 1e-4  # L_train(T) / L_train(0) below this ...
CONVERGED_GROWTH = 0.02  # ... and ‖θ_T − θ_0‖ / ‖θ_{T/2} − θ_0‖ − 1 below this


@dataclass(frozen=True)
class Training(Record):
    """One ensemble trained until converged: the standard net f, or the centred f − f_0."""

    steps: np.ndarray  # (records,) its recording steps, up to where it stopped
    train_loss: np.ndarray  # (records, seeds)
    test_loss: np.ndarray  # (records, seeds)
    param_dist: np.ndarray  # (records, seeds) ‖θ_t − θ_0‖
    param_rel_dist: np.ndarray  # (records, seeds) ‖θ_t − θ_0‖ / ‖θ_0‖
    layer_dist: np.ndarray  # (records, seeds, layers)
    layer_rel_dist: np.ndarray  # (records, seeds, layers)
    diverged: np.ndarray  # (seeds,) bool
    f_test_final: np.ndarray  # (seeds, n_test, K) test outputs at the end (centred: f − f_0)


@dataclass(frozen=True)
class Linearization(Record):
    """The standard net's linearization g, exact from its empirical NTK at θ_0."""

    train_loss: np.ndarray  # (records, seeds) at the standard net's recording steps
    test_loss: np.ndarray  # (records, seeds)
    f_test_final: np.ndarray  # (seeds, n_test, K)


@dataclass(frozen=True)
class Run(Record):
    """One width's shard."""

    width: int
    lr: np.ndarray  # (seeds,) lr_ratio · eta_crit
    eta_crit: np.ndarray  # (seeds,) 2m/λ_max(Θ̂_0) of each net
    n_train: int
    record_steps: np.ndarray  # (records,) the standard net's recording steps
    net: Training
    cen: Training
    lin: Linearization
    rmse_f_g: np.ndarray  # (records, seeds) RMS over the test set of f_t − g_t


def layer_type_change(training: Training) -> dict[str, np.ndarray]:
    """Absolute and relative parameter change per layer type, (n_records, n_seeds) each."""
    dist = training.layer_dist
    rel = training.layer_rel_dist
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
    out["abs_all"] = training.param_dist
    out["rel_all"] = training.param_rel_dist
    return out


def subset(spec: Mapping[str, Any], data: Mapping[str, np.ndarray]) -> int:
    """How many training points the sweep uses (the first ones)."""
    return int(min(spec["train_subset"], len(data["x_train"])))


def checkpoints(min_steps: int, max_steps: int) -> np.ndarray:
    """The steps at which the convergence criterion is checked: min_steps·1.25^k, then the cap."""
    out, t = [], int(min_steps)
    while t < max_steps:
        out.append(t)
        t = max(t + 1, round(1.25 * t))  # round(1.25 · 2) is 2: always move on
    return np.unique(np.append(out, max_steps)).astype(np.int64)


def record_steps(spec: Mapping[str, Any]) -> np.ndarray:
    """Log-spaced recording steps up to the cap, plus every checkpoint and its half."""
    cps = checkpoints(spec["min_steps"], spec["steps"])
    return np.union1d(
        train.log_spaced_steps(spec["steps"], spec["records"]), np.concatenate([cps, cps // 2])
    )


def meets_criterion(steps: np.ndarray, loss: np.ndarray, dist: np.ndarray) -> np.ndarray:
    """Per seed, at the last of ``steps``: loss ≤ CONVERGED_LOSS·loss(0) and
    dist(T) ≤ (1 + CONVERGED_GROWTH)·dist(T/2). loss, dist: (n_records, n_seeds)."""
    half = np.flatnonzero(steps == steps[-1] // 2)
    if not len(half):
        return np.zeros(loss.shape[1], bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        small = loss[-1] <= CONVERGED_LOSS * loss[0]
        settled = dist[-1] <= (1 + CONVERGED_GROWTH) * dist[half[0]]
    return small & settled


def stop_at_convergence(cps: np.ndarray):
    """train.train's stop_when: at a checkpoint, stop once every live seed meets it."""

    def stop_when(steps: np.ndarray, records: Mapping[str, np.ndarray]) -> bool:
        if steps[-1] not in cps:
            return False
        ok = meets_criterion(steps, records["train_loss"], records["param_dist"])
        return bool(np.all(ok | records["diverged"][-1]))

    return stop_when


def run(spec: Mapping[str, Any], data: Mapping[str, np.ndarray], *, key) -> Run:
    """Train one width's ensemble, standard and centred, each until converged, and evaluate
    its linearization. The workflow runs one job per width (``spec["widths"]`` narrowed).

    Over 80 lines by design: the standard and the centred training share θ_0, each net's full
    empirical kernel and the recording grid, which the exact linearization reuses."""
    (width,) = spec["widths"]
    n = subset(spec, data)
    x, y = np.asarray(data["x_train"][:n]), np.asarray(data["y_train"][:n])
    x_test, y_test = np.asarray(data["x_test"]), np.asarray(data["y_test"])
    mspec, params0 = init_width(
        spec["model"],
        width=width,
        out_dim=y.shape[1],
        in_dim=x.shape[1],
        seeds=spec["seeds"],
        key=key,
    )
    apply_fn = make_apply(mspec)
    f0_train = np.asarray(ensemble_apply(mspec, params0, jnp.asarray(x, jnp.float32)), np.float64)
    f0_test = np.asarray(
        ensemble_apply(mspec, params0, jnp.asarray(x_test, jnp.float32)), np.float64
    )
    # each net's full empirical NTK at θ_0: its critical rate and its exact linearization
    x_all = jnp.asarray(np.concatenate([x, x_test]), jnp.float32)
    kernels = [
        np.asarray(
            nt_full_empirical_ntk(mspec, train.seed_params(params0, s), x_all, x_all[:n]),
            np.float64,
        )
        for s in range(spec["seeds"])
    ]
    eta_crit = np.array(
        [
            rates.critical_lr(k[:n].transpose(0, 2, 1, 3).reshape(y.size, y.size), y.size)
            for k in kernels
        ]
    )
    lr = float(spec["lr_ratio"]) * eta_crit
    grid, cps = record_steps(spec), checkpoints(spec["min_steps"], spec["steps"])

    def fit(y_fit: np.ndarray, y_eval: np.ndarray) -> tuple[train.TrainRecord, np.ndarray]:
        record, _ = train.train(
            apply_fn,
            params0,
            x,
            y_fit,
            x_test,
            y_eval,
            lr=lr,
            steps=spec["steps"],
            record_steps=grid,
            stop_when=stop_at_convergence(cps),
        )
        return record, np.asarray(record.f_test, np.float64)

    def training(record: train.TrainRecord, f_test_final: np.ndarray) -> Training:
        return Training(
            **{
                name: np.asarray(getattr(record, name))
                for name in (
                    "steps",
                    "train_loss",
                    "test_loss",
                    "param_dist",
                    "param_rel_dist",
                    "layer_dist",
                    "layer_rel_dist",
                    "diverged",
                )
            },
            f_test_final=f_test_final,
        )

    net_record, f_test = fit(y, y_test)
    steps = np.asarray(net_record.steps)
    # centred: f on y + f_0 is f − f_0 on y (the same gradients); its test outputs are f − f_0
    cen_record, centred = fit(
        (y[None] + f0_train).astype(np.float32), (y_test[None] + f0_test).astype(np.float32)
    )

    # the linearization of each net, exactly, at the standard net's recording steps
    g_train, g_test = [], []
    for s, k in enumerate(kernels):
        gt, gs = predict.linearized_gd(k[:n], k[n:], f0_train[s], f0_test[s], y, steps, lr=lr[s])
        g_train.append(gt)
        g_test.append(gs)
    g_train, g_test = np.stack(g_train, 1), np.stack(g_test, 1)  # (T, S, n, K)
    lin = Linearization(
        train_loss=0.5 * np.mean((g_train - y) ** 2, axis=(-2, -1)),
        test_loss=0.5 * np.mean((g_test - y_test) ** 2, axis=(-2, -1)),
        f_test_final=g_test[-1],
    )
    return Run(
        width=width,
        lr=lr,
        eta_crit=eta_crit,
        n_train=n,
        record_steps=steps,
        net=training(net_record, f_test[-1]),
        cen=training(cen_record, centred[-1] - f0_test),
        lin=lin,
        # E2: RMS over the test set of f_t − g_t at every record, per seed (NaN once
        # diverged)
        rmse_f_g=np.sqrt(np.mean((f_test - g_test) ** 2, axis=(-2, -1))),
    )


# ----------------------------------------------------------------------------- analysis


def converged(training: Training) -> np.ndarray:
    """Per seed: does the net meet the convergence criterion at its last step?"""
    ok = meets_criterion(training.steps, training.train_loss, training.param_dist)
    return ok & ~training.diverged.astype(bool)


def _pad(rows: Sequence[np.ndarray]) -> np.ndarray:
    """Stack 1-D arrays of different lengths (trainings stopped at different steps), NaN-padded."""
    out = np.full((len(rows), max(len(r) for r in rows)), np.nan)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def _loss(f: np.ndarray, y: np.ndarray) -> np.ndarray:
    return 0.5 * np.mean((f - y) ** 2, axis=(-2, -1))


def ensemble_gap(
    f_final: np.ndarray,
    y_test: np.ndarray,
    bias_loss: float,
    variance_loss: float,
    *,
    n_boot: int = fits.N_BOOT,
    seed: int = 0,
) -> tuple[float, np.ndarray]:
    """Test loss of the average of the S nets minus the loss the NTK Gaussian predicts for
    an average of S independent draws, bias + variance/S; and its bootstrap replicates.

    A bootstrap ensemble repeats nets (net i c_i times), which raises its variance to
    variance·Σc_i²/S²; each replicate is compared with that prediction, so resampling does
    not bias the gap."""
    n_seeds = len(f_final)
    point = _loss(f_final.mean(0), y_test) - bias_loss - variance_loss / n_seeds
    rng = np.random.default_rng(seed)
    reps = np.empty(n_boot)
    for b in range(n_boot):
        counts = np.bincount(rng.integers(0, n_seeds, n_seeds), minlength=n_seeds)
        mean = np.tensordot(counts / n_seeds, f_final, axes=1)
        reps[b] = _loss(mean, y_test) - bias_loss - variance_loss * np.sum(counts**2) / n_seeds**2
    return float(point), reps


def ensemble_gap_jackknife(
    f_final: np.ndarray, y_test: np.ndarray, bias_loss: float, variance_loss: float
) -> np.ndarray:
    """``ensemble_gap`` of the ensemble with each net left out in turn (S − 1 nets, so the
    predicted variance term is variance/(S − 1)): the jackknife behind its BCa interval."""
    n_seeds = len(f_final)
    total = f_final.sum(0)
    return np.array(
        [
            _loss((total - f) / (n_seeds - 1), y_test) - bias_loss - variance_loss / (n_seeds - 1)
            for f in f_final
        ]
    )


def analyze(
    runs: Sequence[Run],
    *,
    spec: Mapping[str, Any],
    data: Mapping[str, np.ndarray],
    kernels: Mapping[str, np.ndarray],
) -> tuple[dict[str, Any], dict[str, Record]]:
    """Numbers (JSON) and figure data (one record per figure) from one run per width:
    the training itself, then E1, E2 and E6 (each helper adds its numbers)."""
    runs = sorted(runs, key=lambda r: r.width)
    widths = np.array([r.width for r in runs])
    steps = max((r.record_steps for r in runs), key=len)  # the longest training's grid
    n = runs[0].n_train
    # the nets' critical rates tend to that of the analytic NTK on the same points
    eta_crit_analytic = rates.critical_lr(
        kernels["ntk_train_train"][:n, :n], n * data["y_train"].shape[1]
    )
    numbers: dict[str, Any] = {
        "widths": widths.tolist(),
        "widths_text": ", ".join(str(int(w)) for w in widths),
        "width_min": int(widths.min()),
        "width_max": int(widths.max()),
        "eta_crit_analytic": eta_crit_analytic,
        "lr_median": [float(np.median(r.lr)) for r in runs],
        # each net's η_crit at init relative to the analytic one (→ 1 with width)
        "eta_crit_ratio_median": [float(np.median(r.eta_crit) / eta_crit_analytic) for r in runs],
        "eta_crit_ratio_min": [float(np.min(r.eta_crit) / eta_crit_analytic) for r in runs],
        "n_train": n,
        "steps_net": [int(r.net.steps[-1]) for r in runs],
        "steps_centred": [int(r.cen.steps[-1]) for r in runs],
        "seeds": int(runs[0].net.train_loss.shape[1]),
        "converged_loss": CONVERGED_LOSS,
        "converged_growth_percent": 100 * CONVERGED_GROWTH,
    }
    for key in ("steps_net", "steps_centred", "eta_crit_ratio_median"):
        numbers[f"{key}_narrowest"], numbers[f"{key}_widest"] = numbers[key][0], numbers[key][-1]

    _convergence_numbers(runs, numbers)
    lazy_fig = _lazy(runs, widths, steps, numbers)
    lin_fig, net_loss, lin_loss = _linearization(runs, widths, numbers)
    for key in [k for k in numbers if k.startswith("local_slopes_")] + ["sup_time_f_minus_g"]:
        numbers[f"{key}_narrowest"], numbers[f"{key}_widest"] = numbers[key][0], numbers[key][-1]
    gen_fig = _generalization(runs, widths, spec, data, kernels, numbers, net_loss, lin_loss)
    return numbers, {"lazy": lazy_fig, "linearization": lin_fig, "generalization": gen_fig}


def _convergence_numbers(runs: Sequence[Run], numbers: dict[str, Any]) -> None:
    """Every net, standard and centred, against the stated convergence criterion."""
    ok = np.stack([np.concatenate([converged(r.net), converged(r.cen)]) for r in runs])
    numbers["converged_fraction"] = float(ok.mean())
    numbers["converged_fraction_per_width"] = ok.mean(1).tolist()
    ratios = [t.train_loss[-1] / t.train_loss[0] for r in runs for t in (r.net, r.cen)]
    numbers["final_loss_ratio_max"] = float(np.nanmax(ratios))
    growth = []
    for r in runs:
        for t in (r.net, r.cen):
            st, d = t.steps, t.param_dist
            half = np.flatnonzero(st == st[-1] // 2)
            growth.append(d[-1] / d[half[0]] - 1 if len(half) else np.full(d.shape[1], np.nan))
    numbers["dist_growth_second_half_max_percent"] = float(100 * np.nanmax(growth))


def _lazy(
    runs: Sequence[Run], widths: np.ndarray, steps: np.ndarray, numbers: dict[str, Any]
) -> figure_data.Lazy:
    """E1: the change per layer type at T (converged), (n_widths, n_seeds), and its rates."""
    changes = [layer_type_change(r.net) for r in runs]
    final, traj = {}, {}
    for name in changes[0]:
        final[name] = np.stack([c[name][-1] for c in changes])
        traj[name] = _pad([np.nanmean(c[name], axis=1) for c in changes])
        numbers[f"slope_{name}"] = fits.asymptotic_rate(widths, final[name])
        numbers[f"local_slopes_{name}"] = fits.sequence_of(
            fits.local_slopes(widths, final[name]), "slope"
        )
    layers = {
        kind: figure_data.LayerChange(
            final_rel=final[f"rel_{kind}"],
            final_abs=final[f"abs_{kind}"],
            traj_rel=traj[f"rel_{kind}"],
            rate_rel=Interval.of(numbers[f"slope_rel_{kind}"]),
        )
        for kind in (*LAYER_TYPES, "all")
        if f"rel_{kind}" in final
    }
    return figure_data.Lazy(widths=widths, steps=steps, layers=layers)


def _linearization(
    runs: Sequence[Run], widths: np.ndarray, numbers: dict[str, Any]
) -> tuple[figure_data.Linearization, np.ndarray, np.ndarray]:
    """E2: each network against its linearization, the sup over the recorded times (Lee et
    al.'s sup_t), and both test losses at convergence, (n_widths, n_seeds) each."""
    sup_gap = np.stack([np.nanmax(r.rmse_f_g, axis=0) for r in runs])  # (W, S)
    final_gap = np.stack([r.rmse_f_g[-1] for r in runs])
    numbers["slope_f_minus_g"] = fits.asymptotic_rate(widths, sup_gap)
    numbers["local_slopes_f_minus_g"] = fits.sequence_of(
        fits.local_slopes(widths, sup_gap), "slope"
    )
    numbers["slope_f_minus_g_final"] = fits.asymptotic_rate(widths, final_gap)
    numbers["sup_time_f_minus_g"] = [
        int(np.median(r.record_steps[np.nanargmax(r.rmse_f_g, axis=0)])) for r in runs
    ]
    net_loss = np.stack([r.net.test_loss[-1] for r in runs])
    lin_loss = np.stack([r.lin.test_loss[-1] for r in runs])
    numbers["net_test_loss"] = np.nanmean(net_loss, axis=1).tolist()
    numbers["lin_test_loss"] = np.nanmean(lin_loss, axis=1).tolist()
    numbers["lin_test_loss_smallest_width"] = float(np.nanmean(lin_loss[0]))
    numbers["net_test_loss_smallest_width"] = float(np.nanmean(net_loss[0]))
    # paired: the net and its linearization share θ_0
    numbers["lin_minus_net_test_loss_smallest_width"] = fits.bootstrap_mean(
        lin_loss[0] - net_loss[0]
    )
    numbers["lin_minus_net_test_loss"] = [fits.bootstrap_mean(d) for d in lin_loss - net_loss]
    lin_fig = figure_data.Linearization(
        widths=widths,
        rmse_f_g=sup_gap,
        rate_f_minus_g=Interval.of(numbers["slope_f_minus_g"]),
        lin_minus_net_test_loss=Intervals.of(numbers["lin_minus_net_test_loss"]),
    )

    return lin_fig, net_loss, lin_loss


def _generalization(
    runs: Sequence[Run],
    widths: np.ndarray,
    spec: Mapping[str, Any],
    data: Mapping[str, np.ndarray],
    kernels: Mapping[str, np.ndarray],
    numbers: dict[str, Any],
    net_loss: np.ndarray,
    lin_loss: np.ndarray,
) -> figure_data.Generalization:
    """E6: the finite nets against the NTK Gaussian of neural-tangents at t = ∞ (converged).

    Over 80 lines by design: the NTK Gaussian's moments, computed once at its top, are what
    every gap and accuracy is measured against."""
    n = runs[0].n_train
    x, y = np.asarray(data["x_train"][:n]), np.asarray(data["y_train"][:n])
    x_test, y_test, labels = data["x_test"], data["y_test"], data["labels_test"]
    mspec = model_spec(spec["model"], width=1, out_dim=1)
    lr = float(np.median(runs[-1].lr))  # irrelevant at t = ∞; the widest nets' rate
    gp = nt_reference.nt_gp_moments(mspec, x, y, x_test, np.array([np.inf]), lr=lr)
    sub = {
        "ntk_train_train": kernels["ntk_train_train"][:n, :n],
        "ntk_test_train": kernels["ntk_test_train"][:, :n],
        "nngp_train_train": kernels["nngp_train_train"][:n, :n],
        "nngp_test_train": kernels["nngp_test_train"][:, :n],
        "nngp_test_test": kernels["nngp_test_test"],
    }
    ours = predict.gp_moments(sub, y, np.array([np.inf]), lr=lr)
    nngp = predict.gp_moments(sub, y, np.array([np.inf]), lr=lr, kernel="nngp")
    mean, cov = gp["mean"][0], gp["cov"][0]
    bias_loss = float(_loss(mean, y_test))
    variance_loss = float(0.5 * np.mean(np.diagonal(cov)))
    # our recursion + spectral code against neural-tangents, and our spectral code alone on
    # neural-tangents' own kernels (separates the two sources of difference)
    numbers["nt_agreement"] = predict.gaussian_difference(ours, gp)
    on_nt = predict.gp_moments(
        nt_reference.nt_kernels(mspec, x, x_test), y, np.array([np.inf]), lr=lr
    )
    numbers["nt_agreement_predict"] = predict.gaussian_difference(on_nt, gp)
    numbers["ntk_condition"] = float(ours["condition_number"])
    numbers["ntk_test_loss_inf"] = bias_loss + variance_loss
    numbers["ntk_mean_test_loss_inf"] = bias_loss
    numbers["nngp_test_loss_inf"] = float(
        predict.expected_test_mse(nngp["mean"], nngp["cov"], y_test)[0]
    )
    net_f, cen_f, cen_loss, gaps = _gaps(runs, y_test, bias_loss, variance_loss, net_loss, numbers)
    net_acc = predict.accuracy(net_f, labels)  # (W, S)
    cen_acc = predict.accuracy(cen_f, labels)
    lin_acc = np.stack([predict.accuracy(r.lin.f_test_final, labels) for r in runs])
    ens_acc = predict.accuracy(net_f.mean(1), labels)
    ntk_acc = float(predict.accuracy(mean, labels))
    numbers.update(
        {
            "ntk_mean_accuracy_inf": ntk_acc,
            "nngp_mean_accuracy_inf": float(predict.accuracy(nngp["mean"][0], labels)),
            "net_accuracy": np.nanmean(net_acc, axis=1).tolist(),
            "net_accuracy_widest": float(np.nanmean(net_acc[-1])),
            "centred_accuracy": np.nanmean(cen_acc, axis=1).tolist(),
            "centred_accuracy_widest": float(np.nanmean(cen_acc[-1])),
            "net_ensemble_accuracy": ens_acc.tolist(),
            "net_ensemble_accuracy_widest": float(ens_acc[-1]),
            "net_test_loss_widest": float(np.nanmean(net_loss[-1])),
            "centred_test_loss_widest": float(np.nanmean(cen_loss[-1])),
            "diverged_runs": int(sum(r.net.diverged.sum() + r.cen.diverged.sum() for r in runs)),
        }
    )
    return figure_data.Generalization(
        widths=widths,
        net_test_loss=net_loss,
        lin_test_loss=lin_loss,
        centred_test_loss=cen_loss,
        net_accuracy=net_acc,
        lin_accuracy=lin_acc,
        net_ensemble_accuracy=ens_acc,
        # the NTK Gaussian's expected test loss, and that of its mean (the centred limit)
        ntk_test_loss=bias_loss + variance_loss,
        ntk_mean_test_loss=bias_loss,
        nngp_test_loss=numbers["nngp_test_loss_inf"],
        ntk_accuracy=ntk_acc,
        gaps=gaps,
    )


def _gaps(
    runs: Sequence[Run],
    y_test: np.ndarray,
    bias_loss: float,
    variance_loss: float,
    net_loss: np.ndarray,
    numbers: dict[str, Any],
):
    """E6's gaps to the NTK Gaussian at t = ∞: of each net, each centred net and the ensemble
    of the seeds, with their intervals; returns the nets' outputs, the centred losses and the
    figure's gaps by name."""
    net_f = np.stack([r.net.f_test_final for r in runs])  # (W, S, n*, K)
    cen_f = np.stack([r.cen.f_test_final for r in runs])
    cen_loss = _loss(cen_f, y_test)  # (W, S)
    gap = {"standard": net_loss - (bias_loss + variance_loss), "centred": cen_loss - bias_loss}
    # E6 as an equivalence: the signed gap relative to the loss it is compared with (the gap
    # changes sign with width, so the size of its rate is no question to ask)
    reference = {"standard": bias_loss + variance_loss, "centred": bias_loss}
    for name, g in gap.items():
        per_width = [fits.bootstrap_mean(v) for v in g]
        numbers[f"gap_{name}"] = per_width
        numbers[f"rel_gap_{name}"] = [fits.bootstrap_mean(v / reference[name]) for v in g]
    ens = [ensemble_gap(f, y_test, bias_loss, variance_loss, seed=i) for i, f in enumerate(net_f)]
    ens_records = [
        fits.interval_record(
            point,
            reps,
            jackknife=[ensemble_gap_jackknife(f, y_test, bias_loss, variance_loss)],
            n_seeds=int(net_f.shape[1]),
        )
        for (point, reps), f in zip(ens, net_f, strict=True)
    ]
    numbers["gap_ensemble"] = ens_records
    ens_reference = bias_loss + variance_loss / net_f.shape[1]
    numbers["rel_gap_ensemble"] = [
        {
            **r,
            **{k: r[k] / ens_reference for k in ("mean", "lo", "hi")},
            "cdist": [v / ens_reference for v in r["cdist"]],
        }
        for r in ens_records
    ]
    for name in ("standard", "centred", "ensemble"):
        numbers[f"gap_{name}_widest"] = numbers[f"gap_{name}"][-1]
        numbers[f"gap_{name}_smallest"] = numbers[f"gap_{name}"][0]
        numbers[f"rel_gap_{name}_widest"] = numbers[f"rel_gap_{name}"][-1]
    gaps = {
        name: Intervals.of(numbers[f"gap_{name}"]) for name in ("standard", "centred", "ensemble")
    }
    return net_f, cen_f, cen_loss, gaps
