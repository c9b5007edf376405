"""The code's shape, as the README's style promises it: formatting on, short functions."""

from __future__ import annotations

import ast

from .conftest import ROOT

SRC = ROOT / "src/ntkpaper"
MAX_LINES = 80
REASON = "Over 80 lines by design"


def test_formatting_is_on():
    """ruff format runs over src; at most a few lines opt out with `# fmt: skip`."""
    skips = sum(p.read_text().count("# fmt: skip") for p in SRC.rglob("*.py"))
    assert skips <= 10, f"{skips} '# fmt: skip' in src"


def test_long_functions_say_why():
    """No function over 80 lines unless its docstring gives the reason."""
    unexplained = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_LINES and REASON not in (ast.get_docstring(node) or ""):
                    unexplained.append(f"{path.relative_to(SRC)}:{node.name} ({length} lines)")
    assert not unexplained, unexplained
