"""Evaluate experiments/claims.yaml against the numbers: results/claims.json + scorecard (or,
for one instance's target, results/instances/<kind>/<name>.json alone).

Writes {"counts": outcomes per category, "claims": one result per claim and instance}.

    python workflow/scripts/evaluate_claims.py --input claims=experiments/claims.yaml \
        numbers=a.json,b.json --output claims=claims.json scorecard=scorecard.tex
"""

import logging
from pathlib import Path

import yaml

from ntkpaper.paper import claims, macros
from ntkpaper.pipeline import cli, io

log = logging.getLogger("ntkpaper")


def main(inputs, outputs, params):
    files = inputs["numbers"]
    files = files.split(",") if isinstance(files, str) else files
    numbers = {f"{Path(f).parent.name}.{Path(f).stem}": io.read_json(f) for f in files}
    declared = claims.check_claims_file(
        yaml.safe_load(Path(inputs["claims"]).read_text()), inputs["claims"]
    )
    results = claims.evaluate_claims(declared, numbers)
    for r in results:
        verdict = r["outcome"].upper() if r["outcome"] != "holds" else "holds"
        measured = claims.interval(r["measured"])
        shown = (
            f"{measured[0]:.3g} [{measured[1]:.3g}, {measured[2]:.3g}]"
            if measured
            else r["measured"]
        )
        log.info(
            "%-36s measured %-26s expected %-12s %s", r["id"], shown, r["expected_text"], verdict
        )
    io.write_json(outputs["claims"], {
        "counts": {"science": claims.counts(results),
                   **{c: claims.counts(results, c) for c in ("data", "software")}},
        "claims": results,
    })  # fmt: skip
    if "scorecard" in outputs:  # the paper's; one instance's target writes the JSON only
        io.write_text(outputs["scorecard"], macros.scorecard_tex(results))
        io.write_text(outputs["verdicts"], macros.verdicts_tex(results))


if __name__ == "__main__":
    cli.run(main)
