"""The figure check: what a careful reader checks on every figure, in a form a machine can
run — at least two labelled ticks per axis, no text over text or data, nothing non-positive
on a log axis, no series hidden under another. `ntkpaper.figures.plotting.save` runs it on every
figure and records the problems in <figure>.check.json; `read_checks` collects them."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib
import matplotlib.collections
import matplotlib.colors
import matplotlib.lines
import matplotlib.patches
import matplotlib.text
import matplotlib.ticker
import matplotlib.transforms
import numpy as np

from ntkpaper.pipeline.io import read_json

# NTKPAPER_FIGURE_CHECK chooses what ntkpaper.figures.plotting.save does with the problems:
#   record (default)  list them in <figure>.check.json beside the figure
#   raise             the same, then raise FigureCheckError
#   off               skip the check
CHECK_ENV = "NTKPAPER_FIGURE_CHECK"
TOLERANCE_PT = 1.0  # text may touch data or other text by this much
MIN_VISIBLE = 0.5  # a series must show at least half of the pixels it draws alone


class FigureCheckError(AssertionError):
    """A figure failed `check_figure`."""


def check_path(path: str | os.PathLike) -> Path:
    """The sidecar `save` writes the figure check's problems to: <figure>.check.json."""
    path = Path(path)
    return path.with_name(path.stem + ".check.json")


def check_figure(
    fig, *, tol_pt: float = TOLERANCE_PT, min_visible: float = MIN_VISIBLE
) -> list[str]:
    """The problems a careful reader would see in `fig`, as sentences (empty: none):

    * ticks and labels: every axis with ticks has at least two labelled ticks inside its
      limits, and its label is no longer than the axis;
    * overlap: no text (tick label, axis label, title, legend, annotation) overlaps another
      text, or a data line, marker or band, by more than `tol_pt` points;
    * log axes: no series on a log axis holds a value <= 0 (matplotlib would clip it onto
      the axis) or a leading run of equal values (a floor such as np.maximum(t, 1) drawn as
      a vertical segment), and the data drawn lie between its lowest and its highest
      labelled tick (a reader reads a value off the labels on either side of it);
    * visibility: every series (lines and markers of one colour and style) shows at least
      `min_visible` of the pixels it covers when drawn alone: none hides under another, and
      none falls outside the axes' limits.

    Measured on the figure as drawn (matplotlib's renderer gives every artist's extent), so
    call it when the figure is complete; `save` does."""
    fig.canvas.draw()  # layout, limits and tick labels as they will be saved
    engine = fig.get_layout_engine()
    fig.set_layout_engine("none")  # freeze the layout: the redraws below only hide series
    try:
        renderer = fig.canvas.get_renderer()
        tol = tol_pt * fig.dpi / 72
        problems = _tick_problems(fig) + _log_problems(fig) + _log_range_problems(fig)
        problems += _overlap_problems(fig, renderer, tol)
        problems += _hidden_series(fig, min_visible)
    finally:
        fig.set_layout_engine(engine)
    return problems


def _panel(fig, ax) -> str:
    title = ax._left_title.get_text() or ax.get_title() or ax.get_ylabel()
    return f"panel {title}" if title else f"axes {fig.axes.index(ax)}"


def _drawn_ticks(axis):
    """The ticks matplotlib draws (inside the limits), their labels formatted."""
    return axis._update_ticks()


def _tick_problems(fig) -> list[str]:
    problems = []
    for ax in fig.axes:
        if not (ax.get_visible() and ax.axison):
            continue
        for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            if not axis.get_visible() or not len(_drawn_ticks(axis)):
                continue  # no ticks at all: deliberate (a colorbar's short side)
            labelled = {
                round(float(tick.get_loc()), 12)
                for tick in _drawn_ticks(axis)
                if any(
                    lab.get_visible() and lab.get_text().strip()
                    for lab in (tick.label1, tick.label2)
                )
            }
            label = axis.label
            if label.get_visible() and label.get_text().strip():
                box = label.get_window_extent(fig.canvas.get_renderer())
                along, room = (
                    (box.width, ax.bbox.width) if name == "x" else (box.height, ax.bbox.height)
                )
                if along > 1.1 * room + 2:  # a little past the axis' end is fine
                    problems.append(
                        f"{_panel(fig, ax)}: {name} label '{label.get_text()}' is "
                        "longer than its axis"
                    )
            if len(labelled) < 2:
                problems.append(
                    f"{_panel(fig, ax)}: {name} axis has {len(labelled)} labelled tick(s), "
                    "needs at least 2"
                )
    return problems


def _data_parts(line, ax) -> tuple[bool, bool]:
    """Whether the line's x and y are data coordinates (axhline's x is not)."""
    return line.get_transform().contains_branch_seperately(ax.transData)


def _log_problems(fig) -> list[str]:
    problems = []
    for ax in fig.axes:
        for i, (name, scale) in enumerate((("x", ax.get_xscale()), ("y", ax.get_yscale()))):
            if scale != "log":
                continue
            for artist in [*ax.lines, *ax.collections]:
                if not artist.get_visible() or not _data_parts(artist, ax)[i]:
                    continue
                if isinstance(artist, matplotlib.lines.Line2D):
                    values = np.asarray(artist.get_xydata(), float)[:, i]
                else:
                    paths = artist.get_paths()
                    if not paths:
                        continue
                    values = np.concatenate([p.vertices[:, i] for p in paths])
                values = values[np.isfinite(values)]
                what = f"{_panel(fig, ax)}: {_series_name(artist)} on the log {name} axis"
                if (values <= 0).any():
                    problems.append(f"{what} has values <= 0 (mask or drop them)")
                elif (
                    isinstance(artist, matplotlib.lines.Line2D)
                    and i == 0
                    and values.size >= 3
                    and (np.diff(values) >= 0).all()
                    and values[0] == values[1] < values[-1]
                ):
                    problems.append(f"{what} starts with a repeated value (a floored t = 0?)")
    return problems


def _drawn_values(artist, ax, i: int) -> np.ndarray:
    """The data coordinates (axis i: 0 x, 1 y) an artist draws, or none if it is not data."""
    if not artist.get_visible() or not _data_parts(artist, ax)[i]:
        return np.zeros(0)
    if isinstance(artist, matplotlib.lines.Line2D):
        return np.asarray(artist.get_xydata(), float)[:, i]
    if isinstance(artist, matplotlib.collections.PathCollection):  # scatter: the offsets
        return np.asarray(artist.get_offsets(), float).reshape(-1, 2)[:, i]
    paths = artist.get_paths()
    return np.concatenate([p.vertices[:, i] for p in paths]) if paths else np.zeros(0)


def _log_range_problems(fig, tol: float = 0.02) -> list[str]:
    """Data on a log axis beyond its outermost labelled ticks (by more than `tol` of the
    axis' span in decades; on an axis ticked at the values run, by more than half the step
    to the next value): a value the labels do not bracket."""
    problems = []
    for ax in fig.axes:
        for i, (name, axis, lim) in enumerate(
            (("x", ax.xaxis, ax.get_xlim()), ("y", ax.yaxis, ax.get_ylim()))
        ):
            lo_lim, hi_lim = sorted(lim)
            if axis.get_scale() != "log" or not lo_lim > 0:
                continue
            labelled = [
                float(t.get_loc())
                for t in _drawn_ticks(axis)
                if any(lab.get_visible() and lab.get_text().strip() for lab in (t.label1, t.label2))
            ]
            values = np.concatenate(
                [np.zeros(0), *(_drawn_values(a, ax, i) for a in [*ax.lines, *ax.collections])]
            )
            values = values[np.isfinite(values) & (values > 0)]
            if len(labelled) < 2 or not values.size:
                continue  # too few labels is reported by _tick_problems
            shown = np.clip(values, lo_lim, hi_lim)  # what is outside the limits is not drawn
            labelled.sort()
            slack_lo = slack_hi = tol * np.log10(hi_lim / lo_lim)
            if isinstance(axis.get_major_locator(), matplotlib.ticker.FixedLocator):
                # ticked at the values run (widths, a grid): a marker staggered beside its
                # value, or a grid cell around it, reaches half-way to the next one
                slack_lo = max(slack_lo, 0.501 * np.log10(labelled[1] / labelled[0]))
                slack_hi = max(slack_hi, 0.501 * np.log10(labelled[-1] / labelled[-2]))
            if np.log10(min(labelled) / shown.min()) > slack_lo:
                problems.append(
                    f"{_panel(fig, ax)}: data on the log {name} axis reach {shown.min():.3g}, "
                    f"below its lowest label {min(labelled):g}"
                )
            if np.log10(shown.max() / max(labelled)) > slack_hi:
                problems.append(
                    f"{_panel(fig, ax)}: data on the log {name} axis reach {shown.max():.3g}, "
                    f"above its highest label {max(labelled):g}"
                )
    return problems


def _series_name(artist) -> str:
    label = artist.get_label()
    if label and not label.startswith("_"):
        return f"'{label}'"
    kind = "line" if isinstance(artist, matplotlib.lines.Line2D) else "collection"
    try:
        color = matplotlib.colors.to_hex(
            artist.get_color() if kind == "line" else artist.get_facecolor()[0]
        )
    except (ValueError, IndexError, TypeError):
        color = "?"
    return f"unlabelled {color} {kind}"


def _texts(fig, renderer) -> list[tuple[str, object, object]]:
    """(description, artist, window extent) of every visible text and legend."""
    items = []

    def add(artist, name=None):
        if artist is None or not artist.get_visible():
            return
        if isinstance(artist, matplotlib.text.Text) and not artist.get_text().strip():
            return
        name = name or f"text '{artist.get_text()}'"
        items.append((name, artist, artist.get_window_extent(renderer)))

    for text in fig.texts:
        add(text)
    for legend in fig.legends:
        add(legend, "figure legend")
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        panel = _panel(fig, ax)
        for text in (ax.title, ax._left_title, ax._right_title):
            add(text, f"{panel}: title '{text.get_text()}'")
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                add(axis.label, f"{panel}: axis label '{axis.label.get_text()}'")
                add(axis.offsetText, f"{panel}: offset '{axis.offsetText.get_text()}'")
                for tick in _drawn_ticks(axis):
                    for lab in (tick.label1, tick.label2):
                        add(lab, f"{panel}: tick label '{lab.get_text()}'")
        for text in ax.texts:
            add(text, f"{panel}: text '{text.get_text()}'")
        add(ax.get_legend(), f"{panel}: legend")
    return items


def _shrunk(box, by: float):
    return matplotlib.transforms.Bbox.from_extents(
        box.x0 + by, box.y0 + by, box.x1 - by, box.y1 - by
    )


def _inside(points, box, pad: float = 0.0) -> bool:
    points = points[np.isfinite(points).all(axis=1)]
    return bool(
        (
            (points[:, 0] > box.x0 - pad)
            & (points[:, 0] < box.x1 + pad)
            & (points[:, 1] > box.y0 - pad)
            & (points[:, 1] < box.y1 + pad)
        ).any()
    )


def _dense(points, step: float = 0.5) -> np.ndarray:
    """Points at most `step` pixels apart along a polyline (segments with a NaN end are
    gaps, as matplotlib draws them)."""
    p, q = points[:-1], points[1:]
    ok = np.isfinite(p).all(axis=1) & np.isfinite(q).all(axis=1)
    p, q = p[ok], q[ok]
    if not len(p):
        return points[:1]
    n = np.minimum(np.ceil(np.hypot(*(q - p).T) / step).astype(int), 20000) + 1
    frac = np.concatenate([np.linspace(0, 1, k) for k in n])
    return np.repeat(p, n, axis=0) + frac[:, None] * np.repeat(q - p, n, axis=0)


def _touches(artist, box, px_per_pt: float) -> bool:
    """Whether `artist` (a line, markers, band or scatter) draws inside `box`."""
    if isinstance(artist, matplotlib.lines.Line2D):
        xy = artist.get_transform().transform(np.asarray(artist.get_xydata(), float))
        ls = artist.get_linestyle()
        if ls not in ("None", "", " ", "none") and len(xy) > 1:
            if _inside(_dense(xy), box, artist.get_linewidth() * px_per_pt / 2):
                return True
        if artist.get_marker() not in (None, "None", "", " ", "none"):
            return _inside(xy, box, artist.get_markersize() * px_per_pt / 2)
        return False
    if isinstance(artist, matplotlib.collections.LineCollection):
        trans = artist.get_transform()
        return any(_inside(_dense(trans.transform(s)), box) for s in artist.get_segments())
    if isinstance(artist, matplotlib.collections.PolyCollection):
        trans = artist.get_transform()
        return any(trans.transform_path(p).intersects_bbox(box) for p in artist.get_paths())
    if isinstance(artist, matplotlib.collections.PathCollection):
        offsets = np.asarray(artist.get_offsets(), float)
        if not offsets.size:
            return False
        xy = artist.get_offset_transform().transform(offsets)
        sizes = artist.get_sizes()
        pad = np.sqrt(sizes.max() if sizes.size else 36.0) / 2 * px_per_pt
        return _inside(xy, box, pad)
    return False


def _overlap_problems(fig, renderer, tol: float) -> list[str]:
    problems = []
    texts = [(name, artist, _shrunk(box, tol)) for name, artist, box in _texts(fig, renderer)]
    for i, (name_a, _, a) in enumerate(texts):
        for name_b, _, b in texts[i + 1 :]:
            if a.width > 0 and b.width > 0 and a.overlaps(b):
                problems.append(f"{name_a} overlaps {name_b}")
    px_per_pt = fig.dpi / 72
    for name, _, box in texts:
        for ax in fig.axes:
            clip = matplotlib.transforms.Bbox.intersection(box, ax.bbox)
            if clip is None or clip.width <= 0 or clip.height <= 0:
                continue
            for artist in [*ax.lines, *ax.collections]:
                if artist.get_visible() and _touches(artist, clip, px_per_pt):
                    problems.append(f"{name} covers {_series_name(artist)} of {_panel(fig, ax)}")
    return problems


def _series(ax) -> dict[str, list]:
    """Lines and scatters grouped by colour and style: one group is one series (ten seeds
    drawn alike are one series)."""
    groups: dict[tuple, list] = {}
    for artist in [*ax.lines, *ax.collections]:
        if not artist.get_visible():
            continue
        if isinstance(artist, matplotlib.lines.Line2D):
            style = (str(artist.get_linestyle()), str(artist.get_marker()), artist.get_linewidth())
            key = ("line", matplotlib.colors.to_hex(artist.get_color()), *style)
        elif isinstance(
            artist, matplotlib.collections.PathCollection | matplotlib.collections.LineCollection
        ):
            colors = (
                artist.get_facecolor() if len(artist.get_facecolor()) else artist.get_edgecolor()
            )
            key = ("collection", tuple(map(matplotlib.colors.to_hex, colors[:1])))
        else:
            continue  # bands are backgrounds, drawn translucent on purpose
        groups.setdefault(key, []).append(artist)
    named = {}
    for artists in groups.values():
        labelled = [a for a in artists if not a.get_label().startswith("_")]
        named[_series_name((labelled or artists)[0])] = artists
    return named


def _hidden_series(fig, min_visible: float) -> list[str]:
    """Each series drawn alone, and every data artist of its axes drawn with and without
    it (in matplotlib's zorder): the pixels that change are the ones that show."""
    from matplotlib.backends.backend_agg import RendererAgg

    width, height = fig.canvas.get_width_height()

    def render(artists) -> np.ndarray:
        renderer = RendererAgg(width, height, fig.dpi)
        for artist in artists:
            artist.draw(renderer)
        rgba = np.asarray(renderer.buffer_rgba(), dtype=float) / 255
        return np.concatenate(
            [rgba[..., :3] * rgba[..., 3:] + 1 - rgba[..., 3:], rgba[..., 3:]], -1
        )

    problems = []
    for ax in fig.axes:
        data = [a for a in ax.get_children() if _is_data(a, ax) and a.get_visible()]
        data.sort(key=lambda a: a.get_zorder())
        full = render(data)
        for name, artists in _series(ax).items():
            footprint = render(artists)[..., 3] > 0.25
            drawn = int(footprint.sum())
            if not drawn:
                problems.append(f"{_panel(fig, ax)}: {name} draws nothing inside the axes")
                continue
            without = render([a for a in data if not any(a is b for b in artists)])
            changed = np.abs(without - full)[..., :3].max(axis=-1) > 0.25
            shown = int((changed & footprint).sum())
            if shown < min_visible * drawn:
                problems.append(
                    f"{_panel(fig, ax)}: {name} is hidden ({shown} of its {drawn} pixels show)"
                )
    return problems


def _is_data(artist, ax) -> bool:
    return (
        isinstance(
            artist,
            matplotlib.lines.Line2D | matplotlib.collections.Collection | matplotlib.patches.Patch,
        )
        and artist is not ax.patch
        and artist not in ax.spines.values()
    )


def panels(fig) -> list[str]:
    """The panel letters drawn on `fig` ("(a)", "(b)", ... as axes titles), in order: what
    its caption must describe."""
    titles = [ax.get_title(loc) for ax in fig.axes for loc in ("left", "center")]
    return sorted({t[1] for t in titles if len(t) == 3 and t[0] + t[2] == "()" and t[1].islower()})


def read_checks(figures_dir: str | os.PathLike = "results/figures") -> dict[str, list[str]]:
    """The problems the build itself recorded (<figure>.check.json beside each figure PDF):
    {"<kind>/<instance>/<figure>": problems}; a PDF without a sidecar reads as unchecked."""
    figures_dir = Path(figures_dir)
    out = {}
    for pdf in sorted(figures_dir.glob("*/*/*.pdf")):
        sidecar = check_path(pdf)
        key = f"{pdf.parent.parent.name}/{pdf.parent.name}/{pdf.stem}"
        out[key] = read_json(sidecar)["problems"] if sidecar.exists() else ["not checked"]
    return out
