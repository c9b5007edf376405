"""ntkpaper.pipeline.records: typed run containers round trip through .npz, nested and keyed by
name, and a file that does not match its class is an error naming class, file and key."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from ntkpaper.pipeline.records import Interval, Intervals, Record, RecordMismatch


@dataclass(frozen=True)
class Curve(Record):
    loss: np.ndarray  # (records, seeds)
    diverged: np.ndarray  # (seeds,) bool


@dataclass(frozen=True)
class Shard(Record):
    width: int
    lr: float
    label: str
    net: Curve
    optimizers: dict[str, Curve]
    extra: np.ndarray | None = None


def _shard(**changes) -> Shard:
    curve = Curve(np.arange(6.0).reshape(3, 2), np.array([False, True]))
    adam = Curve(np.ones((1, 2)), np.zeros(2, bool))
    fields = {"width": 64, "lr": 0.5, "label": "gd", "net": curve,
              "optimizers": {"sgd": curve, "adam": adam}}  # fmt: skip
    return Shard(**{**fields, **changes})


def _assert_same(a: Shard, b: Shard) -> None:
    assert (b.width, b.lr, b.label) == (a.width, a.lr, a.label)
    assert type(b.width) is int and type(b.lr) is float and type(b.label) is str
    assert list(b.optimizers) == list(a.optimizers)  # order kept
    for x, y in [(a.net, b.net), *zip(a.optimizers.values(), b.optimizers.values(), strict=True)]:
        assert np.array_equal(x.loss, y.loss) and x.loss.dtype == y.loss.dtype
        assert np.array_equal(x.diverged, y.diverged) and y.diverged.dtype == bool


def test_round_trip_through_npz(tmp_path):
    shard = _shard()
    shard.to_npz(tmp_path / "run.npz")
    back = Shard.from_npz(tmp_path / "run.npz")
    _assert_same(shard, back)
    assert back.extra is None
    with_extra = Shard.from_npz(_write(tmp_path, _shard(extra=np.arange(3))))
    assert np.array_equal(with_extra.extra, np.arange(3))


def _write(tmp_path, shard: Shard):
    shard.to_npz(tmp_path / "run.npz")
    return tmp_path / "run.npz"


def test_nested_records_and_dicts_flatten_to_dotted_keys():
    arrays = _shard().to_arrays()
    assert set(arrays) == {"width", "lr", "label", "net.loss", "net.diverged",
                           "optimizers.sgd.loss", "optimizers.sgd.diverged",
                           "optimizers.adam.loss", "optimizers.adam.diverged"}  # fmt: skip
    assert arrays["width"].shape == ()
    _assert_same(_shard(), Shard.from_arrays(arrays))


def test_a_missing_key_names_class_file_and_key(tmp_path):
    arrays = _shard().to_arrays()
    del arrays["optimizers.adam.loss"]
    np.savez(tmp_path / "stale.npz", **arrays)
    with pytest.raises(RecordMismatch, match=r"Shard: .*stale.npz has no key optimizers.adam.loss"):
        Shard.from_npz(tmp_path / "stale.npz")
    with pytest.raises(KeyError, match="Shard: arrays has no key width"):
        Shard.from_arrays({k: v for k, v in arrays.items() if k != "width"})


def test_an_unexpected_key_names_class_file_and_key(tmp_path):
    np.savez(tmp_path / "stale.npz", **_shard().to_arrays(), gd_net_f_test=np.zeros(2))
    with pytest.raises(
        RecordMismatch, match=r"Shard: .*stale.npz has unexpected key\(s\) gd_net_f_test"
    ):
        Shard.from_npz(tmp_path / "stale.npz")


def test_an_empty_dict_is_refused_where_it_is_written():
    with pytest.raises(ValueError, match="optimizers: an empty dict"):
        _shard(optimizers={}).to_arrays()


def test_intervals_carry_the_numbers_point_and_ends_and_nan_where_unmeasured():
    slope = {"slope": -0.5, "lo": -0.6, "hi": -0.4, "level": 0.9, "cdist": [0.1]}
    assert Interval.of(slope) == Interval(value=-0.5, lo=-0.6, hi=-0.4)
    assert Interval.of({"mean": 2.0, "lo": 1.0, "hi": 3.0}).value == 2.0
    assert all(np.isnan(v) for v in vars(Interval.of(None)).values())
    assert all(np.isnan(v) for v in vars(Interval.of({})).values())
    series = Intervals.of([slope, None, {"ratio": 1.5, "lo": 1.0, "hi": 2.0}])
    np.testing.assert_array_equal(series.value, [-0.5, np.nan, 1.5])
    np.testing.assert_array_equal(series.hi, [-0.4, np.nan, 2.0])
    back = Intervals.from_arrays(series.to_arrays())
    np.testing.assert_array_equal(back.lo, series.lo)
    assert Intervals.of([]).value.shape == (0,)
