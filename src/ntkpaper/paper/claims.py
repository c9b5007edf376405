"""Claims: their declarations (experiments/claims.yaml) and how each is decided.

A claim compares one measured quantity of every configured instance of its study kind with an
expectation fixed in advance: a region the quantity should lie in.

* ``{value: v, margin: m}`` — equivalence: the quantity lies within v ± m;
* ``{max: b}`` / ``{min: b}`` (optionally ``tol: t``) — a one-sided bound, relaxed by t;
* ``{min: a, max: b}`` — a range.

Three outcomes, never two:

* **holds** when the quantity is shown inside the region: the whole 90% interval lies inside
  (for a family of several claims, the equivalence test survives Holm's correction);
* **fails** when it is shown outside: the whole interval lies outside (likewise corrected);
* **inconclusive** otherwise: the interval straddles an edge of the region. More seeds
  sharpen such a verdict instead of breaking it.

A quantity with a bootstrap confidence distribution (``cdist``, from
``ntkpaper.statistics.fits``) gives
two one-sided p-values: ``p_hold`` for "inside the region" (the larger of the two one-sided
tests against its edges, as in TOST) and ``p_fail`` for "outside". Science claims come in
families, one per experiment (E1, E2, ...: the part of the id before the first hyphen), each
with one declared primary claim; within a family the p-values are corrected by Holm's
step-down procedure at α = (1 − 0.9)/2 per side, so the chance of any false "holds" or any
false "fails" in a family is at most 5% each. For a family of one claim this is exactly "the
90% interval lies inside (outside) the region". An interval that is not a sampling interval
(a bracket on a grid, a range over timing rounds) and a plain number are decided as they
stand, outside the correction.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ntkpaper.statistics import fits

CLAIM_KEYS = {"id", "kind", "category", "quantity", "statement", "source", "expected"}
OPTIONAL_CLAIM_KEYS = {
    "reason",  # why this margin or bound (required for science claims)
    "primary",  # the family's primary claim (exactly one per science family)
    "outside_setting",  # why the expectation reaches beyond its source's setting (text, or
    # {instance: text} where only some instances do)
    "decide",  # what would decide the claim where our run cannot
    "only_where_measured",  # instances lacking the quantity are skipped, not an error
    "subject",  # what the quantity is measured on, where not the instance's data set (the
    # scorecard names it beside the instance)
}
EXPECTED_KEYS = {"value", "margin", "min", "max", "tol"}
CATEGORIES = {
    "science": "Scientific claims",
    "data": "Data checks",
    "software": "Software checks",
}
OUTCOMES = ("holds", "fails", "inconclusive", "n/a")
ALPHA = (1 - fits.LEVEL) / 2  # per side: a 90% two-sided interval
POINT_KEYS = ("value", "slope", "ratio", "mean")  # the point estimate of an interval record
CLASSES = {
    "fails": "not reproduced at our widths",
    "fails_outside": "expectation outside its source's setting",
    "inconclusive": "inconclusive at our precision",
}
MISSING = object()


def family_of(claim_id: str) -> str:
    """'E1-hidden' → 'E1': the experiment a claim belongs to."""
    return claim_id.split("-", 1)[0]


def family_order(family: str) -> tuple[int, str]:
    """E2 before E10; data and software families (D1, ...) after the experiments."""
    digits = re.sub(r"\D", "", family)
    return (int(digits) if digits and family.startswith("E") else 10**6, family)


def region(expected: Mapping[str, float]) -> tuple[float, float]:
    """The interval [lo, hi] an expectation allows (infinite on an open side)."""
    if "value" in expected:
        return expected["value"] - expected["margin"], expected["value"] + expected["margin"]
    tol = expected.get("tol", 0.0)
    return expected.get("min", -math.inf) - tol, expected.get("max", math.inf) + tol


def check_claims_file(claims: Any, path: str = "experiments/claims.yaml") -> list[dict[str, Any]]:
    """Validate the claims declarations; errors name the file, the claim and the key."""
    if not isinstance(claims, list):
        raise ValueError(f"{path}: expected a list of claims")
    seen: set[str] = set()
    primaries: dict[str, list[str]] = {}
    for i, claim in enumerate(claims):
        where = f"{path}: claim {claim.get('id', i) if isinstance(claim, dict) else i}"
        if not isinstance(claim, dict):
            raise ValueError(f"{where}: expected a mapping")
        missing = CLAIM_KEYS - set(claim)
        unknown = set(claim) - CLAIM_KEYS - OPTIONAL_CLAIM_KEYS
        if missing or unknown:
            raise ValueError(f"{where}: missing keys {sorted(missing)}, unknown {sorted(unknown)}")
        _check_expected(claim["expected"], where)
        if claim["category"] not in CATEGORIES:
            raise ValueError(f"{where}: category must be one of {', '.join(CATEGORIES)}")
        if not claim["source"].strip() or (
            re.search(r"\bslides?\b", claim["source"], re.I) and "Setpal" not in claim["source"]
        ):
            raise ValueError(f"{where}: name the source (the slides are Setpal 2025)")
        if claim["category"] == "science":
            if not str(claim.get("reason", "")).strip():
                raise ValueError(
                    f"{where}: a science claim needs a one-line `reason` for its margin or bound"
                )
            fam = primaries.setdefault(family_of(claim["id"]), [])
            if claim.get("primary"):
                fam.append(claim["id"])
        elif claim.get("primary"):
            raise ValueError(f"{where}: only science claims have a primary claim")
        _latex_balanced(claim["statement"], where)
        if claim["id"] in seen:
            raise ValueError(f"{where}: duplicate id")
        seen.add(claim["id"])
    for family, ids in primaries.items():
        if len(ids) != 1:
            raise ValueError(
                f"{path}: family {family} needs exactly one claim with "
                f"`primary: true`, found {ids or 'none'}"
            )
    return claims


def _check_expected(expected: Any, where: str) -> None:
    if not isinstance(expected, dict) or not expected or set(expected) - EXPECTED_KEYS:
        raise ValueError(f"{where}: 'expected' takes some of {sorted(EXPECTED_KEYS)}")
    for key, value in expected.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(  # YAML reads 1e-10 (no dot) as a string: write 1.0e-10
                f"{where}: expected.{key} must be a number, got {value!r}"
            )
    if ("value" in expected) != ("margin" in expected):
        raise ValueError(
            f"{where}: an expected value needs its equivalence margin (value and margin together)"
        )
    if "value" in expected and ({"min", "max", "tol"} & set(expected)):
        raise ValueError(f"{where}: give either value ± margin or bounds (min/max, tol)")
    if expected.get("margin", 1) <= 0 or expected.get("tol", 0) < 0:
        raise ValueError(f"{where}: the margin must be positive and tol non-negative")


def _latex_balanced(text: str, where: str) -> None:
    if text.count("$") % 2:
        raise ValueError(f"{where}: unbalanced $ in the statement")


def interval(measured: Any) -> tuple[float, float, float, int | None] | None:
    """(point, lo, hi, n) of an interval record such as fits.asymptotic_rate's, else None."""
    if not isinstance(measured, Mapping) or "lo" not in measured or "hi" not in measured:
        return None
    point = next((measured[k] for k in POINT_KEYS if k in measured), None)
    values = [math.nan if v is None else float(v) for v in (point, measured["lo"], measured["hi"])]
    return values[0], values[1], values[2], measured.get("n_seeds")


def p_values(measured: Any, expected: Mapping[str, float]) -> tuple[float, float] | None:
    """(p_hold, p_fail) of an interval record with a confidence distribution, else None."""
    if not isinstance(measured, Mapping) or not measured.get("cdist"):
        return None
    lo, hi = region(expected)
    hold = max(
        fits.p_above(measured, lo) if math.isfinite(lo) else 0.0,
        fits.p_below(measured, hi) if math.isfinite(hi) else 0.0,
    )
    fail = min(
        fits.p_below(measured, lo) if math.isfinite(lo) else 1.0,
        fits.p_above(measured, hi) if math.isfinite(hi) else 1.0,
    )
    return hold, fail


def decide_alone(measured: Any, expected: Mapping[str, float]) -> str:
    """The outcome of one claim by its interval (or number) alone, without a family."""
    if measured is None:
        return "n/a"  # the instance did not produce this number (e.g. too few widths)
    lo, hi = region(expected)
    bounds = interval(measured)
    if bounds is None:
        if isinstance(measured, Mapping):
            raise TypeError(f"measured {measured!r} is a mapping but not an interval record")
        if isinstance(measured, bool) or not isinstance(measured, int | float):
            raise TypeError(f"measured {measured!r} is not a number")
        a = b = float(measured)
    else:
        _, a, b, _ = bounds
    if not (math.isfinite(a) and math.isfinite(b)):
        return "fails"  # a diverged or undefined measurement does not reproduce a claim
    if lo <= a and b <= hi:
        return "holds"
    if b < lo or a > hi:
        return "fails"
    return "inconclusive"


def holm(p: Mapping[str, float]) -> dict[str, float]:
    """Holm-adjusted p-values: p_(i) ↦ max_{j ≤ i} min(1, (m − j + 1)·p_(j))."""
    ordered = sorted(p.items(), key=lambda kv: kv[1])
    out, running = {}, 0.0
    for j, (key, value) in enumerate(ordered):
        running = max(running, min(1.0, (len(ordered) - j) * value))
        out[key] = running
    return out


def evaluate_claims(
    claims: Iterable[Mapping[str, Any]], numbers: Mapping[str, Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """One result per (claim, configured instance of the claim's kind), decided with Holm's
    correction within each science family, in the order of the experiments."""
    results = [r for claim in claims for r in _results_of(claim, numbers)]
    families: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        families.setdefault(r["family"] if r["category"] == "science" else r["id"], []).append(r)
    for members in families.values():
        tested = [r for r in members if r["p"] is not None]
        adj_hold = holm({r["id"]: r["p"][0] for r in tested})
        adj_fail = holm({r["id"]: r["p"][1] for r in tested})
        for r in members:
            if r["p"] is None:
                r["outcome"] = decide_alone(r["measured"], r["expected"])
                r["holm"] = None
                continue
            hold, fail = adj_hold[r["id"]], adj_fail[r["id"]]
            r["holm"] = {"p_hold": hold, "p_fail": fail, "family_size": len(tested)}
            r["outcome"] = (
                "holds" if hold <= ALPHA else "fails" if fail <= ALPHA else "inconclusive"
            )
    for r in results:
        r["class"] = _class_of(r)
        r["seeds_to_decide"] = _seeds_to_decide(r) if r["outcome"] == "inconclusive" else None
        del r["p"]
    return sorted(results, key=_order)


def _results_of(claim: Mapping[str, Any], numbers: Mapping[str, Mapping[str, Any]]):
    kind = claim["kind"]
    for prefix in sorted(p for p in numbers if p.split(".", 1)[0] == kind):
        instance = prefix.split(".", 1)[1]
        measured = lookup(numbers[prefix], claim["quantity"])
        if measured is MISSING:
            if claim.get("only_where_measured"):
                continue  # declared: e.g. class balance of a data set without classes
            raise KeyError(
                f"claim {claim['id']}: results/numbers/{kind}/{instance}.json has no "
                f"quantity {claim['quantity']!r} (the analysis of {kind} does not write "
                f"it; fix the claim's `quantity` or the analysis)"
            )
        yield {
            "id": f"{claim['id']}/{instance}",
            "claim": claim["id"],
            "instance": instance,
            "subject": claim.get("subject"),
            "family": family_of(claim["id"]),
            "primary": bool(claim.get("primary", False)),
            "experiment": prefix,
            "category": claim["category"],
            "statement": claim["statement"],
            "source": claim["source"],
            "quantity": claim["quantity"],
            "expected": dict(claim["expected"]),
            "expected_text": describe_expected(claim["expected"]),
            "reason": claim.get("reason"),
            "outside_setting": _for_instance(claim.get("outside_setting"), instance),
            "decide": claim.get("decide"),
            "measured": measured,
            "interval": interval(measured) is not None,
            "p": None if measured is None else p_values(measured, claim["expected"]),
        }


def _for_instance(value: Any, instance: str) -> Any:
    return value.get(instance) if isinstance(value, Mapping) else value


def _class_of(r: Mapping[str, Any]) -> str | None:
    if r["category"] != "science" or r["outcome"] in ("holds", "n/a"):
        return None
    if r["outcome"] == "fails":
        return CLASSES["fails_outside" if r["outside_setting"] else "fails"]
    return CLASSES["inconclusive"]


def _seeds_to_decide(r: Mapping[str, Any]) -> int | None:
    """Seeds at which the interval, shrinking like 1/√seeds around the same point, would
    clear the nearest edge of the region at the level Holm asks of a family of this size
    (α/m for the first test): what would decide an inconclusive claim."""
    bounds = interval(r["measured"])
    if bounds is None or not bounds[3]:
        return None
    point, a, b, n = bounds
    lo, hi = region(r["expected"])
    distance = min(abs(point - e) for e in (lo, hi) if math.isfinite(e))
    m = r["holm"]["family_size"] if r.get("holm") else 1
    z = fits._NORMAL.inv_cdf(1 - ALPHA / m) / fits._NORMAL.inv_cdf(1 - ALPHA)
    half = z * (b - a) / 2
    if not distance or not math.isfinite(half):
        return None
    return math.ceil(n * (half / distance) ** 2)


def _order(r: Mapping[str, Any]) -> tuple:
    category = list(CATEGORIES).index(r["category"])
    return (category, family_order(r["family"]), not r["primary"], r["id"])


def lookup(tree: Any, dotted: str) -> Any:
    """tree['a']['b'] for 'a.b' (list indices as numbers); MISSING when a key is absent."""
    for part in dotted.split("."):
        if isinstance(tree, Mapping) and part in tree:
            tree = tree[part]
        elif isinstance(tree, list) and part.isdigit() and int(part) < len(tree):
            tree = tree[int(part)]
        else:
            return MISSING
    return tree


def _num(v: float, tex: bool) -> str:
    if not tex:
        return f"{v:g}"
    mantissa, _, exponent = f"{v:g}".partition("e")
    return mantissa + (rf"\times10^{{{int(exponent)}}}" if exponent else "")


def describe_expected(expected: Mapping[str, Any], *, tex: bool = False) -> str:
    """The expectation in words for logs ("≤ -0.5", "-1 ± 0.1"), or as typeset maths for the
    scorecard ("$\\leq -0.5$", "$-1 \\pm 0.1$", "$[a, b]$")."""
    pm, ge, le = (r"\pm", r"\geq", r"\leq") if tex else ("±", "≥", "≤")
    if "value" in expected:
        text = f"{_num(expected['value'], tex)} {pm} {_num(expected['margin'], tex)}"
    else:
        tol = expected.get("tol")
        slack = f" + {_num(tol, tex)}" if tol and "max" in expected else ""
        less = f" - {_num(tol, tex)}" if tol and "min" in expected else ""
        if "min" in expected and "max" in expected:
            text = f"[{_num(expected['min'], tex)}{less}, {_num(expected['max'], tex)}{slack}]"
        elif "min" in expected:
            text = f"{ge} {_num(expected['min'], tex)}{less}"
        else:
            text = f"{le} {_num(expected['max'], tex)}{slack}"
    return f"${text}$" if tex else text


def counts(results: Iterable[Mapping[str, Any]], category: str = "science") -> dict[str, int]:
    """How many results of a category have each outcome, and in all."""
    rows = [r for r in results if r["category"] == category]
    out = {o: sum(r["outcome"] == o for r in rows) for o in OUTCOMES}
    out["total"] = len(rows)
    return out
