"""Typed containers of arrays that study runs are exchanged in, saved as one .npz each.

A record is a frozen dataclass deriving from `Record`. Its fields are arrays, scalars
(int, float, bool, str: stored as 0-d arrays, read back as the field's type), nested
records, or ``dict[str, ...]`` of either; a field typed ``... | None`` may be left out.
Nesting flattens to npz keys joined by `SEP` (``runs.gd.net.f_test``), so what a file holds
is stated by the class, not assembled from strings where it is read.

A file that does not match its class is an error naming the class, the file and the key,
missing or unexpected: a stale run file fails where it is read, not deep in an analysis.
numpy only (figure and report jobs import it without JAX).
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ntkpaper.pipeline import io

SEP = "."
SCALARS = (bool, int, float, str)  # stored as 0-d arrays, read back through the type


class RecordMismatch(KeyError):
    """A file's (or mapping's) keys do not match the record class it is read as."""

    def __str__(self) -> str:  # KeyError would repr() the message, quotes and all
        return str(self.args[0])


@dataclasses.dataclass(frozen=True)
class Record:
    """Base of the typed run containers; subclasses are ``@dataclass(frozen=True)``."""

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Flat npz-ready arrays: one key per leaf, nested names joined by SEP."""
        out: dict[str, np.ndarray] = {}
        for field in dataclasses.fields(self):
            _flatten(getattr(self, field.name), field.name, out)
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, Any], *, source: str = "arrays"):
        """Inverse of `to_arrays`; `source` names where the arrays came from in errors."""
        unused, where = dict(arrays), f"{cls.__qualname__}: {source}"
        record = _unflatten(cls, "", unused, where)
        if unused:
            raise RecordMismatch(f"{where} has unexpected key(s) {', '.join(sorted(unused))}")
        return record

    def to_npz(self, path: str | os.PathLike) -> None:
        io.write_npz(path, **self.to_arrays())  # atomic: a killed job leaves no half file

    @classmethod
    def from_npz(cls, path: str | os.PathLike):
        return cls.from_arrays(io.read_npz(path), source=os.fspath(path))


POINT_KEYS = ("slope", "mean", "ratio", "value")  # where an interval record keeps its point


def _point_lo_hi(record: Mapping[str, Any] | None) -> tuple[float, float, float]:
    nan = float("nan")
    if not record:
        return nan, nan, nan
    point = next((record[k] for k in POINT_KEYS if k in record), nan)
    return float(point), float(record.get("lo", nan)), float(record.get("hi", nan))


@dataclasses.dataclass(frozen=True)
class Interval(Record):
    """A point estimate and its interval, as a figure draws it (NaN where not measured): the
    very numbers the text and the claims quote, so a legend never refits."""

    value: float
    lo: float
    hi: float

    @classmethod
    def of(cls, record: Mapping[str, Any] | None) -> Interval:
        """From an interval record of the numbers (``fits.interval_record`` and kin: its point
        under one of `POINT_KEYS`); all NaN for a missing or empty record."""
        return cls(*_point_lo_hi(record))


@dataclasses.dataclass(frozen=True)
class Intervals(Record):
    """A series of intervals, e.g. one per width: arrays of the same length."""

    value: np.ndarray
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def of(cls, records: Sequence[Mapping[str, Any] | None]) -> Intervals:
        columns = np.array([_point_lo_hi(r) for r in records], np.float64).reshape(-1, 3)
        return cls(*columns.T)


def _flatten(value: Any, name: str, out: dict[str, np.ndarray]) -> None:
    if value is None:
        return  # an optional field left out
    if isinstance(value, Record):
        for key, array in value.to_arrays().items():
            out[name + SEP + key] = array
    elif isinstance(value, Mapping):
        if not value:  # it would write no key, and read back as a missing one
            raise ValueError(f"{name}: an empty dict cannot be stored; type it `| None`")
        for key, item in value.items():
            if not isinstance(key, str) or not key or SEP in key:
                raise ValueError(f"{name}: dict key {key!r} is not a name without {SEP!r}")
            _flatten(item, name + SEP + key, out)
    else:
        out[name] = np.asarray(value)


def _unflatten(cls: type, prefix: str, arrays: dict[str, Any], where: str):
    """Build `cls` from the keys under `prefix`, removing them from `arrays`; `where` says
    which record class and file for errors."""
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        values[field.name] = _read(hints[field.name], prefix + field.name, arrays, where)
    return cls(**values)


def _read(tp: Any, name: str, arrays: dict[str, Any], where: str) -> Any:
    tp, optional = _strip_none(tp)
    if not _present(tp, name, arrays):
        if optional:
            return None
        raise RecordMismatch(f"{where} has no key {name}")
    if _is_record(tp):
        return _unflatten(tp, name + SEP, arrays, where)
    if typing.get_origin(tp) in (dict, Mapping):
        _, item = typing.get_args(tp)
        keys = dict.fromkeys(k[len(name) + 1 :].split(SEP)[0] for k in arrays if _under(k, name))
        return {k: _read(item, name + SEP + k, arrays, where) for k in keys}
    value = arrays.pop(name)
    return tp(value) if tp in SCALARS else value


def _strip_none(tp: Any) -> tuple[Any, bool]:
    """(T, True) for ``T | None``, (tp, False) otherwise."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1 < len(typing.get_args(tp)):
            return args[0], True
    return tp, False


def _is_record(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Record)


def _under(key: str, name: str) -> bool:
    return key.startswith(name + SEP)


def _present(tp: Any, name: str, arrays: Mapping[str, Any]) -> bool:
    if _is_record(tp) or typing.get_origin(tp) in (dict, Mapping):
        return any(_under(k, name) for k in arrays)
    return name in arrays
