"""Numbers become macros, claims are evaluated honestly, the claims file is validated."""

from __future__ import annotations

import math

import pytest
import yaml

from ntkpaper import report

from .conftest import ROOT


def test_flatten_and_macros():
    tex = report.numbers_to_macros({"k.inst": {"slope": -0.5123, "n": 1000, "a": [1.5, None]}})
    assert r"\csname ntk@k.inst.slope\endcsname{\ensuremath{-0.512}}" in tex
    assert r"\csname ntk@k.inst.n\endcsname{1\,000}" in tex
    assert r"ntk@k.inst.a.0\endcsname{1.50}" in tex
    assert r"ntk@k.inst.a.1\endcsname{\textemdash{}}" in tex


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.000123, r"1.23\times10^{-4}"),
        (123456.0, r"1.23\times10^{5}"),
        (2.0, "2.00"),
        (math.nan, r"\textemdash{}"),
        (True, "yes"),
    ],
)
def test_format_number(value, text):
    assert report.format_number(value) == text


def test_claims_hold_fail_and_skip():
    claims = [
        {
            "id": "C",
            "kind": "k",
            "quantity": "slope",
            "statement": "s",
            "source": "x",
            "expected": {"value": -0.5, "tol": 0.1},
        },
    ]
    numbers = {"k.a": {"slope": -0.45}, "k.b": {"slope": -0.2}, "k.c": {}, "j.a": {"slope": 0}}
    results = {r["id"]: r for r in report.evaluate_claims(claims, numbers)}
    assert set(results) == {"C/a", "C/b"}
    assert results["C/a"]["holds"] is True and results["C/b"]["holds"] is False
    assert report.holds(None, {"min": 0}) is None
    assert report.holds(math.nan, {"max": 1}) is False
    assert report.holds(5, {"value": 4, "rel_tol": 0.3}) is True


def test_claims_file_is_valid_and_declares_every_claim_once():
    claims = yaml.safe_load((ROOT / "experiments/claims.yaml").read_text())
    report.check_claims_file(claims)
    with pytest.raises(ValueError, match="unknown"):
        report.check_claims_file([{**claims[0], "typo": 1}])
    with pytest.raises(ValueError, match="duplicate"):
        report.check_claims_file([claims[0], claims[0]])


def test_latex_escape_covers_what_ot1_would_garble():
    assert report.latex_escape("a<b>c^2_d") == r"a\textless{}b\textgreater{}c\textasciicircum{}2\_d"


def test_scorecard_lists_every_result():
    results = [
        {
            "id": "C/a_b",
            "statement": "50% s",
            "source": "x",
            "expected_text": "≤ 1",
            "measured": 0.5,
            "holds": True,
        },
    ]
    tex = report.scorecard_tex(results)
    assert r"\texttt{C/\allowbreak a\_b}" in tex and r"50\% s" in tex and "holds" in tex
