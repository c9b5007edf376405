"""E13: the convolutional NTK (Arora et al. 2019; Novak et al. 2019) on the 8×8 digits.

Data: the first ``n_train`` training and ``n_test`` test digits of the configured data set,
reshaped to ``image_shape`` images for the conv nets (``ntkpaper.cnn``).

* Kernels: the analytic CNTK of the conv net (neural-tangents, the only implementation
  here) with a flattening and with a global-average-pooling readout, and the fully
  connected NTK of ``fc_model`` (our recursion) on the same split. Each predicts at t = ∞
  (kernel regression from f_0 = 0, ``predict.gp_moments``): test accuracy and test MSE
  (squared error averaged over points and outputs). The accuracy difference pooled CNTK
  minus FC NTK gets a paired bootstrap interval over test points.
* Cost per kernel entry: each readout's analytic kernel is computed in tiles of one
  compiled shape after a warm-up tile, and timed (wall and process CPU seconds over the
  entries computed); the pooling-to-flattening ratio is what the claim reads.
* Concentration: at each of ``channels`` and for ``seeds`` initializations, the empirical
  NTK (neural-tangents, structured derivatives, vmap_axes=0) of the Flax CNN at init on the
  first ``n_kernel`` training images against the analytic CNTK: relative Frobenius
  deviation, and its log-log slope in the channel count (bootstrap over seeds).
* Finite CNNs: at ``train_channels``, ``train_seeds`` nets per readout trained by full-batch
  GD for ``steps`` steps at lr = ``lr_ratio``·η_crit of the analytic CNTK (η_crit = 2m/λ_max,
  m = n_train·10); their test accuracy and MSE against the kernel's after the same steps.
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
from ntkpaper import cnn, infinite, keys, predict, train
from ntkpaper.fits import asymptotic_rate
from ntkpaper.models import model_spec
from ntkpaper.records import Record

WORKFLOW = {"priority": 30}

READOUTS = ("flatten", "pool")
# neural-tangents README, "Performance" (google/neural-tangents): milliseconds per NTK entry of
# a 21-layer CNN on 3×32×32 inputs, NVIDIA V100, float32, measured with version 0.2.1.
PUBLISHED = {"readme_pool_ms_v100": 2.7001, "readme_flatten_ms_v100": 0.0046510,
             "readme_version": "0.2.1"}  # fmt: skip
BLOCK = 40  # tile size of the analytic CNTK: pooling holds BLOCK²·(H·W)² covariances per layer


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
    mean_T: np.ndarray  # (n_test, K) kernel regression after `steps` GD steps
    mean: np.ndarray  # (n_test, K) and at t = ∞
    lr: float  # lr_ratio·η_crit of the analytic CNTK
    cost: Cost
    deviation: np.ndarray  # (channels, seeds) relative Frobenius deviation at init
    cpu_concentration: float  # CPU seconds of the concentration measurement
    net_f_test: np.ndarray  # (train_channels, train_seeds, n_test, K) at the end
    net_train_loss: np.ndarray  # (train_channels, train_seeds) at the end
    cpu_training: float  # CPU seconds of training the finite CNNs


@dataclass(frozen=True)
class Run(Record):
    """The whole instance (not sharded)."""

    n_train: int
    n_test: int
    y_test: np.ndarray  # (n_test, K)
    labels_test: np.ndarray  # (n_test,)
    fc_mean: np.ndarray  # (n_test, K) the fully connected NTK's prediction at t = ∞
    channels: np.ndarray  # (C,) ascending, of the concentration measurement
    train_channels: np.ndarray  # (C_t,) ascending, of the finite CNNs
    readouts: dict[str, Readout]  # keyed as READOUTS


def _split(spec, data) -> dict[str, np.ndarray]:
    n_train = int(min(spec["n_train"], len(data["x_train"])))
    n_test = int(min(spec["n_test"], len(data["x_test"])))
    return {"x_train": data["x_train"][:n_train], "y_train": data["y_train"][:n_train],
            "x_test": data["x_test"][:n_test], "y_test": data["y_test"][:n_test],
            "labels_test": data["labels_test"][:n_test]}  # fmt: skip


def _spec(spec, *, channels: int, readout: str, out_dim: int) -> cnn.CNNSpec:
    return cnn.cnn_spec(spec["cnn"], channels=channels, readout=readout, out_dim=out_dim,
                        image_shape=spec["image_shape"])  # fmt: skip


def timed_kernels(cspec: cnn.CNNSpec, x_train, x_test) -> tuple[dict, dict]:
    """The analytic CNTK blocks train×train and test×train, and their cost: one warm-up tile
    (compilation) first, then wall and CPU seconds per kernel entry computed."""
    block = min(BLOCK, len(x_train))
    cnn.analytic_kernels(cspec, x_train[:block], x_train[:block], block_size=block)
    wall, cpu = time.perf_counter(), time.process_time()
    tt = cnn.analytic_kernels(cspec, x_train, block_size=block)
    st = cnn.analytic_kernels(cspec, x_test, x_train, block_size=block)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rows, cols = -(-len(x_train) // block), -(-len(x_test) // block)
    entries = block**2 * (rows * (rows + 1) // 2 + rows * cols)
    kernels = {f"{name}_{b}": k[name] for b, k in (("train_train", tt), ("test_train", st))
               for name in ("ntk", "nngp")}  # fmt: skip
    return kernels, {"wall_per_entry": wall / entries, "cpu_per_entry": cpu / entries,
                     "entries": entries, "wall": wall}  # fmt: skip


def _kernel_predictions(kernels, y_train, lr: float, steps: int) -> np.ndarray:
    """Kernel regression means at t = steps (discrete-GD time, as the nets) and t = ∞."""
    return predict.gp_moments(kernels, y_train, np.array([float(steps), np.inf]), lr=lr,
                              compute_cov=False)["mean"]  # fmt: skip


def _eta_crit(kernels, m: int) -> float:
    return train.critical_lr(kernels["ntk_train_train"], m)


def run(spec, data, *, key) -> Run:
    d = _split(spec, data)
    # the fully connected NTK on the same split
    fc = infinite.analytic_kernels(model_spec(spec["fc_model"], width=1, out_dim=1),
                                   d["x_train"], d["x_test"])  # fmt: skip
    m = d["y_train"].size
    lr_fc = spec["lr_ratio"] * _eta_crit(fc, m)
    fc_mean = _kernel_predictions(fc, d["y_train"], lr_fc, spec["steps"])[1]
    # the analytic CNTK per readout, timed; predictions; finite CNNs
    readouts = {}
    for readout in READOUTS:
        cspec = _spec(spec, channels=1, readout=readout, out_dim=1)
        kernels, cost = timed_kernels(cspec, d["x_train"], d["x_test"])
        lr = float(spec["lr_ratio"] * _eta_crit(kernels, m))
        values = np.linalg.eigvalsh(kernels["ntk_train_train"])[::-1]
        means = _kernel_predictions(kernels, d["y_train"], lr, spec["steps"])
        cpu = time.process_time()
        deviation = _concentration(spec, d["x_train"], kernels["ntk_train_train"], readout,
                                   key=key)  # fmt: skip
        cpu_concentration = time.process_time() - cpu
        cpu = time.process_time()
        net_f_test, net_train_loss = _finite(spec, d, readout, lr, key=key)
        readouts[readout] = Readout(
            ratio_12=float(values[0] / values[1]), condition=float(values[0] / values[-1]),
            mean_T=means[0], mean=means[1], lr=lr, cost=Cost(**cost), deviation=deviation,
            cpu_concentration=cpu_concentration, net_f_test=net_f_test,
            net_train_loss=net_train_loss, cpu_training=time.process_time() - cpu,
        )  # fmt: skip
    return Run(n_train=len(d["x_train"]), n_test=len(d["x_test"]), y_test=d["y_test"],
               labels_test=d["labels_test"], fc_mean=fc_mean,
               channels=np.array(sorted(spec["channels"])),
               train_channels=np.array(sorted(spec["train_channels"])),
               readouts=readouts)  # fmt: skip


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


def _finite(spec, d, readout: str, lr: float, *, key) -> tuple[np.ndarray, np.ndarray]:
    """Final test outputs of finite CNNs, (n_channels, seeds, n_test, K), and train losses."""
    k_out = d["y_train"].shape[1]
    f_test, losses = [], []
    for c in sorted(spec["train_channels"]):
        cspec = _spec(spec, channels=int(c), readout=readout, out_dim=k_out)
        params0 = cnn.init_ensemble(cspec, key=keys.fold(key, "train", readout, int(c)),
                                    n_seeds=spec["train_seeds"], dtype=jnp.float32)  # fmt: skip
        rec, _ = train.train(cnn.make_apply(cspec), params0, d["x_train"], d["y_train"],
                             d["x_test"], d["y_test"], lr=lr, steps=int(spec["steps"]),
                             record_steps=[0, int(spec["steps"])])  # fmt: skip
        f_test.append(np.asarray(rec.f_test[-1], np.float64))
        losses.append(np.asarray(rec.train_loss[-1], np.float64))
    return np.stack(f_test), np.stack(losses)


# ----------------------------------------------------------------------------- analysis


def _mse(f: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.mean((f - y) ** 2, axis=(-2, -1))


def paired_difference(a: np.ndarray, b: np.ndarray, *, n_boot: int = 2000, seed: int = 0,
                      level: float = 0.9) -> dict[str, float]:  # fmt: skip
    """mean(a) − mean(b) over paired test points (a, b: 0/1 correctness), with a percentile
    interval from resampling the points with replacement."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    picks = np.random.default_rng(seed).integers(0, len(a), size=(n_boot, len(a)))
    boots = a[picks].mean(1) - b[picks].mean(1)
    alpha = (1 - level) / 2
    lo, hi = np.quantile(boots, [alpha, 1 - alpha])
    return {"value": float(a.mean() - b.mean()), "lo": float(lo), "hi": float(hi),
            "level": level, "n_points": len(a)}  # fmt: skip


def analyze(runs: Sequence[Run], *, spec: Mapping[str, Any]):
    (run,) = runs
    y, labels = run.y_test, run.labels_test
    correct = {"fc": np.argmax(run.fc_mean, -1) == labels}
    numbers: dict[str, Any] = {
        "n_train": int(run.n_train), "n_test": int(run.n_test),
        "conv_layers": int(spec["cnn"]["conv_layers"]),
        "filter_size": int(spec["cnn"]["filter_size"]), "fc_depth": int(spec["fc_model"]["depth"]),
        "channels": run.channels.tolist(), "channels_min": int(run.channels.min()),
        "channels_max": int(run.channels.max()), "seeds": int(spec["seeds"]),
        "n_kernel": int(spec["n_kernel"]), "train_channels": run.train_channels.tolist(),
        "train_seeds": int(spec["train_seeds"]), "steps": int(spec["steps"]),
        "fc_accuracy": float(correct["fc"].mean()), "fc_mse": float(_mse(run.fc_mean, y)),
        "image_pixels": int(np.prod(spec["image_shape"][:2])),
        "receptive_field": 1 + spec["cnn"]["conv_layers"] * (spec["cnn"]["filter_size"] - 1),
    }  # fmt: skip
    channels = run.channels.astype(np.float64)
    acc_fig: dict[str, np.ndarray] = {"train_channels": run.train_channels}
    conc_fig: dict[str, np.ndarray] = {"channels": channels}
    for readout in READOUTS:
        r = run.readouts[readout]
        correct[readout] = np.argmax(r.mean, -1) == labels
        acc_t = float(predict.accuracy(r.mean_T, labels))
        nets = r.net_f_test  # (C, S, n_test, K)
        net_acc = predict.accuracy(nets, labels)  # (C, S)
        net_mse = _mse(nets, y)
        dev = r.deviation
        numbers.update({
            f"{readout}_accuracy": float(correct[readout].mean()),
            f"{readout}_mse": float(_mse(r.mean, y)),
            f"{readout}_accuracy_T": acc_t,
            f"{readout}_mse_T": float(_mse(r.mean_T, y)),
            f"{readout}_cost_per_entry": float(r.cost.wall_per_entry),
            f"{readout}_cost_cpu_per_entry": float(r.cost.cpu_per_entry),
            f"{readout}_cost_us": 1e6 * float(r.cost.wall_per_entry),
            f"{readout}_kernel_seconds": float(r.cost.wall),
            f"{readout}_net_accuracy": net_acc.mean(1).tolist(),
            f"{readout}_net_accuracy_widest": float(net_acc[-1].mean()),
            f"{readout}_net_mse": net_mse.mean(1).tolist(),
            f"{readout}_net_mse_widest": float(net_mse[-1].mean()),
            f"{readout}_net_train_loss_max": float(np.nanmax(r.net_train_loss)),
            f"{readout}_deviation": dev.mean(1).tolist(),
            f"{readout}_deviation_widest": float(dev[-1].mean()),
            f"{readout}_local_slope_widest": float(
                np.log(dev[-1].mean() / dev[-2].mean()) / np.log(channels[-1] / channels[-2])
            )
            if len(channels) > 1
            else None,
            f"{readout}_slope_deviation": asymptotic_rate(channels, dev)
            if len(channels) > 1 else None,
            f"{readout}_lr": float(r.lr),
            f"{readout}_cpu_concentration": float(r.cpu_concentration),
            f"{readout}_cpu_training": float(r.cpu_training),
            f"{readout}_ratio_12": float(r.ratio_12),
            f"{readout}_condition": float(r.condition),
        })  # fmt: skip
        acc_fig.update({f"{readout}_net_accuracy": net_acc, f"{readout}_net_mse": net_mse,
                        f"{readout}_accuracy": np.float64(correct[readout].mean()),
                        f"{readout}_accuracy_T": np.float64(acc_t),
                        f"{readout}_mse_T": np.float64(numbers[f"{readout}_mse_T"]),
                        f"{readout}_mse": np.float64(numbers[f"{readout}_mse"])})  # fmt: skip
        cost = [r.cost.wall_per_entry, r.cost.cpu_per_entry]
        conc_fig.update({f"{readout}_deviation": dev, f"{readout}_cost": np.array(cost)})
    numbers.update({
        "pool_minus_fc_accuracy": paired_difference(correct["pool"], correct["fc"]),
        "flatten_minus_fc_accuracy": paired_difference(correct["flatten"], correct["fc"]),
        "pool_minus_flatten_accuracy": paired_difference(correct["pool"], correct["flatten"]),
        "cost_ratio": numbers["pool_cost_per_entry"] / numbers["flatten_cost_per_entry"],
        "cost_ratio_cpu": numbers["pool_cost_cpu_per_entry"]
        / numbers["flatten_cost_cpu_per_entry"],
    })  # fmt: skip
    for name in ("pool_minus_fc_accuracy", "flatten_minus_fc_accuracy"):
        numbers[f"{name}_points"] = 100 * numbers[name]["value"]
    for readout in READOUTS:
        numbers[f"{readout}_net_accuracy_text"] = ", ".join(
            f"{a:.3f}" for a in numbers[f"{readout}_net_accuracy"]
        )
    numbers.update({
        "channels_text": ", ".join(str(c) for c in numbers["channels"]),
        "train_channels_text": ", ".join(str(c) for c in numbers["train_channels"]),
        "published": {**PUBLISHED, "readme_ratio_v100": PUBLISHED["readme_pool_ms_v100"]
                      / PUBLISHED["readme_flatten_ms_v100"]},
    })  # fmt: skip
    acc_fig.update({"fc_accuracy": np.float64(numbers["fc_accuracy"]),
                    "fc_mse": np.float64(numbers["fc_mse"])})  # fmt: skip
    return numbers, {"accuracy": acc_fig, "concentration": conc_fig}
