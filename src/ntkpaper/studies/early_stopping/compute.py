"""E8: spectral early stopping under label noise (the slides' "bonus", slide 16).

Setting: digits with a fraction of the training labels replaced by a wrong class; targets
one-hot minus 1/K of the (noisy) training labels; test error against the CLEAN test labels.
Conventions of ``ntkpaper.kernels.spectral``: loss 0.5·mean((f − y)²) over m = n·K entries, time t
counts full-batch gradient-descent steps at learning rate η. The infinite-width network's
mean (f_0 = 0, the average over initializations) after t steps is the closed form

    f*_t = Θ(x*, X)·Θ⁻¹·(I − (I − ηΘ/m)^t)·y = Σ_k [1 − (1 − ηλ_k/m)^t]/λ_k · Θ(x*,X) v_k v_kᵀ y,

so the training residual's component along eigenvector v_k shrinks by (1 − ηλ_k/m)^t. The
label signal of digits sits mostly in the leading kernel components, the corrupted labels
spread over all of them, so the slow tail is where the noise is fitted.

Label-noise draws. Which labels are corrupted is itself random, so every comparison is
repeated over ``draws`` independent corruptions of the same clean training labels: draw 0 is
the data set's own (the one the finite nets train on), draw i ≥ 1 corrupts the same number of
clean labels afresh with the key ``keys.fold(key, "noise", i)`` (``data.corrupt_labels``), so
the draws follow from the config's seed. Θ does not depend on the labels: one
eigendecomposition serves every draw, and the spectral rule's stop time is the same for all.
Each draw has its own validation split (``keys.fold(key, "validation", i)``). Every compared
quantity gets a BCa interval over the draws (``ntkpaper.statistics.fits``; paired: the rules share a
draw).

Stopping rules:

1. spectral: stop once the top-k modes have decayed to ``eps`` of their start,
   t_spec = min{t : (1 − ηλ_j/m)^t ≤ eps for all j ≤ k} (``spectral.spectral_stop_time``).
   It needs the spectrum only — no held-out data and no test labels.
2. validation: hold out ``val_fraction`` of the (noisy) training set, run the same closed
   form on the rest and stop at the grid time of smallest validation MSE. We report the
   held-out predictor itself (what a practitioner deploys) and, as "refit", the full-data
   predictor stopped at that same step count (the per-mode rates η·λ_k/m hardly depend on
   n, because λ_k(Θ) and m both scale with n).
3. oracle: the grid time of smallest test MSE (needs the test labels: a bound, not a rule).
4. t = ∞: kernel regression on the noisy labels (training to convergence).
5. tuned ridge (a baseline, not a stopping rule): kernel ridge regression
   Θ(x*,X)·(Θ + r·(tr Θ/n)·I)⁻¹·y with r chosen from ``RIDGES`` by the validation MSE of the
   predictor fitted on the same holdout's fit part; reported refitted on all n points with
   that r ("ridge") and as the held-out predictor ("ridge_held").

Closeness to the oracle is also measured on the part of the test MSE a stopping time can
change: the gain fraction (MSE_∞ − MSE_rule)/(MSE_∞ − MSE_oracle), 1 at the oracle and 0 at
t = ∞ (mean over draws above and below: a ratio of means).

The expected test MSE of ONE randomly initialized network also carries the variance of its
initial function: with A_t = Θ(x*,X)·Θ⁻¹·(I − (I − ηΘ/m)^t) and K the NNGP kernel,
Var f*_t(x*) = K(x*,x*) + [A_t K A_tᵀ](x*,x*) − 2·[A_t K(X,x*)](x*) (Lee et al. 2019); finite
nets (trained on draw 0) are compared with that curve, their seed average with the mean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper.data.datasets import centered_one_hot, corrupt_labels
from ntkpaper.kernels import predict, spectral
from ntkpaper.networks import train
from ntkpaper.networks.models import init_ensemble, make_apply, model_spec
from ntkpaper.pipeline import keys
from ntkpaper.pipeline.records import Interval, Record
from ntkpaper.statistics import fits, rates
from ntkpaper.studies.early_stopping.figure_data import EarlyStopping, NetCurves, RatioToOracle

N_TIMES = 200  # closed-form time grid, log-spaced steps
N_RECORDS = 30  # recording steps of the finite nets (plus the rules' stop times)
N_VAR_TIMES = 40  # times of the init-variance curve
TRACE_FRACTIONS = (0.5, 0.9)  # spectrum-only choices of k reported beside the configured one
N_K = 60  # values of k in the spectral rule's sensitivity curve
HORIZON = 20.0  # the grid ends when the slowest mode has decayed by e^-20: "t = ∞"
# The tuned ridge's grid, r in units of the mean eigenvalue tr Θ/n (the diag_reg of
# neural-tangents): 0 (kernel regression, = t = ∞) and 10^-6 … 10^3, ten per decade.
RIDGES = np.concatenate([[0.0], np.logspace(-6.0, 3.0, 91)])
RULES = ("spectral", "validation", "validation_refit", "oracle", "infinite", "ridge", "ridge_held")


@dataclass(frozen=True)
class Nets(Record):
    """The finite nets, every width's seeds trained for ``steps`` on draw 0's labels; without
    widths only ``widths`` (empty) and ``steps`` are stored."""

    widths: np.ndarray  # (W,) int64, ascending
    steps: np.ndarray  # (R,) int64 recording steps (log-spaced ∪ the rules' stop times)
    test_mse: np.ndarray | None = None  # (W, R, S)
    test_acc: np.ndarray | None = None  # (W, R, S)
    ens_test_mse: np.ndarray | None = None  # (W, R) of the seeds' average
    ens_test_acc: np.ndarray | None = None  # (W, R)
    diverged: np.ndarray | None = None  # (W, S) bool


@dataclass(frozen=True)
class Run(Record):
    """The whole instance (not sharded): the closed-form curves on the time grid ``times``
    (T,) for each of the D label-noise draws, the label-independent spectral quantities, and
    the finite nets. Arrays with a leading D axis are per draw; draw 0 is the data set's."""

    lr: float
    eta_crit: float
    top_k: int
    eps: float
    t_end: float  # the finite nets' last step
    val_fraction: float
    m: int  # y.size
    n_train: int
    n_test: int
    noise_fraction: float  # of the training labels (the same in every draw)
    gram_values: np.ndarray  # (n_train,) eigenvalues of Θ, descending
    times: np.ndarray  # (T,) float64 steps
    t_spectral: float  # label-independent: the same for every draw
    test_mse: np.ndarray  # (D, T)
    test_acc: np.ndarray  # (D, T)
    train_noisy_fit: np.ndarray  # (D, T) fraction of corrupted points fitted to their label
    times_expected: np.ndarray  # (T_var,) the coarse grid of the init-variance curve
    test_mse_expected: np.ndarray  # (T_var,) of one net on draw 0, its init variance included
    inf_test_mse: np.ndarray  # (D,) t = ∞: kernel regression
    inf_test_acc: np.ndarray  # (D,)
    inf_test_mse_expected: float  # draw 0
    inf_train_noisy_fit: np.ndarray  # (D,)
    val_mse: np.ndarray  # (D, T) of the held-out predictor on the validation points
    held_test_mse: np.ndarray  # (D, T) of the held-out predictor on the test set
    held_test_acc: np.ndarray  # (D, T)
    n_validation: int
    ridges: np.ndarray  # (R,) the ridge grid, units of tr Θ/n
    ridge_val_mse: np.ndarray  # (D, R) of the ridge predictor fitted on the fit part
    ridge_held_test_mse: np.ndarray  # (D, R) of the same on the test set
    ridge_held_test_acc: np.ndarray  # (D, R)
    ridge_test_mse: np.ndarray  # (D, R) of the ridge predictor fitted on all n points
    ridge_test_acc: np.ndarray  # (D, R)
    ridge_train_noisy_fit: np.ndarray  # (D, R)
    trace_fractions: np.ndarray  # (F,) as TRACE_FRACTIONS
    k_trace: np.ndarray  # (F,) the smallest k holding that fraction of the trace
    t_trace: np.ndarray  # (F,) the spectral rule's stop time with that k
    k_grid: np.ndarray  # (N_k,) int64 values of k
    k_grid_t: np.ndarray  # (N_k,) the spectral rule's stop time with each
    k_grid_test_mse: np.ndarray  # (D, N_k)
    k_grid_test_acc: np.ndarray  # (D, N_k)
    net: Nets


# ----------------------------------------------------------------------------- closed form


def time_grid(gram_values: np.ndarray, *, lr: float, m: int, n_times: int = N_TIMES) -> np.ndarray:
    """0 and ~n_times log-spaced integer steps up to HORIZON/slowest per-step rate."""
    rates = spectral.mode_rates(gram_values, lr=lr, m=m, discrete=True)
    slowest = float(np.min(rates[rates > 0]))
    t_max = max(np.ceil(HORIZON / slowest), 10.0)
    return np.unique(np.concatenate([[0.0], np.round(np.geomspace(1.0, t_max, n_times))]))


def test_mse(f: np.ndarray, y: np.ndarray) -> np.ndarray:
    """0.5·mean((f − y)²) over the last two axes."""
    return 0.5 * np.mean((f - y) ** 2, axis=(-2, -1))


def init_variance(
    dyn: spectral.SpectralDynamics,
    times: np.ndarray,
    *,
    nngp_train: np.ndarray,
    nngp_test_train: np.ndarray,
    nngp_test_diag: np.ndarray,
) -> np.ndarray:
    """Var over initializations of f*_t(x*) per test point, (T, n_test) (module docstring).

    Works in the eigenbasis: with P = Θ(x*,X)·V and g_k(t) = (1 − decay_k(t))/λ_k,
    A_t = P·diag(g)·Vᵀ, so diag(A K Aᵀ) = rowsum((P g)·K̃ ∘ (P g)) with K̃ = Vᵀ K V and
    diag(A K(X,x*)) = rowsum(P g ∘ Q) with Q = K(x*,X)·V.
    """
    lam = np.maximum(dyn.gram_values, 0.0)
    decay = dyn.decay(times)
    positive = lam > 0
    gain = np.where(
        positive,
        (1.0 - decay) / np.where(positive, lam, 1.0),
        dyn.lr * np.asarray(times)[:, None] / dyn.m,
    )
    gain = np.where(np.isinf(np.asarray(times))[:, None] & ~positive, 0.0, gain)
    k_tilde = dyn.vectors.T @ nngp_train @ dyn.vectors
    q = nngp_test_train @ dyn.vectors
    out = []
    for g in gain:
        pg = dyn.test_projection * g[None, :]
        out.append(nngp_test_diag + np.sum((pg @ k_tilde) * pg, axis=1) - 2 * np.sum(pg * q, 1))
    return np.maximum(np.array(out), 0.0)


def noisy_fit_fraction(f_train: np.ndarray, labels: np.ndarray, noisy: np.ndarray) -> np.ndarray:
    """Fraction of the corrupted training points predicted as their (wrong) noisy label."""
    if not noisy.any():
        return np.zeros(f_train.shape[:-2])
    return np.mean(np.argmax(f_train[..., noisy, :], axis=-1) == labels[noisy], axis=-1)


def n_validation(n: int, fraction: float) -> int:
    """The number of points ``validation_split`` holds out: round(fraction·n), in [1, n−1]."""
    return int(min(max(round(fraction * n), 1), n - 1))


def validation_split(n: int, fraction: float, *, key) -> tuple[np.ndarray, np.ndarray]:
    """(fit, validation) indices: a random ``fraction`` of the n points held out."""
    n_val = n_validation(n, fraction)
    order = np.asarray(jax.random.permutation(key, n))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def label_draws(
    data: Mapping[str, np.ndarray], n_draws: int, *, key
) -> tuple[np.ndarray, np.ndarray]:
    """(labels, noisy), each (n_draws, n): draw 0 the data set's corrupted labels, draw i ≥ 1
    a fresh corruption of the clean labels with as many wrong labels (module docstring)."""
    if "clean_labels_train" not in data:
        raise ValueError("early_stopping needs a classification data set (digits or idx)")
    clean = np.asarray(data["clean_labels_train"])
    n_classes = int(data["y_train"].shape[1])
    fraction = float(np.sum(data["noisy_train"])) / len(clean)
    labels, noisy = [np.asarray(data["labels_train"])], [np.asarray(data["noisy_train"], bool)]
    for i in range(1, n_draws):
        lab, mask = corrupt_labels(clean, fraction, n_classes, key=keys.fold(key, "noise", i))
        labels.append(lab)
        noisy.append(mask)
    return np.stack(labels), np.stack(noisy)


def ridge_gain(gram_values: np.ndarray, ridges: np.ndarray) -> np.ndarray:
    """1/(λ_k + r·mean λ) for each ridge r (rows) and mode k, 0 where that is 0/0: (R, n).
    The mean eigenvalue is tr Θ/n, the scale of neural-tangents' diag_reg."""
    lam = np.maximum(np.asarray(gram_values, np.float64), 0.0)
    denom = lam[None, :] + np.asarray(ridges, np.float64)[:, None] * lam.mean()
    return np.where(denom > 0, 1.0 / np.where(denom > 0, denom, 1.0), 0.0)


def apply_gain(projection: np.ndarray, gain: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """projection·diag(gain_r)·coeffs for each row r of gain: (R, n_out, K). With projection
    Θ(x*,X)·V, gain 1/(λ + ridge) and coeffs Vᵀy this is kernel ridge regression."""
    out = np.tensordot(projection, gain[:, :, None] * coeffs[None], axes=(1, 1))
    return np.moveaxis(out, 1, 0)


def closed_form(
    spec: Mapping[str, Any],
    data: Mapping[str, np.ndarray],
    kernels: Mapping[str, np.ndarray],
    *,
    key,
) -> dict[str, Any]:
    """Test-error curves of the infinite-width predictor, the rules' stop times and the
    ridge baseline for every label-noise draw: the fields of `Run` but eta_crit and net.

    Over 80 lines by design: the rules' stop times, the error curves and the ridge baseline of
    a draw all come from the one eigendecomposition shared in its loop."""
    lr, top_k, eps = float(spec["lr"]), int(spec["top_k"]), float(spec["eps"])
    y_test = np.asarray(data["y_test"], np.float64)
    labels_test = data["labels_test"]
    k_train, k_test = kernels["ntk_train_train"], kernels["ntk_test_train"]
    labels, noisy = label_draws(data, int(spec["draws"]), key=key)
    n_classes = int(data["y_train"].shape[1])
    targets = [centered_one_hot(lab, n_classes) for lab in labels]
    # Θ does not depend on the labels: one decomposition, one time grid, one spectral stop.
    dyn = spectral.spectral_dynamics(k_train, targets[0], lr=lr, k_test_train=k_test, discrete=True)
    m, n = targets[0].size, len(targets[0])
    t_spec = spectral.spectral_stop_time(
        dyn.gram_values, k=top_k, eps=eps, lr=lr, m=m, discrete=True
    )
    # k from the spectrum alone: the smallest k holding a fraction of the trace
    k_trace = np.array(
        [spectral.k_by_trace_fraction(dyn.gram_values, fraction=f) for f in TRACE_FRACTIONS]
    )
    t_trace = np.array(
        [
            spectral.spectral_stop_time(
                dyn.gram_values, k=int(k), eps=eps, lr=lr, m=m, discrete=True
            )
            for k in k_trace
        ]
    )
    t_end = float(spec["steps"])  # the finite nets' last step, for comparisons
    times = np.union1d(time_grid(dyn.gram_values, lr=lr, m=m), [t_spec, t_end, *t_trace])
    # Sensitivity of the spectral rule to k (same eps)
    ks = np.unique(np.round(np.geomspace(1, n, N_K)).astype(np.int64))
    t_k = np.array(
        [
            spectral.spectral_stop_time(
                dyn.gram_values, k=int(k), eps=eps, lr=lr, m=m, discrete=True
            )
            for k in ks
        ]
    )
    gain = ridge_gain(dyn.gram_values, RIDGES)  # RIDGES[0] = 0: kernel regression, t = ∞
    lam = np.maximum(dyn.gram_values, 0.0)

    out: dict[str, list] = {}

    def keep(**values):
        for name, value in values.items():
            out.setdefault(name, []).append(value)

    for i, (y, lab, bad) in enumerate(zip(targets, labels, noisy, strict=True)):
        draw = dyn._replace(y_train=y)
        f_test = draw.predict_test(times, 0.0)
        coeffs = dyn.vectors.T @ y
        f_ridge = apply_gain(dyn.test_projection, gain, coeffs)  # (R, n_test, K)
        f_ridge_train = apply_gain(dyn.vectors, lam[None] * gain, coeffs)
        # Validation holdout: the same dynamics on the fit part, on validation + test.
        fit, val = validation_split(
            n, float(spec["val_fraction"]), key=keys.fold(key, "validation", i)
        )
        held = spectral.spectral_dynamics(
            k_train[np.ix_(fit, fit)],
            y[fit],
            lr=lr,
            discrete=True,
            k_test_train=np.concatenate([k_train[np.ix_(val, fit)], k_test[:, fit]]),
        )
        f_held = held.predict_test(times, 0.0)
        f_held_ridge = apply_gain(
            held.test_projection, ridge_gain(held.gram_values, RIDGES), held.vectors.T @ y[fit]
        )
        f_k = draw.predict_test(t_k, 0.0)
        nv = len(val)
        keep(
            test_mse=test_mse(f_test, y_test),
            test_acc=predict.accuracy(f_test, labels_test),
            train_noisy_fit=noisy_fit_fraction(draw.predict_train(times, 0.0), lab, bad),
            ridge_test_mse=test_mse(f_ridge, y_test),
            ridge_test_acc=predict.accuracy(f_ridge, labels_test),
            ridge_train_noisy_fit=noisy_fit_fraction(f_ridge_train, lab, bad),
            val_mse=test_mse(f_held[:, :nv], y[val]),
            held_test_mse=test_mse(f_held[:, nv:], y_test),
            held_test_acc=predict.accuracy(f_held[:, nv:], labels_test),
            ridge_val_mse=test_mse(f_held_ridge[:, :nv], y[val]),
            ridge_held_test_mse=test_mse(f_held_ridge[:, nv:], y_test),
            ridge_held_test_acc=predict.accuracy(f_held_ridge[:, nv:], labels_test),
            k_grid_test_mse=test_mse(f_k, y_test),
            k_grid_test_acc=predict.accuracy(f_k, labels_test),
        )
        if i == 0:
            f_test0 = f_test  # draw 0's curves, for one network's expected MSE

    stacked = {name: np.stack(values) for name, values in out.items()}
    mse0 = stacked["test_mse"][0]
    # One network's expected MSE on draw 0 (the finite nets' labels). The variance costs an
    # (n_test, n)·(n, n) product per time: a coarse grid that holds the spectral and oracle
    # stop times is enough for a curve. It does not depend on the labels.
    var_kw = {
        "nngp_train": kernels["nngp_train_train"],
        "nngp_test_train": kernels["nngp_test_train"],
        "nngp_test_diag": np.diagonal(kernels["nngp_test_test"]),
    }
    coarse = np.unique(
        np.concatenate(
            [
                times[np.linspace(0, len(times) - 1, N_VAR_TIMES).astype(int)],
                [t_spec, t_end, times[np.argmin(mse0)]],
            ]
        )
    )
    variance = init_variance(dyn, coarse, **var_kw)
    variance_inf = init_variance(dyn, np.array([np.inf]), **var_kw)[0]
    f_coarse = f_test0[np.searchsorted(times, coarse)]
    return {
        "lr": np.float64(lr),
        "top_k": np.int64(top_k),
        "eps": np.float64(eps),
        "t_end": np.float64(t_end),
        "val_fraction": np.float64(spec["val_fraction"]),
        "m": np.int64(m),
        "n_train": np.int64(n),
        "n_test": np.int64(len(y_test)),
        "noise_fraction": np.float64(np.mean(noisy[0])),
        "gram_values": dyn.gram_values,
        "times": times,
        "t_spectral": np.float64(t_spec),
        "times_expected": coarse,
        "test_mse_expected": test_mse(f_coarse, y_test) + 0.5 * variance.mean(axis=1),
        "inf_test_mse": stacked["ridge_test_mse"][:, 0],
        "inf_test_acc": stacked["ridge_test_acc"][:, 0],
        "inf_test_mse_expected": np.float64(
            stacked["ridge_test_mse"][0, 0] + 0.5 * variance_inf.mean()
        ),
        "inf_train_noisy_fit": stacked["ridge_train_noisy_fit"][:, 0],
        "n_validation": np.int64(n_validation(n, float(spec["val_fraction"]))),
        "ridges": RIDGES.copy(),
        "trace_fractions": np.asarray(TRACE_FRACTIONS),
        "k_trace": k_trace,
        "t_trace": t_trace,
        "k_grid": ks,
        "k_grid_t": t_k,
        **stacked,
    }


# ----------------------------------------------------------------------------- finite nets


def train_nets(
    spec: Mapping[str, Any], data: Mapping[str, np.ndarray], *, key, extra_steps=()
) -> Nets:
    """Test MSE / accuracy of finite nets (widths × seeds) at log-spaced steps ∪ extra_steps,
    trained on the data set's labels (draw 0)."""
    widths = sorted(int(w) for w in spec["widths"])
    steps = int(spec["steps"])
    extra = [int(t) for t in extra_steps if 0 <= t <= steps]
    record_steps = np.union1d(train.log_spaced_steps(steps, N_RECORDS), extra).astype(np.int64)
    if not widths:
        return Nets(widths=np.asarray(widths, np.int64), steps=record_steps)
    x, y = data["x_train"], data["y_train"]
    mse, acc, ens_mse, ens_acc, diverged = [], [], [], [], []
    for width in widths:
        mspec = model_spec(spec["model"], width=width, out_dim=y.shape[1])
        params0 = init_ensemble(
            mspec,
            key=keys.fold(key, "init", width),
            in_dim=x.shape[1],
            n_seeds=int(spec["seeds"]),
            dtype=jnp.float32,
        )
        rec, _ = train.train(
            make_apply(mspec),
            params0,
            x,
            y,
            data["x_test"],
            data["y_test"],
            lr=float(spec["lr"]),
            steps=steps,
            record_steps=record_steps,
        )
        f_test = np.asarray(rec.f_test, np.float64)  # (R, S, n_test, K)
        mse.append(np.asarray(rec.test_loss, np.float64))
        acc.append(predict.accuracy(f_test, data["labels_test"]))
        ens = np.mean(f_test, axis=1)
        ens_mse.append(test_mse(ens, data["y_test"]))
        ens_acc.append(predict.accuracy(ens, data["labels_test"]))
        diverged.append(rec.diverged)
    return Nets(
        widths=np.asarray(widths, np.int64),
        steps=record_steps,
        test_mse=np.stack(mse),
        test_acc=np.stack(acc),
        ens_test_mse=np.stack(ens_mse),
        ens_test_acc=np.stack(ens_acc),
        diverged=np.stack(diverged),
    )


def run(
    spec: Mapping[str, Any],
    data: Mapping[str, np.ndarray],
    *,
    key,
    kernels: Mapping[str, np.ndarray],
) -> Run:
    rate = rates.resolve(spec["lr"], kernels["ntk_train_train"], m=data["y_train"].size)
    spec = {**spec, "lr": rate["lr"]}
    out = closed_form(spec, data, kernels, key=key)
    t_val = out["times"][int(np.argmin(out["val_mse"][0]))]  # draw 0: the nets' labels
    nets = train_nets(spec, data, key=key, extra_steps=(out["t_spectral"], t_val))
    return Run(**out, eta_crit=float(rate["eta_crit"]), net=nets)


# ----------------------------------------------------------------------------- analysis


def _at(times: np.ndarray, values: np.ndarray, t: float) -> float:
    """values at the grid time t (t is on the grid by construction)."""
    idx = np.flatnonzero(times == t)
    return float(values[idx[0]]) if idx.size else float("nan")


def rule_draws(run: Run) -> dict[str, dict[str, np.ndarray]]:
    """Per draw (arrays of length D): each rule's stop step ``t`` (or chosen ``ridge``), test
    MSE, test accuracy and, for full-data predictors, the corrupted labels fitted."""
    times = run.times
    draws = np.arange(run.test_mse.shape[0])

    def at(i: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "t": times[i],
            "test_mse": run.test_mse[draws, i],
            "test_acc": run.test_acc[draws, i],
            "noisy_fit": run.train_noisy_fit[draws, i],
        }

    def grid_index(t: float) -> np.ndarray:
        return np.full(len(draws), int(np.flatnonzero(times == t)[0]))

    i_val = np.argmin(run.val_mse, axis=1)
    j = np.argmin(run.ridge_val_mse, axis=1)
    out = {
        "spectral": at(grid_index(float(run.t_spectral))),
        "validation": {
            "t": times[i_val],
            "test_mse": run.held_test_mse[draws, i_val],
            "test_acc": run.held_test_acc[draws, i_val],
        },
        "validation_refit": at(i_val),
        # the oracle: the earliest grid time of smallest test MSE (as spectral.oracle_stop)
        "oracle": at(np.argmin(run.test_mse, axis=1)),
        "infinite": {
            "test_mse": run.inf_test_mse,
            "test_acc": run.inf_test_acc,
            "noisy_fit": run.inf_train_noisy_fit,
        },
        "ridge": {
            "ridge": run.ridges[j],
            "test_mse": run.ridge_test_mse[draws, j],
            "test_acc": run.ridge_test_acc[draws, j],
            "noisy_fit": run.ridge_train_noisy_fit[draws, j],
        },
        "ridge_held": {
            "ridge": run.ridges[j],
            "test_mse": run.ridge_held_test_mse[draws, j],
            "test_acc": run.ridge_held_test_acc[draws, j],
        },
    }
    for frac, t in zip(run.trace_fractions, run.t_trace, strict=True):
        out[f"trace_{round(100 * frac)}"] = at(grid_index(float(t)))
    return out


def summarize(
    rule: Mapping[str, np.ndarray], oracle: Mapping[str, np.ndarray], infinite: Mapping
) -> dict[str, Any]:
    """One rule over the draws: mean test MSE and accuracy, the ratio of its mean test MSE to
    the oracle's and the gain fraction (MSE_∞ − MSE)/(MSE_∞ − MSE_oracle), each with its BCa
    interval over the draws (paired: the same draws); the stop step's median and range."""
    mse, inf = rule["test_mse"], infinite["test_mse"]
    out: dict[str, Any] = {
        "test_mse": fits.bootstrap_mean(mse),
        "test_acc": fits.bootstrap_mean(rule["test_acc"]),
        "ratio_to_oracle": fits.bootstrap_ratio(mse, oracle["test_mse"]),
        "gain_fraction": fits.bootstrap_ratio(inf - mse, inf - oracle["test_mse"]),
    }
    if "noisy_fit" in rule:
        out["noisy_fit"] = float(np.mean(rule["noisy_fit"]))
    if "t" in rule:
        t = np.asarray(rule["t"], np.float64)
        out.update(t=int(np.round(np.median(t))), t_min=int(t.min()), t_max=int(t.max()))
    if "ridge" in rule:
        r = np.asarray(rule["ridge"], np.float64)
        out.update(ridge=float(np.median(r)), ridge_min=float(r.min()), ridge_max=float(r.max()))
    return out


NET_FIELDS = (
    "width",
    "test_mse_spectral",
    "test_acc_spectral",
    "test_mse_validation",
    "test_acc_validation",
    "test_mse_final",
    "test_acc_final",
    "test_mse_best",
    "t_best",
    "ens_test_mse_final",
    "ens_test_acc_final",
)


def _finite_numbers(nets: Nets, stops: Mapping[str, float]) -> dict[str, Any]:
    """Per-width lists (``net``) and the widest width's scalars (``net_widest``; None
    without finite nets, so the paper's macros exist for every configuration)."""
    widths = nets.widths
    per_width: dict[str, list] = {name: [] for name in NET_FIELDS}
    steps = nets.steps
    for i, width in enumerate(widths):
        mse = np.nanmean(nets.test_mse[i], axis=1)  # (R,) mean over seeds
        acc = np.nanmean(nets.test_acc[i], axis=1)
        best = int(np.nanargmin(mse))
        row = {
            "width": int(width),
            "test_mse_final": float(mse[-1]),
            "test_acc_final": float(acc[-1]),
            "test_mse_best": float(mse[best]),
            "t_best": int(steps[best]),
            "ens_test_mse_final": float(nets.ens_test_mse[i, -1]),
            "ens_test_acc_final": float(nets.ens_test_acc[i, -1]),
        }
        for name, t in stops.items():
            idx = np.flatnonzero(steps == t)
            row[f"test_mse_{name}"] = float(mse[idx[0]]) if idx.size else None
            row[f"test_acc_{name}"] = float(acc[idx[0]]) if idx.size else None
        for name in NET_FIELDS:
            per_width[name].append(row[name])
    return {
        "net": per_width,
        "net_widest": {
            name: (values[-1] if values else None) for name, values in per_width.items()
        },
        "net_steps": int(steps[-1]) if widths.size else None,
        "net_seeds": int(nets.test_mse.shape[2]) if widths.size else None,
        "net_diverged": int(nets.diverged.sum()) if widths.size else 0,
    }


# The rules compared in the figure's panel of per-draw ratios, in its order.
RATIO_RULES = ("spectral", "validation", "validation_refit", "ridge", "infinite")


def analyze(
    runs: Sequence[Run], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Numbers and figure data of E8: every rule's comparison reads the same per-draw arrays
    computed at its top."""
    (run,) = runs  # one run file: this kind is not sharded
    draws = rule_draws(run)
    orc, inf = draws["oracle"], draws["infinite"]
    table = {name: summarize(rule, orc, inf) for name, rule in draws.items()}
    gram = run.gram_values
    times = run.times
    spec_mse, spec_acc = draws["spectral"]["test_mse"], draws["spectral"]["test_acc"]
    k_mean = run.k_grid_test_mse.mean(axis=0)  # (N_k,) mean over draws
    best_k = int(np.argmin(k_mean))
    positive = run.ridges[run.ridges > 0]
    numbers: dict[str, Any] = {
        **rates.numbers(run.lr, run.eta_crit),
        "top_k": int(run.top_k),
        "eps": float(run.eps),
        "val_fraction": float(run.val_fraction),
        "n_train": int(run.n_train),
        "n_test": int(run.n_test),
        "n_validation": int(run.n_validation),
        "n_draws": int(run.test_mse.shape[0]),
        "noise_fraction": float(run.noise_fraction),
        "noise_percent": 100 * float(run.noise_fraction),
        "n_corrupted": round(float(run.noise_fraction) * int(run.n_train)),
        "top_k_trace_fraction": float(np.sum(gram[: int(run.top_k)]) / np.sum(gram)),
        "t_max": float(times[-1]),
        "ridge_grid_min": float(positive.min()),
        "ridge_grid_max": float(positive.max()),
        # draws whose validation picked the largest ridge of the grid (the grid too short)
        "ridge_at_grid_edge": int(np.sum(draws["ridge"]["ridge"] >= positive.max())),
        **table,
        # the paired comparisons over the draws (ratios of mean test MSEs, BCa intervals)
        "ratio_spectral_to_oracle": table["spectral"]["ratio_to_oracle"],
        "ratio_spectral_to_infinite": fits.bootstrap_ratio(spec_mse, inf["test_mse"]),
        "ratio_spectral_to_ridge": fits.bootstrap_ratio(spec_mse, draws["ridge"]["test_mse"]),
        "ratio_validation_to_oracle": table["validation"]["ratio_to_oracle"],
        "ratio_ridge_to_oracle": table["ridge"]["ratio_to_oracle"],
        "ratio_infinite_to_oracle": table["infinite"]["ratio_to_oracle"],
        "gain_spectral": table["spectral"]["gain_fraction"],
        "gain_validation": table["validation"]["gain_fraction"],
        "gain_ridge": table["ridge"]["gain_fraction"],
        # accuracy differences, paired per draw
        "acc_gain_spectral_vs_infinite": fits.bootstrap_mean(spec_acc - inf["test_acc"]),
        "acc_gain_spectral_vs_ridge": fits.bootstrap_mean(spec_acc - draws["ridge"]["test_acc"]),
        "acc_gain_oracle_vs_infinite": fits.bootstrap_mean(orc["test_acc"] - inf["test_acc"]),
        "t_ratio_spectral_to_oracle": float(run.t_spectral) / table["oracle"]["t"],
        "best_test_acc": float(np.max(run.test_acc.mean(axis=0))),
        # one network on draw 0 (the finite nets' labels): mean plus init variance
        "expected_test_mse_spectral": _at(
            run.times_expected, run.test_mse_expected, float(run.t_spectral)
        ),
        "expected_test_mse_oracle": _at(
            run.times_expected, run.test_mse_expected, float(draws["oracle"]["t"][0])
        ),
        "expected_test_mse_infinite": float(run.inf_test_mse_expected),
        "k_grid_best_k": int(run.k_grid[best_k]),
        "k_grid_best_ratio_to_oracle": float(k_mean[best_k] / np.mean(orc["test_mse"])),
    }
    for frac, k in zip(run.trace_fractions, run.k_trace, strict=True):
        name = f"trace_{round(100 * frac)}"
        numbers[f"k_trace_{round(100 * frac)}"] = int(k)
        numbers[name] = {"k": int(k), **table[name]}
    stops = {"spectral": float(run.t_spectral), "validation": float(draws["validation"]["t"][0])}
    numbers.update(_finite_numbers(run.net, stops))
    t_end = float(run.t_end)
    numbers["ntk_test_mse_at_net_end"] = _at(times, run.test_mse[0], t_end)
    numbers["ntk_test_acc_at_net_end"] = _at(times, run.test_acc[0], t_end)
    numbers["ntk_expected_test_mse_at_net_end"] = _at(
        run.times_expected, run.test_mse_expected, t_end
    )
    return numbers, {"early_stopping": _figure(run, draws, table, numbers)}


def _figure(
    run: Run,
    draws: Mapping[str, Mapping[str, np.ndarray]],
    table: Mapping[str, Mapping[str, Any]],
    numbers: Mapping[str, Any],
) -> EarlyStopping:
    """The figure's data: draw 0's curves, the rules' stops and their ratios to the oracle
    (`draws` as rule_draws, `table` each rule's summarize)."""
    orc, inf, ridge = draws["oracle"], draws["infinite"], draws["ridge"]
    nets = None
    if run.net.widths.size:
        nets = NetCurves(
            widths=run.net.widths,
            steps=run.net.steps,
            test_mse=np.nanmean(run.net.test_mse, axis=2),
            test_acc=np.nanmean(run.net.test_acc, axis=2),
        )
    return EarlyStopping(
        times=run.times,
        test_mse=run.test_mse[0],
        test_mse_lo=run.test_mse.min(axis=0),
        test_mse_hi=run.test_mse.max(axis=0),
        test_acc=run.test_acc[0],
        train_noisy_fit=run.train_noisy_fit[0],
        times_expected=run.times_expected,
        test_mse_expected=run.test_mse_expected,
        inf_test_mse=float(run.inf_test_mse[0]),
        ridge_test_mse=float(ridge["test_mse"][0]),
        n_draws=int(numbers["n_draws"]),
        stops={r: float(draws[r]["t"][0]) for r in ("spectral", "validation", "oracle")},
        nets=nets,
        k_grid=run.k_grid,
        k_grid_test_mse=run.k_grid_test_mse.mean(axis=0),
        eps=float(run.eps),
        top_k=int(run.top_k),
        k_trace_90=int(numbers["k_trace_90"]),
        oracle_test_mse_mean=float(np.mean(orc["test_mse"])),
        inf_test_mse_mean=float(np.mean(inf["test_mse"])),
        ridge_test_mse_mean=float(np.mean(ridge["test_mse"])),
        ratios={
            r: RatioToOracle(
                draws=draws[r]["test_mse"] / orc["test_mse"],
                mean=Interval.of(table[r]["ratio_to_oracle"]),
            )
            for r in RATIO_RULES
        },
    )
