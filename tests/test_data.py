"""Data preparation: IDX parsing on files the tests write, splits, targets, noise."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from ntkpaper import data, keys


def write_idx(path, array: np.ndarray, type_code: int = 0x08) -> None:
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload = header + array.astype(data.IDX_DTYPES[type_code]).tobytes()
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
    x, y = data.load_idx_folder(folder)
    np.testing.assert_array_equal(x, images.reshape(30, -1))
    np.testing.assert_array_equal(y, labels)


@pytest.mark.parametrize("type_code", [0x08, 0x0B, 0x0D, 0x0E])
def test_idx_types_and_byte_order(tmp_path, type_code):
    array = np.arange(24).reshape(2, 3, 4)
    write_idx(tmp_path / "a.idx", array, type_code)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "a.idx"), array)


def test_idx_errors_name_the_file(tmp_path, idx_folder):
    folder, images, _ = idx_folder
    with pytest.raises(data.DataError, match="does not exist"):
        data.read_idx(tmp_path / "missing-idx")
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x12\x34\x08\x01" + b"\x00" * 8)
    with pytest.raises(data.DataError, match=r"bad\b.*magic"):
        data.read_idx(bad)
    truncated = tmp_path / "truncated"
    write_idx(truncated, images)
    truncated.write_bytes(truncated.read_bytes()[:-7])
    with pytest.raises(data.DataError, match="truncated"):
        data.read_idx(truncated)
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(29, np.uint8))
    with pytest.raises(data.DataError, match="30 images but 29 labels"):
        data.load_idx_folder(folder)


def test_digits_split_is_seeded_standardized_and_centered():
    spec = {"source": "digits", "n_train": 300, "n_test": 100}
    a = data.prepare("digits", spec, key=keys.run_key(0, "data", "digits"))
    b = data.prepare("digits", spec, key=keys.run_key(0, "data", "digits"))
    c = data.prepare("digits", spec, key=keys.run_key(1, "data", "digits"))
    np.testing.assert_array_equal(a["x_train"], b["x_train"])
    assert not np.array_equal(a["x_train"], c["x_train"])
    varying = a["x_train"].std(0) > 0
    np.testing.assert_allclose(a["x_train"].mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(a["x_train"].std(0)[varying], 1, atol=1e-12)
    np.testing.assert_allclose(a["y_train"].sum(1), 0, atol=1e-12)  # one-hot minus 1/K
    assert a["y_train"].shape == (300, 10) and a["x_test"].shape == (100, 64)


def test_label_noise_corrupts_exactly_the_fraction_to_other_classes():
    labels = np.arange(1000) % 10
    noisy, mask = data.corrupt_labels(labels, 0.2, 10, key=keys.run_key(0))
    assert mask.sum() == 200
    assert np.all(noisy[mask] != labels[mask]) and np.all(noisy[~mask] == labels[~mask])


def test_non_finite_inputs_are_rejected(idx_folder):
    with pytest.raises(data.DataError, match="non-finite"):
        data.check_finite("x", np.array([[0.0, np.nan]]))


def test_circle_points_have_unit_norm_and_the_product_target():
    x = data.circle(data.uniform_angles(12))
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1)
    np.testing.assert_allclose(data.circle_target(x)[:, 0], x[:, 0] * x[:, 1])
