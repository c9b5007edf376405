"""The figure check (ntkpaper.figures.check): what it catches, on figures built to
fail. Every real figure is checked where it is drawn: on tiny runs of every kind
(test_studies.py) and on the quick build (test_workflow.py, from the <figure>.check.json
sidecars that plotting.save writes)."""

from __future__ import annotations

import numpy as np
import pytest

from ntkpaper.figures import check as figure_check
from ntkpaper.figures import plotting
from ntkpaper.pipeline import io

# ---------------------------------------------------------- what the check catches


def _check(fig) -> list[str]:
    problems = figure_check.check_figure(fig)
    plotting.plt.close(fig)
    return problems


def _one(height: float = 2.4):
    fig, axes = plotting.figure(1, height=height, width=0.5)
    return fig, axes[0, 0]


def test_a_clean_figure_passes():
    fig, ax = _one()
    x = np.arange(1, 11)
    ax.plot(x, x**2, "o-", label="data")
    ax.plot(x, 2 * x**2, "s--", label="twice")
    ax.set(xscale="log", yscale="log", xlabel="x", ylabel="y")
    plotting.legend_below(ax)
    plotting.readable_log_axes(fig)
    assert _check(fig) == []


def test_an_axis_with_one_labelled_tick_is_caught_and_save_labels_short_log_axes(tmp_path):
    fig, ax = _one()
    ax.semilogy([1, 2], [2.0, 6.0])  # less than a decade: matplotlib labels one tick at most
    ax.yaxis.set_minor_formatter(plotting.matplotlib.ticker.NullFormatter())
    assert any("y axis has" in p and "labelled tick" in p for p in figure_check.check_figure(fig))
    assert plotting.save(fig, tmp_path / "f.pdf", check="record") == []  # save relabels it
    labels = [t.get_text() for t in ax.yaxis.get_ticklabels() if t.get_text()]
    assert labels == ["1.8", "2", "5", "6.4"]  # 1-2-5 labels, and the limits beyond the data


def test_data_beyond_the_outermost_labels_of_a_log_axis_is_caught_and_save_brackets_it(tmp_path):
    fig, ax = _one()
    ax.loglog([1, 10, 100], [0.003, 0.05, 0.7])  # y between 10^-3 and 10^0: labels inside only
    ax.yaxis.set_major_locator(plotting.matplotlib.ticker.FixedLocator([0.01, 0.1]))
    problems = figure_check.check_figure(fig)
    assert any("log y axis reach 0.003, below its lowest label 0.01" in p for p in problems)
    assert any("log y axis reach 0.7, above its highest label 0.1" in p for p in problems)
    plotting.plt.close(fig)
    fig, ax = _one()
    ax.loglog([1, 10, 100], [0.003, 0.05, 0.7])
    assert plotting.save(fig, tmp_path / "g.pdf", check="record") == []
    ticks = [float(t.get_text().replace("$", "").replace("10^{", "1e").rstrip("}") or "nan")
             for t in ax.yaxis.get_ticklabels() if t.get_text()]  # fmt: skip
    assert min(ticks) <= 0.003 and max(ticks) >= 0.7


def test_figures_modules_fit_nothing():
    """A legend's exponent is the number the analysis wrote (an Interval in the figure
    data), never one a figures module fits itself: that is how legends and text drift apart."""
    import ast
    from pathlib import Path

    import ntkpaper.figures

    for path in Path(ntkpaper.figures.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom | ast.Import)
            for alias in node.names
        } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not imported & {"fits", "ntkpaper.statistics.fits"}, f"{path.name} imports the fits"
        calls = {n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call)
                 and isinstance(n.func, ast.Attribute)}  # fmt: skip
        assert not calls & {"polyfit", "loglog_slope", "lstsq"}, f"{path.name} fits a line"


def test_text_over_data_and_over_text_is_caught():
    fig, ax = _one()
    ax.plot([0, 1], [0, 1], label="diagonal")
    ax.legend(loc="center")  # right on the line
    ax.text(0.02, 0.98, "note", transform=ax.transAxes, va="top")
    ax.text(0.03, 0.97, "clash", transform=ax.transAxes, va="top")
    problems = _check(fig)
    assert any("legend covers 'diagonal'" in p for p in problems), problems
    assert any("text 'note'" in p and "overlaps" in p and "'clash'" in p for p in problems)


def test_non_positive_values_and_floored_steps_on_log_axes_are_caught():
    fig, ax = _one()
    steps = np.arange(0, 50)
    ax.plot(np.maximum(steps, 1), np.exp(-steps / 10), label="floored")
    ax.plot(steps[1:], np.linspace(-1, 1, 49), label="signed")
    ax.set(xscale="log", yscale="log")
    problems = _check(fig)
    assert any("'floored'" in p and "repeated value" in p for p in problems), problems
    assert any("'signed'" in p and "values <= 0" in p for p in problems), problems
    fig, ax = _one()  # the fix: t = 0 on a symlog axis
    ax.plot(steps, np.exp(-steps / 10))
    plotting.time_axis(ax)
    ax.set(yscale="log")
    plotting.readable_log_axes(fig)  # as save does: labels on either side of the data
    assert not any("log" in p for p in _check(fig))


def test_a_hidden_series_is_caught():
    fig, ax = _one()
    x = np.linspace(0, 1, 50)
    ax.plot(x, x, color="C1", lw=1.0, label="under")
    ax.plot(x, x, color="k", lw=2.5, label="over")
    ax.plot(x, x + 2, color="C2", label="outside")
    ax.set_ylim(-0.1, 1.1)
    problems = _check(fig)
    assert any("'under' is hidden" in p for p in problems), problems
    assert not any("'over'" in p for p in problems)
    assert any("'outside' draws nothing" in p for p in problems)


def test_an_axis_label_longer_than_its_axis_is_caught():
    fig, ax = _one(height=1.2)
    ax.plot([0, 1], [0, 1])
    ax.set_ylabel("a label far longer than this short axis can hold")
    assert any("longer than its axis" in p for p in _check(fig))


def test_save_records_problems_beside_the_figure_and_raises_on_request(tmp_path, monkeypatch):
    fig, ax = _one()
    ax.plot([0, 1], [0, 1], label="line")
    ax.legend(loc="center")
    problems = plotting.save(fig, tmp_path / "f.pdf")
    assert problems and (tmp_path / "f.pdf").stat().st_size > 0
    assert io.read_json(tmp_path / "f.check.json")["problems"] == problems
    assert figure_check.read_checks(tmp_path.parent) == {}  # not <kind>/<instance>/<figure>.pdf
    monkeypatch.setenv(figure_check.CHECK_ENV, "raise")
    fig, ax = _one()
    ax.plot([0, 1], [0, 1], label="line")
    ax.legend(loc="center")
    with pytest.raises(figure_check.FigureCheckError, match="legend covers 'line'"):
        plotting.save(fig, tmp_path / "g.pdf")
    monkeypatch.setenv(figure_check.CHECK_ENV, "off")
    fig, _ = _one()
    assert plotting.save(fig, tmp_path / "h.pdf") is None
    assert not (tmp_path / "h.check.json").exists()
