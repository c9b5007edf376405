"""Draw one figure from its data file. A kind's ``plot_<figure>(data, path)`` annotates `data`
with the record of its ``figure_data.py`` that ``compute.analyze`` writes, so the file is read
as that record (a stale or foreign file fails naming class, file and key) and the plot reads
typed fields, not string keys."""

from __future__ import annotations

import os
import typing
from collections.abc import Callable

from ntkpaper.pipeline.records import Record


def data_class(plot: Callable) -> type[Record]:
    """The record a plot function draws: the annotation of its `data` parameter."""
    cls = typing.get_type_hints(plot).get("data")
    if not (isinstance(cls, type) and issubclass(cls, Record)):
        raise TypeError(
            f"{plot.__module__}.{plot.__name__}: annotate `data` with the figure's record "
            f"(a Record of the kind's figure_data.py), not {cls!r}"
        )
    return cls


def draw(plot: Callable, data: str | os.PathLike, pdf: str | os.PathLike) -> None:
    """`plot` the figure data file `data` into `pdf`."""
    plot(data_class(plot).from_npz(data), pdf)
