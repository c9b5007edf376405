"""The shared figure helpers: readable log axes."""

from __future__ import annotations

import numpy as np

from ntkpaper.figures import plotting


def tick_labels(axis) -> list[str]:
    return [t.get_text() for t in axis.get_ticklabels()]


def test_log_ticks_label_the_runs_without_crowding():
    _fig, axes = plotting.figure(1)
    ax = axes[0, 0]
    widths = [16, 64, 256, 1024, 1600]
    ax.plot(widths, np.ones(5))
    plotting.width_axis(ax, widths)
    assert ax.get_xscale() == "log"
    assert list(ax.get_xticks()) == widths
    # 1024 sits too close to 1600 on a two-decade axis: its tick stays, its label goes.
    assert tick_labels(ax.xaxis) == ["16", "64", "256", "", "1600"]
    plotting.log_ticks(ax, [0.5, 0.9, 1.1, 1.5, 4.0], axis="y")
    assert ax.get_yscale() == "log" and tick_labels(ax.yaxis)[-1] == "4"


def test_log_axes_get_decade_labels_or_plain_multiples(tmp_path):
    fig, axes = plotting.figure(2)
    wide, narrow = axes[0]
    wide.loglog([1, 1e3], [1e-3, 1])
    narrow.semilogy([0, 1], [0.066, 0.074])  # a tenth of a decade: no power of ten inside
    plotting.save(fig, tmp_path / "f.pdf")
    assert isinstance(wide.yaxis.get_minor_formatter(), plotting.matplotlib.ticker.NullFormatter)
    labels = [t for t in tick_labels(narrow.yaxis) if t]
    assert len(labels) >= 2 and all("e" not in t for t in labels), labels
    assert (tmp_path / "f.pdf").stat().st_size > 0


def test_tick_text_writes_numbers_as_a_reader_would():
    assert [plotting.tick_text(v) for v in (0, 0.02, 5, 2000)] == ["0", "0.02", "5", "2000"]
    assert plotting.tick_text(1e-5) == "$10^{-5}$"
    assert plotting.tick_text(3e5) == r"$3\times10^{5}$"
