"""The texts of the HTML report (``make report`` → results/report.html, Snakemake's report).

Snakemake's report shows every figure the workflow draws. This module writes what it shows
beside them: each figure's caption as the paper prints it (numbers and verdicts filled in from
the paper's own macro files, results/paper/numbers.tex and verdicts.tex, so the report and
the PDF say the same), the claims about the figure's instance with their outcomes, and a
summary page (the outcome counts, the scorecard, the stage costs). Each figure's caption
template (workflow/report/figure-<i>.rst) includes the file written here for that figure;
the figures are grouped by the paper section that shows them, in the paper's order.

JAX-free and matplotlib-free: the Snakefile imports it to name each figure's category.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ntkpaper.paper import claims as claim_rules

MACRO = re.compile(r"\\csname (ntkv?)@(.+?)\\endcsname\{(.*)\}\s*$", re.M)
NOT_IN_PAPER = "99 Figures the paper does not show"


@dataclass(frozen=True)
class PaperFigure:
    number: int  # the figure's number in the paper
    section: int  # the section's number in the paper
    section_title: str
    targets: tuple[str, ...]  # "kind/name/figure" of each figure file it includes
    caption: str  # LaTeX, as written
    label: str | None  # \label{fig:...}


def braced(text: str, start: int) -> tuple[str, int]:
    """The content of the balanced {...} group that opens at text[start], and the index just
    past its closing brace."""
    if text[start] != "{":
        raise ValueError(f"no group at {start}: {text[start : start + 20]!r}")
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{" and text[i - 1] != "\\":
            depth += 1
        elif text[i] == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
    raise ValueError(f"unbalanced group at {start}: {text[start : start + 40]!r}")


def command_argument(text: str, command: str) -> str | None:
    """The first argument of the first ``\\command{...}`` in text (None when absent)."""
    at = text.find("\\" + command + "{")
    return None if at < 0 else braced(text, at + len(command) + 1)[0]


def strip_comments(tex: str) -> str:
    return re.sub(r"(?<!\\)%.*", "", tex)


def section_files(paper_tex: Path) -> list[Path]:
    """The section files the paper inputs, in its order."""
    body = strip_comments(paper_tex.read_text())
    names = re.findall(r"\\input\{(sections/[^}]+)\}", body)
    return [paper_tex.parent / f"{name}.tex" for name in names]


@dataclass(frozen=True)
class Paper:
    figures: tuple[PaperFigure, ...]  # in the paper's order
    labels: Mapping[str, str]  # \label → how the report names it: "Figure 3", "Section 5 (…)"


@functools.lru_cache(maxsize=4)
def read_paper(paper_tex: str | Path) -> Paper:
    """The paper's figure environments, numbered as LaTeX numbers them, and the names of its
    figure and section labels, in one pass over the section files (read once per process:
    the report asks for every figure's group)."""
    figures: list[PaperFigure] = []
    labels: dict[str, str] = {}
    section, title = 0, ""
    pattern = re.compile(r"\\section\*?\{|\\begin\{figure\*?\}(.*?)\\end\{figure\*?\}", re.S)
    for path in section_files(Path(paper_tex)):
        tex = strip_comments(path.read_text())
        for match in pattern.finditer(tex):
            if match.group(0).startswith("\\section"):
                title, end = braced(tex, match.end() - 1)
                if not match.group(0).startswith("\\section*"):
                    section += 1
                    label = re.match(r"\s*\\label\{([^}]+)\}", tex[end:])
                    if label:
                        labels[label.group(1)] = f"Section {section} ({title})"
                continue
            block = match.group(1)
            figure = PaperFigure(
                number=len(figures) + 1,
                section=section,
                section_title=title,
                targets=tuple(
                    t.removesuffix(".pdf") for t in re.findall(r"\\figpath\{([^}]+)\}", block)
                ),
                caption=command_argument(block, "caption") or "",
                label=command_argument(block, "label"),
            )
            figures.append(figure)
            if figure.label:
                labels[figure.label] = f"Figure {figure.number}"
    return Paper(figures=tuple(figures), labels=labels)


def paper_figures(paper_tex: str | Path) -> tuple[PaperFigure, ...]:
    return read_paper(paper_tex).figures


PANEL = r"(?<![\^\w\\{])\(([a-z])\)"  # "(b)", not the "(k)" of $f^{(k)}$


def caption_panels(f: PaperFigure, figures: Sequence[PaperFigure] = ()) -> set[str]:
    """The panel letters a caption describes: every "(x)", and each letter of a range
    "(a) to (c)" or "(a)--(c)"; a caption that only says "as \\cref{fig:other}" has the
    other figure's panels (looked up in `figures`)."""
    caption = strip_comments(f.caption)
    letters = set(re.findall(PANEL, caption))
    for a, b in re.findall(PANEL + r"\s*(?:--|–|to)\s*" + PANEL, caption):
        letters |= {chr(c) for c in range(ord(a), ord(b) + 1)}
    other = re.search(r"as \\cref\{(fig:[^}]+)\}", caption)
    if not letters and other:
        same = [g for g in figures if g.label == other.group(1)]
        return caption_panels(same[0], figures) if same else letters
    return letters


def category(paper_tex: str | Path, kind: str, name: str, figure: str) -> str:
    """The report's group for a figure: the paper section that shows it, in paper order."""
    target = f"{kind}/{name}/{figure}"
    for f in read_paper(paper_tex).figures:
        if target in f.targets:
            return f"{f.section:02d} {plain(f.section_title)}"
    return NOT_IN_PAPER


def read_macros(*paths: str | Path) -> dict[str, str]:
    """The paper's macro files read back: {"N:<key>": text, "V:<claim/instance>": verdict}."""
    macros: dict[str, str] = {}
    for path in paths:
        for kind, key, value in MACRO.findall(Path(path).read_text()):
            macros[("V:" if kind == "ntkv" else "N:") + key] = value
    return macros


SYMBOLS = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "eta": "η",
    "theta": "θ",
    "Theta": "Θ",
    "lambda": "λ",
    "mu": "μ",
    "sigma": "σ",
    "infty": "∞",
    "times": "×",
    "cdot": "·",
    "approx": "≈",
    "le": "≤",
    "leq": "≤",
    "ge": "≥",
    "geq": "≥",
    "pm": "±",
    "to": "→",
    "ell": "ℓ",
    "sqrt": "√",
    "propto": "∝",
    "in": "∈",
    "sum": "Σ",
    "partial": "∂",
    "ldots": "…",
    "dots": "…",
    "nabla": "∇",
    "Sigma": "Σ",
    "kappa": "κ",
    "rho": "ρ",
    "tau": "τ",
    "phi": "φ",
    "chi": "χ",
    "omega": "ω",
    "epsilon": "ε",
    "varepsilon": "ε",
    "xi": "ξ",
    "nu": "ν",
    "pi": "π",
    "Delta": "Δ",
    "langle": "⟨",
    "rangle": "⟩",
    "lVert": "‖",
    "rVert": "‖",
    "Vert": "‖",
    "|": "‖",
    "min": "min",
    "max": "max",
    "ln": "ln",
    "log": "log",
    "exp": "exp",
    "mid": "|",
    "star": "⋆",
    "neq": "≠",
    "ne": "≠",
    "sim": "∼",
}
DASHES = (("---", "—"), ("--", "–"), ("``", "“"), ("''", "”"), ("~", " "))


def plain(
    tex: str, macros: Mapping[str, str] | None = None, labels: Mapping[str, str] | None = None
) -> str:
    """LaTeX prose as plain text: macros filled in, maths in Unicode, commands dropped."""
    macros, labels = macros or {}, labels or {}
    text = tex
    for _ in range(5):  # a macro's text may hold LaTeX of its own
        text = re.sub(r"\\N\{([^}]+)\}", lambda m: macros.get("N:" + m.group(1), "??"), text)
        text = re.sub(r"\\V\{([^}]+)\}", lambda m: macros.get("V:" + m.group(1), "??"), text)
    text = re.sub(
        r"\\[cC]ref\{([^}]+)\}",
        lambda m: ", ".join(labels.get(k, "") for k in m.group(1).split(",")),
        text,
    )
    text = re.sub(
        r"\\cite[pt]?(\[[^\]]*\])?\{([^}]+)\}",
        lambda m: f"[{m.group(2)}{', ' + m.group(1)[1:-1] if m.group(1) else ''}]",
        text,
    )
    text = re.sub(r"\\(label|figpath)\{[^}]*\}", "", text)
    text = re.sub(r"\\(frac|tfrac|dfrac)\{([^{}]*)\}\{([^{}]*)\}", r"(\2)/(\3)", text)
    text = re.sub(
        r"\\([A-Za-z]+|\|)",
        lambda m: SYMBOLS.get(m.group(1), "" if m.group(1) != "newline" else " "),
        text,
    )
    text = re.sub(
        r"\\([%&#_$,;:! ])",
        lambda m: {",": " ", ";": " ", ":": " ", "!": ""}.get(m.group(1), m.group(1)),
        text,
    )
    text = text.replace("\\\\", " ")
    for latex, char in DASHES:
        text = text.replace(latex, char)
    text = re.sub(r"(?<!\\)\$", "", text)
    text = text.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", text).strip()


def rst_escape(text: str) -> str:
    return re.sub(r"([\\*`_|\[\]])", r"\\\1", text)


def measured_text(measured: Any) -> str:
    """A claim's measured value in words, as the scorecard gives it: point [lo, hi], n seeds."""
    bounds = claim_rules.interval(measured)
    if bounds is not None:
        point, lo, hi, n = bounds
        return f"{point:.3g} [{lo:.3g}, {hi:.3g}]" + (f", {n} seeds" if n else "")
    if isinstance(measured, float):
        return f"{measured:.3g}"
    return str(measured)


def claim_line(r: Mapping[str, Any]) -> str:
    outcome = r["outcome"] + (f" ({r['class']})" if r.get("class") else "")
    return (
        f"- **{rst_escape(r['claim'])}** — *{rst_escape(outcome)}*: "
        f"{rst_escape(plain(r['statement']))}. Expected {rst_escape(r['expected_text'])}, "
        f"measured {rst_escape(measured_text(r['measured']))} "
        f"(source: {rst_escape(plain(r['source']))})."
    )


def figure_text(
    f: PaperFigure | None,
    target: str,
    results: Sequence[Mapping[str, Any]],
    macros: Mapping[str, str],
    labels: Mapping[str, str],
) -> str:
    """One figure's report caption: the paper's caption and its instance's claims."""
    kind, name, _ = target.split("/")
    if f is None:
        lines = ["The paper does not show this figure."]
    else:
        lines = [
            f"**Figure {f.number}** (Section {f.section}, {rst_escape(plain(f.section_title))}). "
            + rst_escape(plain(f.caption, macros, labels))
        ]
    mine = [r for r in results if r["experiment"] == f"{kind}.{name}"]
    if mine:
        lines += ["", f"Claims about ``{kind}/{name}``:", ""]
        lines += [claim_line(r) for r in mine]
    lines += [
        "",
        f"Data: ``results/figures/{target}.npz``; numbers: ``results/numbers/{kind}/{name}.json``.",
    ]
    return "\n".join(lines) + "\n"


def summary_text(evaluated: Mapping[str, Any], stage_rows: Iterable[Sequence[str]]) -> str:
    """The report's front page: outcome counts, the scorecard and the stage costs, from
    results/claims.json as ntkpaper.paper.claims wrote it ({"counts": ..., "claims": [...]})."""
    results, counts = evaluated["claims"], evaluated["counts"]["science"]
    lines = [
        f"Scientific claims: {counts['holds']} hold, {counts['fails']} fail, "
        f"{counts['inconclusive']} inconclusive, of {counts['total']} (the paper's scorecard "
        "has the rule and every margin).",
        "",
        ".. list-table:: Scorecard",
        "   :header-rows: 1",
        "",
        "   * - claim",
        "     - instance",
        "     - outcome",
        "     - expected",
        "     - measured",
    ]
    for r in results:
        for i, cell in enumerate(
            (
                r["claim"],
                r["instance"],
                r["outcome"],
                r["expected_text"],
                measured_text(r["measured"]),
            )
        ):
            lines.append(("   * - " if i == 0 else "     - ") + rst_escape(str(cell)))
    rows = list(stage_rows)
    if rows:
        lines += [
            "",
            ".. list-table:: Stage costs (from Snakemake's benchmark files)",
            "   :header-rows: 1",
            "",
        ]
        for row in rows:
            lines += [
                ("   * - " if i == 0 else "     - ") + rst_escape(c) for i, c in enumerate(row)
            ]
    return "\n".join(lines) + "\n"


def write_texts(
    out_dir: str | Path,
    *,
    paper_tex: str | Path,
    figure_targets: Iterable[str],
    evaluated: Mapping[str, Any],
    macros: Mapping[str, str],
    stage_rows: Iterable[Sequence[str]],
) -> list[Path]:
    """Write <out_dir>/summary.rst and <out_dir>/<kind>/<name>/<figure>.rst per figure;
    `evaluated` is results/claims.json."""
    from ntkpaper.pipeline import io

    paper = read_paper(paper_tex)
    figures, labels = paper.figures, paper.labels
    written = [Path(out_dir) / "summary.rst"]
    io.write_text(written[0], summary_text(evaluated, stage_rows))
    results = evaluated["claims"]
    for target in figure_targets:
        shown = next((f for f in figures if target in f.targets), None)
        path = Path(out_dir) / f"{target}.rst"
        io.write_text(path, figure_text(shown, target, results, macros, labels))
        written.append(path)
    return written
