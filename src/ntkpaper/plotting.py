"""One paper style for every figure: sizes matching the LaTeX body, a colour-blind-safe
palette (Okabe–Ito), labelled log axes, vector PDF written atomically."""

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

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ntkpaper.io import atomic_path, write_json

TEXT_WIDTH_IN = 6.45  # a4paper with 2.3 cm margins, as in paper/ntk.tex
OKABE_ITO = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
STYLE = {
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8.5,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "font.family": "serif",
    "mathtext.fontset": "cm",
    "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "lines.linewidth": 1.2,
    "lines.markersize": 3.5,
    "legend.frameon": False,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,
}


def colors(n: int) -> list[str]:
    """Qualitative colours, for categories (methods, layer types, rules): Okabe–Ito without
    its yellow, which is faint on white and hard to tell from the orange."""
    palette = [c for c in OKABE_ITO if c != "#F0E442"]
    return [palette[i % len(palette)] for i in range(n)]


def sequential(n: int) -> list[str]:
    """Sequential colours, for ordered quantities (width, learning rate, mode index): viridis
    from dark to light, stopping short of its pale yellow end."""
    cmap = matplotlib.colormaps["viridis"]
    return [matplotlib.colors.to_hex(cmap(x)) for x in np.linspace(0.0, 0.8, n)]


MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")  # tell apart series that may coincide


def figure(ncols: int = 1, nrows: int = 1, *, height: float = 2.1, width: float = 1.0):
    """A figure `width` × the text width wide, `height` inches per row."""
    plt.rcParams.update(STYLE)
    return plt.subplots(
        nrows,
        ncols,
        figsize=(TEXT_WIDTH_IN * width, height * nrows),
        constrained_layout=True,
        squeeze=False,
    )


def panel_labels(axes) -> None:
    for i, ax in enumerate(axes.flat):
        ax.set_title(f"({chr(ord('a') + i)})", loc="left", fontweight="bold")


def tick_text(value: float, _pos=None) -> str:
    """A tick label as a reader writes the number: 0.02, 5, 2000; powers of ten beyond."""
    if value == 0:
        return "0"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:.6g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    power = f"10^{{{int(exponent)}}}"
    return f"${power}$" if mantissa == "1" else rf"${mantissa}\times{power}$"


def readable_log_axes(fig) -> None:
    """At least two labelled ticks on every log axis. Where two or more powers of ten fall
    inside the limits they are the labels (minor ticks unlabelled: matplotlib's 2×, 3×, 4×
    … crowd a narrow panel); a shorter axis is labelled at 1-2-5 multiples, or every
    integer multiple, as plain numbers. Axes ticked by hand (`log_ticks`) are left alone."""
    for ax in fig.axes:
        for axis, lim in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
            if axis.get_scale() != "log" or isinstance(
                axis.get_major_locator(), matplotlib.ticker.FixedLocator
            ):
                continue
            lo, hi = sorted(lim)
            if not lo > 0:
                continue
            first, last = np.floor(np.log10(lo) - 1e-9), np.ceil(np.log10(hi) + 1e-9)
            decades = [10.0**e for e in np.arange(first, last + 1) if lo <= 10.0**e <= hi]
            if len(decades) >= 2:
                axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
                continue
            for subs in ((1, 2, 5), (1, 2, 3, 4, 5, 6, 7, 8, 9)):
                ticks = [m * 10.0**e for e in np.arange(first, last + 1) for m in subs]
                ticks = [t for t in ticks if lo <= t <= hi]
                if len(ticks) >= 2:
                    break
            else:  # less than a factor of 1.25: the ends and the middle, two digits each
                ticks = sorted({float(f"{t:.2g}") for t in np.geomspace(lo, hi, 3)})
            axis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
            axis.set_major_formatter(matplotlib.ticker.FuncFormatter(tick_text))
            axis.set_minor_locator(matplotlib.ticker.LogLocator(subs="auto"))
            axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def time_axis(ax, label: str = "step $t$") -> None:
    """The training step on a symlog axis: linear from 0 to 1, logarithmic beyond, so t = 0
    is drawn where it is instead of being clipped or floored onto t = 1."""
    ax.set_xscale("symlog", linthresh=1.0, linscale=0.4)
    ax.set_xlim(left=-0.15)  # no negative steps; a sliver of room for a marker at t = 0
    ax.xaxis.set_major_formatter(
        matplotlib.ticker.FuncFormatter(
            lambda v, _pos=None: tick_text(v) if v < 100 else f"$10^{{{round(np.log10(v))}}}$"
        )
    )
    ax.xaxis.set_minor_locator(
        matplotlib.ticker.SymmetricalLogLocator(linthresh=1.0, base=10, subs=range(2, 10))
    )
    ax.set_xlabel(label)


def positive(x, *ys):
    """x and ys where every y is > 0 and finite: what a log y axis can show (masking, not
    clipping, the rest)."""
    x = np.asarray(x)
    keep = np.ones(x.shape, bool)
    for y in ys:
        keep &= np.isfinite(y) & (np.asarray(y) > 0)
    return (x[keep], *(np.asarray(y)[keep] for y in ys))


def save(fig, path: str | os.PathLike, *, check: str | None = None) -> list[str] | None:
    """Write `fig` to `path` (atomically) after running `check_figure` on it; `check` (or
    the environment's NTKPAPER_FIGURE_CHECK) is record, raise or off (see below). Returns
    the problems found (None when the check is off)."""
    readable_log_axes(fig)
    path = Path(path)
    mode = check or os.environ.get(CHECK_ENV, "record")
    if mode not in ("record", "raise", "off"):
        raise ValueError(f"{CHECK_ENV}={mode!r}: expected record, raise or off")
    problems = None if mode == "off" else check_figure(fig)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or "pdf")
    plt.close(fig)
    if problems is not None:
        LAST_CHECK[str(path)] = problems
        write_json(check_path(path), {"figure": path.name, "problems": problems})
        if mode == "raise" and problems:
            raise FigureCheckError(f"{path}:\n  " + "\n  ".join(problems))
    return problems


def log_ticks(ax, values, *, axis: str = "x", min_gap: float = 0.22, fmt=None) -> None:
    """Log axis ticked at the values actually run; a tick is labelled only when it sits at
    least `min_gap` of the axis' log span from the labelled tick to its right (the largest
    is always labelled), so neighbours such as 1024 and 1600 never print over each other."""
    values = sorted(float(v) for v in values)
    fmt = fmt or (lambda v: f"{v:g}")
    span = max(np.log10(values[-1] / values[0]), 1e-12)
    labels, right = [], None
    for v in reversed(values):
        show = right is None or np.log10(right / v) / span >= min_gap
        labels.append(fmt(v) if show else "")
        right = v if show else right
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_ticks(values, labels[::-1])
    target.set_minor_locator(matplotlib.ticker.NullLocator())


def width_axis(ax, widths, label: str = "width $n$", *, infinity: bool = False) -> float | None:
    """Log x axis ticked at the widths actually run (see `log_ticks`). With `infinity`, one
    more tick labelled ∞ to the right of the widest, where infinite-width predictions go;
    returns its position (None without)."""
    widths = sorted(float(w) for w in widths)
    x_inf = None
    if infinity:
        span = widths[-1] / widths[0] if widths[-1] > widths[0] else 10.0
        x_inf = widths[-1] * span**0.3
    log_ticks(ax, widths, fmt=lambda w: str(int(w)))
    if infinity:
        ticks = [*widths, x_inf]
        labels = [t.get_text() for t in ax.xaxis.get_ticklabels()]
        ax.xaxis.set_ticks(ticks, [*labels[: len(widths)], r"$\infty$"])
        ax.set_xlim(widths[0] / span**0.08, x_inf * span**0.16)
    ax.set_xlabel(label)
    return x_inf


def legend_below(ax, ncol: int = 2, *, gap_pt: float = 30.0, **kwargs) -> None:
    """A legend under the axes, so it never covers data: `gap_pt` points below the axes'
    bottom edge (clear of tick labels and the x label, however small the axes end up)."""
    offset = matplotlib.transforms.ScaledTranslation(0, -gap_pt / 72, ax.figure.dpi_scale_trans)
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        bbox_transform=ax.transAxes + offset,
        ncol=ncol,
        fontsize=6,
        **kwargs,
    )


# ------------------------------------------------------------------------ the figure check
# What a careful reader checks on every figure, in a form a machine can run. `save` runs it
# on every figure it writes; NTKPAPER_FIGURE_CHECK chooses what happens to the problems:
#   record (default)  list them in <figure>.check.json beside the figure, and in LAST_CHECK
#   raise             the same, then raise FigureCheckError
#   off               skip the check
CHECK_ENV = "NTKPAPER_FIGURE_CHECK"
TOLERANCE_PT = 1.0  # text may touch data or other text by this much
MIN_VISIBLE = 0.5  # a series must show at least half of the pixels it draws alone
LAST_CHECK: dict[str, list[str]] = {}  # figure path -> problems, for every figure saved


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
      a vertical segment);
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
        problems = _tick_problems(fig) + _log_problems(fig)
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


def check_build(figures_dir: str | os.PathLike = "results/figures") -> dict[str, list[str]]:
    """The figure check on every figure of a finished build, redrawn from the .npz data
    beside it (`<kind>/<instance>/<figure>.npz`) into a scratch directory, so the build is
    left untouched and stale sidecars do not matter: {"<kind>/<instance>/<figure>": problems}.
    Imports each kind's figures module; never JAX."""
    import importlib
    import tempfile

    from ntkpaper.io import read_npz

    figures_dir = Path(figures_dir)
    out: dict[str, list[str]] = {}
    mode = os.environ.get(CHECK_ENV)
    os.environ[CHECK_ENV] = "record"
    try:
        with tempfile.TemporaryDirectory() as scratch:
            for npz in sorted(figures_dir.glob("*/*/*.npz")):
                kind, instance, name = npz.parent.parent.name, npz.parent.name, npz.stem
                module = importlib.import_module(f"ntkpaper.figures.{kind}")
                plot = getattr(module, f"plot_{name}", None)
                if plot is None:
                    continue  # data without a figure function (not a figure's data file)
                pdf = Path(scratch) / f"{kind}-{instance}-{name}.pdf"
                plot(read_npz(npz), pdf)
                out[f"{kind}/{instance}/{name}"] = LAST_CHECK.pop(str(pdf), [])
    finally:
        if mode is None:
            del os.environ[CHECK_ENV]
        else:
            os.environ[CHECK_ENV] = mode
    return out


def read_checks(figures_dir: str | os.PathLike = "results/figures") -> dict[str, list[str]]:
    """The problems the build itself recorded (<figure>.check.json beside each figure PDF):
    {"<kind>/<instance>/<figure>": problems}; a PDF without a sidecar reads as unchecked."""
    from ntkpaper.io import read_json

    figures_dir = Path(figures_dir)
    out = {}
    for pdf in sorted(figures_dir.glob("*/*/*.pdf")):
        sidecar = check_path(pdf)
        key = f"{pdf.parent.parent.name}/{pdf.parent.name}/{pdf.stem}"
        out[key] = read_json(sidecar)["problems"] if sidecar.exists() else ["not checked"]
    return out
