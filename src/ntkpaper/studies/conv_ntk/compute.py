"""E13: the convolutional NTK (Arora et al. 2019; Novak et al. 2019) on the 8×8 digits.

Data: the first ``n_train`` training and ``n_test`` test digits of the configured data set,
reshaped to ``image_shape`` images for the conv nets (``ntkpaper.networks.cnn``).

* Kernels: the analytic CNTK of the conv net (neural-tangents, the only implementation
  here) with a flattening and with a global-average-pooling readout, and the fully
  connected NTK of ``fc_model`` (our recursion) on the same split. Each predicts at t = ∞
  (kernel regression from f_0 = 0, ``predict.gp_moments``): test accuracy and test MSE
  (squared error averaged over points and outputs). The accuracy differences (pooled CNTK
  minus FC NTK, etc.) get BCa intervals from resampling the paired test points.
* Cost per kernel entry: each readout's analytic kernel is computed in tiles of one
  compiled shape after a warm-up tile, and timed (wall and process CPU seconds over the
  entries computed); the pooling-to-flattening ratio is what the claim reads.
* Concentration: at each of ``channels`` and for ``seeds`` initializations, the empirical
  NTK (neural-tangents, structured derivatives, vmap_axes=0) of the Flax CNN at init on the
  first ``n_kernel`` training images against the analytic CNTK: relative Frobenius
  deviation, and its rate in the channel count by the rule of ``fits.asymptotic_rate``.
* Trained CNNs: at each of ``train_channels``, ``train_seeds`` CNNs with the
  ``train_readout`` readout, vmapped, trained on the first ``train_n`` training images by
  full-batch GD at lr = ``lr_ratio``·η_crit of the analytic CNTK on those images
  (η_crit = 2m/λ_max, m = train_n·K, loss 0.5·mean((f − y)²)), centred
  (f − f_0 trained on y, as f on y + f_0: Lee et al. 2020), until converged: training stops
  at the first check (every ``check_every`` steps) where every net's training loss is at most
  ``converged_loss`` of its start, or at ``steps``. Their test outputs are compared with the
  analytic CNTK's kernel regression after the same number T of discrete GD steps from f = 0
  (exact, ``kernel_gd``), the predictor a centred net tends to as its channels grow.
  For each readout, the steps its kernel's own GD needs to meet the criterion
  (``steps_to_criterion``) say which readouts can be trained to convergence at all.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper.kernels import gram, predict
from ntkpaper.networks import cnn, train
from ntkpaper.networks.models import model_spec
from ntkpaper.pipeline import keys
from ntkpaper.pipeline.records import Interval, Record
from ntkpaper.statistics import fits, rates
from ntkpaper.studies.conv_ntk.figure_data import (
    Accuracy,
    Concentration,
    Deviation,
    EntryCost,
    KernelScores,
    TrainedNets,
)
from ntkpaper.studies.conv_ntk.kind import CNTK_BLOCK

READOUTS = ("flatten", "pool")
# neural-tangents README, "Performance" (google/neural-tangents): milliseconds per NTK entry of
# a 21-layer CNN on 3×32×32 inputs, NVIDIA V100, float32, measured with version 0.2.1.
PUBLISHED = {
    "readme_pool_ms_v100": 2.7001,
    "readme_flatten_ms_v100": 0.0046510,
    "readme_version": "0.2.1",
}
NEVER = -1  # steps_to_criterion of a kernel whose GD does not reach the criterion


@dataclass(frozen=True)
class Cost(Record):
    """What computing one readout's analytic CNTK cost, after a warm-up tile."""

    wall_per_entry: float  # seconds per kernel entry computed
    cpu_per_entry: float  # process CPU seconds per entry
    entries: int
    wall: float  # seconds in all


@dataclass(frozen=True)
class Readout(Record):
    """One readout of the conv net (flattening or global average pooling)."""

    ratio_12: float  # λ_1/λ_2 of its analytic CNTK on the training images
    condition: float  # λ_max/λ_min
    mean: np.ndarray  # (n_test, K) kernel regression at t = ∞
    lr: float  # lr_ratio·η_crit of the analytic CNTK on the first train_n training images
    steps_to_criterion: int  # GD steps of the kernel there from f = 0 to converged_loss
    cost: Cost
    deviation: np.ndarray  # (channels, seeds) relative Frobenius deviation at init
    cpu_concentration: float  # CPU seconds of the concentration measurement


@dataclass(frozen=True)
class Nets(Record):
    """The trained, centred CNNs of one readout, per channel count (ascending)."""

    steps: np.ndarray  # (C_t,) the step T where each channel count's ensemble stopped
    f_test: np.ndarray  # (C_t, S, n_test, K) f_T − f_0 on the test points
    loss_ratio: np.ndarray  # (C_t, S) training loss at T over its start
    diverged: np.ndarray  # (C_t, S) bool
    kernel_test: np.ndarray  # (C_t, n_test, K) the analytic CNTK after T GD steps from f = 0
    kernel_loss_ratio: np.ndarray  # (C_t,) its training loss at T over its start
    cpu: float  # CPU seconds of the training


@dataclass(frozen=True)
class Run(Record):
    """The whole instance (not sharded)."""

    n_train: int
    train_n: int  # the first train_n training images train the CNNs
    n_test: int
    y_test: np.ndarray  # (n_test, K)
    labels_test: np.ndarray  # (n_test,)
    fc_mean: np.ndarray  # (n_test, K) the fully connected NTK's prediction at t = ∞
    channels: np.ndarray  # (C,) ascending, of the concentration measurement
    train_channels: np.ndarray  # (C_t,) ascending, of the trained CNNs
    train_readout: str
    readouts: dict[str, Readout]  # keyed as READOUTS
    nets: Nets  # the trained CNNs of train_readout


def _split(spec, data) -> dict[str, np.ndarray]:
    n_train = int(min(spec["n_train"], len(data["x_train"])))
    n_test = int(min(spec["n_test"], len(data["x_test"])))
    return {
        "x_train": data["x_train"][:n_train],
        "y_train": data["y_train"][:n_train],
        "x_test": data["x_test"][:n_test],
        "y_test": data["y_test"][:n_test],
        "labels_test": data["labels_test"][:n_test],
    }


def _spec(spec, *, channels: int, readout: str, out_dim: int) -> cnn.CNNSpec:
    return cnn.cnn_spec(
        spec["cnn"],
        channels=channels,
        readout=readout,
        out_dim=out_dim,
        image_shape=spec["image_shape"],
    )


def timed_kernels(cspec: cnn.CNNSpec, x_train, x_test) -> tuple[dict, dict]:
    """The analytic CNTK blocks train×train and test×train, and their cost: one warm-up tile
    (compilation) first, then wall and CPU seconds per kernel entry computed."""
    block = min(CNTK_BLOCK, len(x_train))
    cnn.analytic_kernels(cspec, x_train[:block], x_train[:block], block_size=block)
    wall, cpu = time.perf_counter(), time.process_time()
    tt = cnn.analytic_kernels(cspec, x_train, block_size=block)
    st = cnn.analytic_kernels(cspec, x_test, x_train, block_size=block)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rows, cols = -(-len(x_train) // block), -(-len(x_test) // block)
    entries = block**2 * (rows * (rows + 1) // 2 + rows * cols)
    kernels = {
        f"{name}_{b}": k[name]
        for b, k in (("train_train", tt), ("test_train", st))
        for name in ("ntk", "nngp")
    }
    return kernels, {
        "wall_per_entry": wall / entries,
        "cpu_per_entry": cpu / entries,
        "entries": entries,
        "wall": wall,
    }


def _mean_at_infinity(kernels, y_train, lr: float) -> np.ndarray:
    """Kernel regression from f_0 = 0 at t = ∞ (the lr only sets the time unit)."""
    return predict.gp_moments(kernels, y_train, np.array([np.inf]), lr=lr, compute_cov=False)[
        "mean"
    ][0]


def _eta_crit(kernels, m: int) -> float:
    return rates.critical_lr(kernels["ntk_train_train"], m)


def _modes(k_train: np.ndarray, y_train: np.ndarray):
    lam, vec = np.linalg.eigh(0.5 * (k_train + k_train.T))
    return lam, vec, vec.T @ np.asarray(y_train, np.float64)


def kernel_gd(k_train, k_test_train, y_train, steps, *, lr: float):
    """Kernel regression by full-batch GD from f = 0, exactly, after each of ``steps``: on
    the training inputs f_{t+1} = f_t − (η/m)·Θ·(f_t − y) (loss 0.5·mean((f − y)²), m = y.size
    entries), so with Θ = Σ λ v vᵀ the test outputs are Θ(x*, X) V [(1 − (1 − ηλ/m)^t)/λ] Vᵀ y.
    Returns the test outputs (T, n_test, K) and the training loss over its start (T,)."""
    lam, vec, proj = _modes(k_train, y_train)
    m = np.asarray(y_train).size
    t = np.asarray(steps, np.float64)[:, None]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        decay = (1 - lr * lam[None] / m) ** t  # (T, n)
        gain = np.where(np.abs(lam[None]) > 1e-12 * lam[-1], (1 - decay) / lam[None], lr * t / m)
    test = np.einsum("tn,sn,nk->tsk", gain, np.asarray(k_test_train) @ vec, proj)
    weights = np.sum(proj**2, axis=1)
    return test, (decay**2) @ weights / weights.sum()


def steps_to_criterion(k_train, y_train, *, lr: float, ratio: float, cap: int = 2**40) -> int:
    """The fewest GD steps from f = 0 after which the kernel's training loss is at most
    ``ratio`` of its start (``kernel_gd``'s dynamics); NEVER if not within ``cap``."""
    lam, _, proj = _modes(k_train, y_train)
    factor = np.abs(1 - lr * lam / np.asarray(y_train).size)
    weights = np.sum(proj**2, axis=1)

    def loss_ratio(t: int) -> float:
        return float(np.sum(weights * factor ** (2.0 * t)) / weights.sum())

    hi = 1
    while loss_ratio(hi) > ratio:
        hi *= 2
        if hi > cap:
            return NEVER
    lo = hi // 2  # loss_ratio(lo) > ratio (or lo = 0)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if loss_ratio(mid) <= ratio else (mid, hi)
    return hi


def check_steps(spec) -> np.ndarray:
    """The steps at which training checks the criterion (and records), up to the cap."""
    cap, every = int(spec["steps"]), int(spec["check_every"])
    return np.unique(np.r_[np.arange(0, cap, every), cap])


def _stop_when_converged(ratio: float):
    """train.train's stop_when: stop once every seed's loss is ≤ ratio·(its start), or it
    diverged."""

    def stop_when(steps: np.ndarray, records: Mapping[str, np.ndarray]) -> bool:
        loss = records["train_loss"]
        with np.errstate(invalid="ignore"):
            done = (loss[-1] <= ratio * loss[0]) | records["diverged"][-1]
        return len(steps) > 1 and bool(np.all(done))

    return stop_when


def run(spec, data, *, key) -> Run:
    d = _split(spec, data)
    # the fully connected NTK on the same split
    fc = gram.analytic_kernels(
        model_spec(spec["fc_model"], width=1, out_dim=1), d["x_train"], d["x_test"]
    )
    m = d["y_train"].size
    fc_mean = _mean_at_infinity(fc, d["y_train"], spec["lr_ratio"] * _eta_crit(fc, m))
    # the analytic CNTK per readout, timed; its prediction; concentration; trained CNNs
    readouts, nets = {}, None
    for readout in READOUTS:
        cspec = _spec(spec, channels=1, readout=readout, out_dim=1)
        kernels, cost = timed_kernels(cspec, d["x_train"], d["x_test"])
        # the trained CNNs' rate, on the first train_n training images they train on
        sub = _first(kernels, _train_n(spec, d))
        y_sub = d["y_train"][: _train_n(spec, d)]
        lr = float(spec["lr_ratio"] * _eta_crit(sub, y_sub.size))
        values = np.linalg.eigvalsh(kernels["ntk_train_train"])[::-1]
        cpu = time.process_time()
        deviation = _concentration(spec, d["x_train"], kernels["ntk_train_train"], readout, key=key)
        readouts[readout] = Readout(
            ratio_12=float(values[0] / values[1]),
            condition=float(values[0] / values[-1]),
            mean=_mean_at_infinity(kernels, d["y_train"], lr),
            lr=lr,
            steps_to_criterion=steps_to_criterion(
                sub["ntk_train_train"], y_sub, lr=lr, ratio=spec["converged_loss"]
            ),
            cost=Cost(**cost),
            deviation=deviation,
            cpu_concentration=time.process_time() - cpu,
        )
        if readout == spec["train_readout"]:
            nets = _train_nets(spec, d, sub, lr, key=key)
    return Run(
        n_train=len(d["x_train"]),
        train_n=_train_n(spec, d),
        n_test=len(d["x_test"]),
        y_test=d["y_test"],
        labels_test=d["labels_test"],
        fc_mean=fc_mean,
        channels=np.array(sorted(spec["channels"])),
        train_channels=np.array(sorted(spec["train_channels"])),
        train_readout=spec["train_readout"],
        readouts=readouts,
        nets=nets,
    )


def _concentration(spec, x_train, analytic, readout: str, *, key) -> np.ndarray:
    """Relative Frobenius deviation of each seed's empirical NTK on the first ``n_kernel``
    training points from the analytic one (``analytic``: its train×train block), at each of
    the channel counts (ascending): (channels, seeds)."""
    n = int(min(spec["n_kernel"], len(x_train)))
    x = np.asarray(x_train[:n], np.float64)
    analytic = analytic[:n, :n]
    devs = np.zeros((len(spec["channels"]), spec["seeds"]))
    for i, c in enumerate(sorted(spec["channels"])):
        cspec = _spec(spec, channels=int(c), readout=readout, out_dim=1)
        k = keys.fold(key, "kernel", readout, int(c))
        for s in range(spec["seeds"]):  # seed s as init_ensemble would draw it
            params = cnn.init_params(cspec, key=jax.random.fold_in(k, s), dtype=jnp.float32)
            emp = np.asarray(cnn.empirical_ntk(cspec, params, x), np.float64)
            devs[i, s] = np.linalg.norm(emp - analytic) / np.linalg.norm(analytic)
    return devs


def _train_n(spec, d) -> int:
    return int(min(spec["train_n"], len(d["x_train"])))


def _first(kernels: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
    """The kernel blocks against the first n training points only."""
    return {
        name: k[:n, :n] if name.endswith("train_train") else k[:, :n] for name, k in kernels.items()
    }


def _train_nets(spec, d, kernels, lr: float, *, key) -> Nets:
    """Centred CNNs of ``train_readout`` per channel count on the first ``train_n`` training
    images, each ensemble trained until converged (module docstring), and the analytic CNTK
    (``kernels``: its blocks against those images) after the same steps."""
    readout, cpu, n = spec["train_readout"], time.process_time(), _train_n(spec, d)
    x = jnp.asarray(d["x_train"][:n], jnp.float32)
    x_test = jnp.asarray(d["x_test"], jnp.float32)
    y, y_test = np.asarray(d["y_train"][:n]), np.asarray(d["y_test"])
    rows = []
    for c in sorted(spec["train_channels"]):
        cspec = _spec(spec, channels=int(c), readout=readout, out_dim=y.shape[1])
        params0 = cnn.init_ensemble(
            cspec,
            key=keys.fold(key, "train", readout, int(c)),
            n_seeds=spec["train_seeds"],
            dtype=jnp.float32,
        )
        apply_fn = cnn.make_apply(cspec)
        outputs = jax.jit(jax.vmap(apply_fn, in_axes=(0, None)))
        f0, f0_test = np.asarray(outputs(params0, x)), np.asarray(outputs(params0, x_test))
        # the centred net f − f_0 on y is f on y + f_0 of its own seed (the same gradients)
        rec, _ = train.train(
            apply_fn,
            params0,
            x,
            y[None] + f0,
            x_test,
            y_test[None] + f0_test,
            lr=lr,
            steps=int(spec["steps"]),
            record_steps=check_steps(spec),
            stop_when=_stop_when_converged(spec["converged_loss"]),
        )
        loss = np.asarray(rec.train_loss, np.float64)
        rows.append(
            (
                int(rec.steps[-1]),
                np.asarray(rec.f_test[-1], np.float64) - f0_test.astype(np.float64),
                loss[-1] / loss[0],
                np.asarray(rec.diverged, bool),
            )
        )
    steps = np.array([r[0] for r in rows])
    kernel_test, kernel_loss = kernel_gd(
        kernels["ntk_train_train"], kernels["ntk_test_train"], y, steps, lr=lr
    )
    return Nets(
        steps=steps,
        f_test=np.stack([r[1] for r in rows]),
        loss_ratio=np.stack([r[2] for r in rows]),
        diverged=np.stack([r[3] for r in rows]),
        kernel_test=kernel_test,
        kernel_loss_ratio=kernel_loss,
        cpu=time.process_time() - cpu,
    )


# ----------------------------------------------------------------------------- analysis


def _mse(f: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.mean((f - y) ** 2, axis=(-2, -1))


def relative_distance(f: np.ndarray, k: np.ndarray) -> np.ndarray:
    """‖f − k‖_F / ‖k‖_F over test points and outputs: f (C, S, n, K) nets, k (C, n, K)
    their kernel predictor → (C, S)."""
    num = np.sqrt(np.sum((f - k[:, None]) ** 2, axis=(-2, -1)))
    return num / np.sqrt(np.sum(k**2, axis=(-2, -1)))[:, None]


def _text(values: Sequence[float], fmt: str = "{:.3f}") -> str:
    return ", ".join(fmt.format(v) for v in values)


def _nets_numbers(run: Run, spec: Mapping[str, Any]) -> tuple[dict[str, Any], TrainedNets]:
    """The trained CNNs against the analytic CNTK after the same steps: numbers and the
    accuracy figure's data of them."""
    nets, labels, y = run.nets, run.labels_test, run.y_test
    ch = run.train_channels.astype(np.float64)
    acc = predict.accuracy(nets.f_test, labels)  # (C, S)
    mse = _mse(nets.f_test, y)
    k_acc = predict.accuracy(nets.kernel_test, labels)  # (C,)
    k_mse = _mse(nets.kernel_test, y)
    dist = relative_distance(nets.f_test, nets.kernel_test)
    with np.errstate(invalid="ignore"):
        converged = (nets.loss_ratio <= spec["converged_loss"]) & ~nets.diverged
    acc_gap = [fits.bootstrap_mean(a - ka) for a, ka in zip(acc, k_acc, strict=True)]
    mse_gap = [fits.bootstrap_mean(e / ke - 1) for e, ke in zip(mse, k_mse, strict=True)]
    distance = [fits.bootstrap_mean(row) for row in dist]
    two = len(ch) > 1
    numbers = {
        "net_steps": nets.steps.tolist(),
        "net_steps_text": _text(nets.steps, "{:d}"),
        "net_steps_max": int(nets.steps.max()),
        "net_converged_fraction": float(converged.mean()),
        "net_converged_per_channels": converged.mean(1).tolist(),
        "net_loss_ratio_max": float(np.nanmax(nets.loss_ratio)),
        "net_diverged": int(nets.diverged.sum()),
        "net_accuracy": [fits.bootstrap_mean(a) for a in acc],
        "net_accuracy_text": _text(np.nanmean(acc, 1)),
        "net_mse_text": _text(np.nanmean(mse, 1), "{:.4f}"),
        "kernel_T_accuracy": k_acc.tolist(),
        "kernel_T_accuracy_text": _text(k_acc),
        "kernel_T_mse": k_mse.tolist(),
        "kernel_T_loss_ratio": nets.kernel_loss_ratio.tolist(),
        "kernel_T_loss_ratio_max": float(nets.kernel_loss_ratio.max()),
        "net_accuracy_gap": acc_gap,
        "net_mse_gap": mse_gap,
        "net_distance": distance,
        "net_distance_text": _text([r["mean"] for r in distance]),
        "net_accuracy_gap_widest": acc_gap[-1],
        "net_mse_gap_widest": mse_gap[-1],
        "net_distance_narrowest": distance[0],
        "net_distance_widest": distance[-1],
        # the claim: closer to the CNTK at the widest count than at the narrowest
        "net_distance_ratio": fits.independent_ratio(dist[-1], dist[0], np.nanmean)
        if two
        else None,
        "net_channels_ratio": float(ch[-1] / ch[0]),
        # the rule's rate, reported beside it (three counts determine the fit)
        "net_distance_rate": fits.asymptotic_rate(ch, dist),
        "net_distance_local_slopes": fits.sequence_of(fits.local_slopes(ch, dist), "slope")
        if two
        else [],
        "net_cpu_training": float(nets.cpu),
    }
    fig = TrainedNets(
        readout=str(run.train_readout),
        n_digits=int(run.train_n),
        channels=run.train_channels,
        accuracy=acc,
        mse=mse,
        kernel_T_accuracy=k_acc,
        kernel_T_mse=k_mse,
        distance=dist,
        distance_ratio=Interval.of(numbers["net_distance_ratio"]),
    )
    return numbers, fig


def _figures(run: Run, numbers: Mapping[str, Any], nets: TrainedNets) -> dict[str, Any]:
    """The figures' data, from the numbers (kernels at t = ∞, deviation rates) and the run."""
    kernels = (*READOUTS, "fc")
    deviation = {
        r: Deviation(
            deviation=run.readouts[r].deviation,
            rate=Interval.of(numbers[f"{r}_slope_deviation"]),
            cost=EntryCost(
                wall=run.readouts[r].cost.wall_per_entry, cpu=run.readouts[r].cost.cpu_per_entry
            ),
        )
        for r in READOUTS
    }
    return {
        "accuracy": Accuracy(
            nets=nets,
            n_train=int(run.n_train),
            infinite={
                k: KernelScores(accuracy=numbers[f"{k}_accuracy"], mse=numbers[f"{k}_mse"])
                for k in kernels
            },
        ),
        "concentration": Concentration(
            channels=run.channels.astype(np.float64), readouts=deviation
        ),
    }


def analyze(runs: Sequence[Run], *, spec: Mapping[str, Any]):
    """Numbers and figure data of E13 (a–d). Over 80 lines by design: every part reads the
    same per-channel arrays computed at its top, and each number is written beside the array
    it comes from."""
    (run,) = runs
    y, labels = run.y_test, run.labels_test
    correct = {"fc": np.argmax(run.fc_mean, -1) == labels}
    numbers: dict[str, Any] = {
        "n_train": int(run.n_train),
        "n_test": int(run.n_test),
        "train_n": int(run.train_n),
        "conv_layers": int(spec["cnn"]["conv_layers"]),
        "filter_size": int(spec["cnn"]["filter_size"]),
        "fc_depth": int(spec["fc_model"]["depth"]),
        "channels": run.channels.tolist(),
        "channels_min": int(run.channels.min()),
        "channels_max": int(run.channels.max()),
        "seeds": int(spec["seeds"]),
        "n_kernel": int(spec["n_kernel"]),
        "train_channels": run.train_channels.tolist(),
        "train_seeds": int(spec["train_seeds"]),
        "train_readout": str(run.train_readout),
        "steps_cap": int(spec["steps"]),
        "check_every": int(spec["check_every"]),
        "converged_loss": float(spec["converged_loss"]),
        "converged_loss_percent": 100 * float(spec["converged_loss"]),
        "lr_ratio": float(spec["lr_ratio"]),
        "fc_accuracy": float(correct["fc"].mean()),
        "fc_mse": float(_mse(run.fc_mean, y)),
        "image_pixels": int(np.prod(spec["image_shape"][:2])),
        "receptive_field": 1 + spec["cnn"]["conv_layers"] * (spec["cnn"]["filter_size"] - 1),
    }
    channels = run.channels.astype(np.float64)
    for readout in READOUTS:
        r = run.readouts[readout]
        correct[readout] = np.argmax(r.mean, -1) == labels
        dev = r.deviation
        rate = fits.asymptotic_rate(channels, dev)
        local = fits.local_slopes(channels, dev) if len(channels) > 1 else []
        local = fits.sequence_of(local, "slope")
        numbers.update(
            {
                f"{readout}_accuracy": float(correct[readout].mean()),
                f"{readout}_mse": float(_mse(r.mean, y)),
                f"{readout}_cost_per_entry": float(r.cost.wall_per_entry),
                f"{readout}_cost_cpu_per_entry": float(r.cost.cpu_per_entry),
                f"{readout}_cost_us": 1e6 * float(r.cost.wall_per_entry),
                f"{readout}_kernel_seconds": float(r.cost.wall),
                f"{readout}_steps_to_criterion": int(r.steps_to_criterion),
                f"{readout}_deviation": dev.mean(1).tolist(),
                f"{readout}_deviation_widest": float(dev[-1].mean()),
                f"{readout}_local_slopes": local,
                f"{readout}_local_slope_widest": local[-1] if local else None,
                # the claims' rate: the rule's exponent (fits.asymptotic_rate), None below 3 counts
                f"{readout}_slope_deviation": rate,
                f"{readout}_lr": float(r.lr),
                f"{readout}_cpu_concentration": float(r.cpu_concentration),
                f"{readout}_ratio_12": float(r.ratio_12),
                f"{readout}_condition": float(r.condition),
            }
        )
    net_numbers, nets = _nets_numbers(run, spec)
    numbers.update(net_numbers)
    # accuracy differences over the paired test points (BCa, resampling the points)
    for a, b in (("pool", "fc"), ("flatten", "fc"), ("pool", "flatten")):
        record = fits.bootstrap_mean(correct[a].astype(np.float64) - correct[b])
        record["n_points"] = record["n_seeds"]
        numbers[f"{a}_minus_{b}_accuracy"] = record
        numbers[f"{a}_minus_{b}_accuracy_points"] = 100 * record["mean"]
    numbers.update(
        {
            "cost_ratio": numbers["pool_cost_per_entry"] / numbers["flatten_cost_per_entry"],
            "cost_ratio_cpu": numbers["pool_cost_cpu_per_entry"]
            / numbers["flatten_cost_cpu_per_entry"],
            "channels_text": ", ".join(str(c) for c in numbers["channels"]),
            "train_channels_text": ", ".join(str(c) for c in numbers["train_channels"]),
            "published": {
                **PUBLISHED,
                "readme_ratio_v100": PUBLISHED["readme_pool_ms_v100"]
                / PUBLISHED["readme_flatten_ms_v100"],
            },
        }
    )
    return numbers, _figures(run, numbers, nets)
