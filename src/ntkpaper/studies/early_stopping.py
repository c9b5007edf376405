"""E8: spectral early stopping under label noise (the slides' "bonus", slide 16).

Setting: digits with a fraction of the training labels replaced by a wrong class; targets
one-hot minus 1/K of the (noisy) training labels; test error against the CLEAN test labels.
Conventions of ``ntkpaper.spectral``: loss 0.5·mean((f − y)²) over m = n·K entries, time t
counts full-batch gradient-descent steps at learning rate η. The infinite-width network's
mean (f_0 = 0, the average over initializations) after t steps is the closed form

    f*_t = Θ(x*, X)·Θ⁻¹·(I − (I − ηΘ/m)^t)·y = Σ_k [1 − (1 − ηλ_k/m)^t]/λ_k · Θ(x*,X) v_k v_kᵀ y,

so the training residual's component along eigenvector v_k shrinks by (1 − ηλ_k/m)^t. The
label signal of digits sits mostly in the leading kernel components, the corrupted labels
spread over all of them, so the slow tail is where the noise is fitted. Stopping rules:

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

The expected test MSE of ONE randomly initialized network also carries the variance of its
initial function: with A_t = Θ(x*,X)·Θ⁻¹·(I − (I − ηΘ/m)^t) and K the NNGP kernel,
Var f*_t(x*) = K(x*,x*) + [A_t K A_tᵀ](x*,x*) − 2·[A_t K(X,x*)](x*) (Lee et al. 2019); finite
nets are compared with that curve, their seed average with the mean.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper import keys, predict, rates, spectral, train
from ntkpaper.models import init_ensemble, make_apply, model_spec
from ntkpaper.records import Record

N_TIMES = 200  # closed-form time grid, log-spaced steps
N_RECORDS = 30  # recording steps of the finite nets (plus the rules' stop times)
N_VAR_TIMES = 40  # times of the init-variance curve
TRACE_FRACTIONS = (0.5, 0.9)  # spectrum-only choices of k reported beside the configured one
N_K = 60  # values of k in the spectral rule's sensitivity curve
HORIZON = 20.0  # the grid ends when the slowest mode has decayed by e^-20: "t = ∞"
RULES = ("spectral", "validation", "validation_refit", "oracle", "infinite")

# How the workflow runs this kind (read by ntkpaper.workflow without importing this module).
WORKFLOW = {"run_inputs": ["data", "kernels"], "priority": 15}


@dataclass(frozen=True)
class Nets(Record):
    """The finite nets, every width's seeds trained for ``steps``; without widths only
    ``widths`` (empty) and ``steps`` are stored."""

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
    (T,), the rules' stop times, and the finite nets."""

    lr: float
    eta_crit: float
    top_k: int
    eps: float
    t_end: float  # the finite nets' last step
    val_fraction: float
    m: int  # y.size
    n_train: int
    n_test: int
    noise_fraction: float  # of the training labels
    gram_values: np.ndarray  # (n_train,) eigenvalues of Θ, descending
    times: np.ndarray  # (T,) float64 steps
    t_spectral: float
    test_mse: np.ndarray  # (T,)
    test_acc: np.ndarray  # (T,)
    train_noisy_fit: np.ndarray  # (T,) fraction of corrupted points fitted to their label
    times_expected: np.ndarray  # (T_var,) the coarse grid of the init-variance curve
    test_mse_expected: np.ndarray  # (T_var,) of one net, its init variance included
    inf_test_mse: float  # t = ∞: kernel regression
    inf_test_acc: float
    inf_test_mse_expected: float
    inf_train_noisy_fit: float
    val_mse: np.ndarray  # (T,) of the held-out predictor on the validation points
    held_test_mse: np.ndarray  # (T,) of the held-out predictor on the test set
    held_test_acc: np.ndarray  # (T,)
    n_validation: int
    trace_fractions: np.ndarray  # (F,) as TRACE_FRACTIONS
    k_trace: np.ndarray  # (F,) the smallest k holding that fraction of the trace
    t_trace: np.ndarray  # (F,) the spectral rule's stop time with that k
    k_grid: np.ndarray  # (N_k,) int64 values of k
    k_grid_t: np.ndarray  # (N_k,) the spectral rule's stop time with each
    k_grid_test_mse: np.ndarray  # (N_k,)
    k_grid_test_acc: np.ndarray  # (N_k,)
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
    gain = np.where(positive, (1.0 - decay) / np.where(positive, lam, 1.0),
                    dyn.lr * np.asarray(times)[:, None] / dyn.m)  # fmt: skip
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


def validation_split(n: int, fraction: float, *, key) -> tuple[np.ndarray, np.ndarray]:
    """(fit, validation) indices: a random ``fraction`` of the n points held out."""
    n_val = int(min(max(round(fraction * n), 1), n - 1))
    order = np.asarray(jax.random.permutation(key, n))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def closed_form(
    spec: Mapping[str, Any],
    data: Mapping[str, np.ndarray],
    kernels: Mapping[str, np.ndarray],
    *,
    key,
) -> dict[str, Any]:
    """Test-error curves of the infinite-width predictor and every rule's stop time: the
    fields of `Run` but eta_crit and net."""
    lr, top_k, eps = float(spec["lr"]), int(spec["top_k"]), float(spec["eps"])
    y, y_test = np.asarray(data["y_train"], np.float64), np.asarray(data["y_test"], np.float64)
    labels_test = data["labels_test"]
    k_train, k_test = kernels["ntk_train_train"], kernels["ntk_test_train"]
    dyn = spectral.spectral_dynamics(k_train, y, lr=lr, k_test_train=k_test, discrete=True)
    m = y.size
    t_spec = spectral.spectral_stop_time(dyn.gram_values, k=top_k, eps=eps, lr=lr, m=m,
                                         discrete=True)  # fmt: skip
    # k from the spectrum alone: the smallest k holding a fraction of the trace
    k_trace = np.array([spectral.k_by_trace_fraction(dyn.gram_values, fraction=f)
                        for f in TRACE_FRACTIONS])  # fmt: skip
    t_trace = np.array([
        spectral.spectral_stop_time(dyn.gram_values, k=int(k), eps=eps, lr=lr, m=m, discrete=True)
        for k in k_trace
    ])  # fmt: skip
    t_end = float(spec["steps"])  # the finite nets' last step, for comparisons
    times = np.union1d(time_grid(dyn.gram_values, lr=lr, m=m), [t_spec, t_end, *t_trace])
    f_test = dyn.predict_test(times, 0.0)
    f_train = dyn.predict_train(times, 0.0)
    # t = ∞ is kernel regression; gp_moments evaluates it exactly (no decay factor).
    inf = predict.gp_moments(dict(kernels), y, np.array([np.inf]), lr=lr, compute_cov=False)
    f_inf = inf["mean"][0]
    null = dyn.gram_values <= 0  # t = ∞ interpolates y except along Θ's null space
    f_train_inf = y - dyn.vectors[:, null] @ (dyn.vectors[:, null].T @ y)
    var_kw = {"nngp_train": kernels["nngp_train_train"],
              "nngp_test_train": kernels["nngp_test_train"],
              "nngp_test_diag": np.diagonal(kernels["nngp_test_test"])}  # fmt: skip
    mse = test_mse(f_test, y_test)
    # The variance costs an (n_test, n)·(n, n) product per time: a coarse grid that holds
    # the spectral and oracle stop times is enough for a curve.
    coarse = np.unique(
        np.concatenate(
            [
                times[np.linspace(0, len(times) - 1, N_VAR_TIMES).astype(int)],
                [t_spec, t_end, times[np.argmin(mse)]],
            ]
        )
    )
    variance = init_variance(dyn, coarse, **var_kw)
    variance_inf = init_variance(dyn, np.array([np.inf]), **var_kw)[0]
    f_coarse = f_test[np.searchsorted(times, coarse)]

    # Validation holdout: the same dynamics on the fit part, evaluated on validation + test.
    fit, val = validation_split(len(y), float(spec["val_fraction"]),
                                key=keys.fold(key, "validation"))  # fmt: skip
    held = spectral.spectral_dynamics(
        k_train[np.ix_(fit, fit)], y[fit], lr=lr, discrete=True,
        k_test_train=np.concatenate([k_train[np.ix_(val, fit)], k_test[:, fit]]),
    )  # fmt: skip
    f_held = held.predict_test(times, 0.0)
    val_mse = test_mse(f_held[:, : len(val)], y[val])

    # Sensitivity of the spectral rule to k (same eps)
    ks = np.unique(np.round(np.geomspace(1, len(y), N_K)).astype(np.int64))
    t_k = np.array([spectral.spectral_stop_time(dyn.gram_values, k=int(k), eps=eps, lr=lr, m=m,
                                                discrete=True) for k in ks])  # fmt: skip
    f_k = dyn.predict_test(t_k, 0.0)
    return {
        "lr": np.float64(lr), "top_k": np.int64(top_k), "eps": np.float64(eps),
        "t_end": np.float64(t_end),
        "val_fraction": np.float64(spec["val_fraction"]), "m": np.int64(m),
        "n_train": np.int64(len(y)), "n_test": np.int64(len(y_test)),
        "noise_fraction": np.float64(np.mean(data["noisy_train"])),
        "gram_values": dyn.gram_values, "times": times, "t_spectral": np.float64(t_spec),
        "test_mse": mse,
        "test_acc": predict.accuracy(f_test, labels_test),
        "train_noisy_fit": noisy_fit_fraction(f_train, data["labels_train"], data["noisy_train"]),
        "times_expected": coarse,
        "test_mse_expected": test_mse(f_coarse, y_test) + 0.5 * variance.mean(axis=1),
        "inf_test_mse": np.float64(test_mse(f_inf, y_test)),
        "inf_test_acc": np.float64(predict.accuracy(f_inf, labels_test)),
        "inf_test_mse_expected": np.float64(test_mse(f_inf, y_test) + 0.5 * variance_inf.mean()),
        "inf_train_noisy_fit": np.float64(noisy_fit_fraction(
            f_train_inf, data["labels_train"], data["noisy_train"])),
        "val_mse": val_mse,
        "held_test_mse": test_mse(f_held[:, len(val):], y_test),
        "held_test_acc": predict.accuracy(f_held[:, len(val):], labels_test),
        "n_validation": np.int64(len(val)),
        "trace_fractions": np.asarray(TRACE_FRACTIONS), "k_trace": k_trace, "t_trace": t_trace,
        "k_grid": ks, "k_grid_t": t_k, "k_grid_test_mse": test_mse(f_k, y_test),
        "k_grid_test_acc": predict.accuracy(f_k, labels_test),
    }  # fmt: skip


# ----------------------------------------------------------------------------- finite nets


def train_nets(
    spec: Mapping[str, Any], data: Mapping[str, np.ndarray], *, key, extra_steps=()
) -> Nets:
    """Test MSE / accuracy of finite nets (widths × seeds) at log-spaced steps ∪ extra_steps."""
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
        params0 = init_ensemble(mspec, key=keys.fold(key, "init", width), in_dim=x.shape[1],
                                n_seeds=int(spec["seeds"]), dtype=jnp.float32)  # fmt: skip
        rec, _ = train.train(
            make_apply(mspec), params0, x, y, data["x_test"], data["y_test"],
            lr=float(spec["lr"]), steps=steps, record_steps=record_steps,
        )  # fmt: skip
        f_test = np.asarray(rec.f_test, np.float64)  # (R, S, n_test, K)
        mse.append(np.asarray(rec.test_loss, np.float64))
        acc.append(predict.accuracy(f_test, data["labels_test"]))
        ens = np.mean(f_test, axis=1)
        ens_mse.append(test_mse(ens, data["y_test"]))
        ens_acc.append(predict.accuracy(ens, data["labels_test"]))
        diverged.append(rec.diverged)
    return Nets(widths=np.asarray(widths, np.int64), steps=record_steps,
                test_mse=np.stack(mse), test_acc=np.stack(acc), ens_test_mse=np.stack(ens_mse),
                ens_test_acc=np.stack(ens_acc), diverged=np.stack(diverged))  # fmt: skip


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
    t_val = out["times"][int(np.argmin(out["val_mse"]))]
    nets = train_nets(spec, data, key=key, extra_steps=(out["t_spectral"], t_val))
    return Run(**out, eta_crit=float(rate["eta_crit"]), net=nets)


# ----------------------------------------------------------------------------- analysis


def _at(times: np.ndarray, values: np.ndarray, t: float) -> float:
    """values at the grid time t (t is on the grid by construction)."""
    idx = np.flatnonzero(times == t)
    return float(values[idx[0]]) if idx.size else float("nan")


def rules(run: Run) -> dict[str, dict[str, Any]]:
    """Stop time, test MSE and accuracy of each stopping rule (closed form)."""
    times, mse, acc = run.times, run.test_mse, run.test_acc
    t_spec = float(run.t_spectral)
    i_val = int(np.argmin(run.val_mse))
    t_val = float(times[i_val])
    t_orc, _ = spectral.oracle_stop(times, mse)
    out = {
        "spectral": {"t": t_spec, "test_mse": _at(times, mse, t_spec),
                     "test_acc": _at(times, acc, t_spec),
                     "noisy_fit": _at(times, run.train_noisy_fit, t_spec)},
        "validation": {"t": t_val, "test_mse": float(run.held_test_mse[i_val]),
                       "test_acc": float(run.held_test_acc[i_val]),
                       "val_mse": float(run.val_mse[i_val])},
        "validation_refit": {"t": t_val, "test_mse": _at(times, mse, t_val),
                             "test_acc": _at(times, acc, t_val),
                             "noisy_fit": _at(times, run.train_noisy_fit, t_val)},
        "oracle": {"t": t_orc, "test_mse": _at(times, mse, t_orc),
                   "test_acc": _at(times, acc, t_orc),
                   "noisy_fit": _at(times, run.train_noisy_fit, t_orc)},
        "infinite": {"t": None, "test_mse": float(run.inf_test_mse),
                     "test_acc": float(run.inf_test_acc),
                     "noisy_fit": float(run.inf_train_noisy_fit)},
    }  # fmt: skip
    for rule in out.values():
        rule["ratio_to_oracle"] = rule["test_mse"] / out["oracle"]["test_mse"]
        if rule["t"] is not None:
            rule["t"] = int(rule["t"])  # a step count
    return out


NET_FIELDS = ("width", "test_mse_spectral", "test_acc_spectral", "test_mse_validation",
              "test_acc_validation", "test_mse_final", "test_acc_final", "test_mse_best",
              "t_best", "ens_test_mse_final", "ens_test_acc_final")  # fmt: skip


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
        row = {"width": int(width), "test_mse_final": float(mse[-1]),
               "test_acc_final": float(acc[-1]), "test_mse_best": float(mse[best]),
               "t_best": int(steps[best]),
               "ens_test_mse_final": float(nets.ens_test_mse[i, -1]),
               "ens_test_acc_final": float(nets.ens_test_acc[i, -1])}  # fmt: skip
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


def analyze(
    runs: Sequence[Run], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    (run,) = runs  # one run file: this kind is not sharded
    table = rules(run)
    gram = run.gram_values
    times = run.times
    numbers: dict[str, Any] = {
        **rates.numbers(run.lr, run.eta_crit),
        "top_k": int(run.top_k), "eps": float(run.eps),
        "val_fraction": float(run.val_fraction), "n_train": int(run.n_train),
        "n_test": int(run.n_test), "n_validation": int(run.n_validation),
        "noise_fraction": float(run.noise_fraction),
        "noise_percent": 100 * float(run.noise_fraction),
        "top_k_trace_fraction": float(np.sum(gram[: int(run.top_k)]) / np.sum(gram)),
        "t_max": float(times[-1]),
        **table,
        "ratio_spectral_to_oracle": table["spectral"]["ratio_to_oracle"],
        "ratio_spectral_to_infinite": table["spectral"]["test_mse"]
        / table["infinite"]["test_mse"],
        "ratio_validation_to_oracle": table["validation"]["ratio_to_oracle"],
        "ratio_infinite_to_oracle": table["infinite"]["ratio_to_oracle"],
        "spectral_beats_infinite": table["spectral"]["test_mse"] < table["infinite"]["test_mse"],
        "acc_gain_spectral_vs_infinite": table["spectral"]["test_acc"]
        - table["infinite"]["test_acc"],
        "t_ratio_spectral_to_oracle": table["spectral"]["t"] / table["oracle"]["t"],
        "best_test_acc": float(np.max(run.test_acc)),
        "expected_test_mse_spectral": _at(run.times_expected, run.test_mse_expected,
                                          table["spectral"]["t"]),
        "expected_test_mse_oracle": _at(run.times_expected, run.test_mse_expected,
                                        table["oracle"]["t"]),
        "expected_test_mse_infinite": float(run.inf_test_mse_expected),
        "k_grid_best_k": int(run.k_grid[int(np.argmin(run.k_grid_test_mse))]),
        "k_grid_best_ratio_to_oracle": float(np.min(run.k_grid_test_mse)
                                             / table["oracle"]["test_mse"]),
    }  # fmt: skip
    for frac, k, t in zip(run.trace_fractions, run.k_trace, run.t_trace, strict=True):
        mse_k = _at(times, run.test_mse, float(t))
        numbers[f"k_trace_{round(100 * frac)}"] = int(k)
        numbers[f"trace_{round(100 * frac)}"] = {
            "k": int(k), "t": int(t), "test_mse": mse_k,
            "test_acc": _at(times, run.test_acc, float(t)),
            "ratio_to_oracle": mse_k / table["oracle"]["test_mse"],
            "noisy_fit": _at(times, run.train_noisy_fit, float(t)),
        }  # fmt: skip
    stops = {"spectral": table["spectral"]["t"], "validation": table["validation"]["t"]}
    numbers.update(_finite_numbers(run.net, stops))
    t_end = float(run.t_end)
    numbers["ntk_test_mse_at_net_end"] = _at(times, run.test_mse, t_end)
    numbers["ntk_test_acc_at_net_end"] = _at(times, run.test_acc, t_end)
    numbers["ntk_expected_test_mse_at_net_end"] = _at(
        run.times_expected, run.test_mse_expected, t_end
    )
    fig = {
        "times": times, "test_mse": run.test_mse, "test_acc": run.test_acc,
        "times_expected": run.times_expected, "test_mse_expected": run.test_mse_expected,
        "train_noisy_fit": run.train_noisy_fit,
        "inf_test_mse": run.inf_test_mse, "inf_test_acc": run.inf_test_acc,
        "stop_names": np.array(["spectral", "validation", "oracle"]),
        "stop_times": np.array([table[r]["t"] for r in ("spectral", "validation", "oracle")]),
        "k_grid": run.k_grid, "k_grid_test_mse": run.k_grid_test_mse,
        "top_k": run.top_k, "k_trace_90": np.int64(numbers["k_trace_90"]),
        "oracle_test_mse": np.float64(table["oracle"]["test_mse"]), "eps": run.eps,
        "net_widths": run.net.widths, "net_steps": run.net.steps,
    }  # fmt: skip
    if run.net.widths.size:
        fig["net_test_mse"] = np.nanmean(run.net.test_mse, axis=2)
        fig["net_test_acc"] = np.nanmean(run.net.test_acc, axis=2)
        fig["net_ens_test_mse"] = run.net.ens_test_mse
    return numbers, {"early_stopping": fig}


# ----------------------------------------------------------------------------- figure
