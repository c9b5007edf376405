"""Evaluate experiments/claims.yaml against the numbers: results/claims.json + scorecard.

    python experiments/scripts/evaluate_claims.py --input claims=experiments/claims.yaml \
        numbers=a.json,b.json --output claims=claims.json scorecard=scorecard.tex
"""

import logging
from pathlib import Path

import yaml

from ntkpaper import cli, io, report

log = logging.getLogger("ntkpaper")


def main(inputs, outputs, params):
    files = inputs["numbers"]
    files = files.split(",") if isinstance(files, str) else files
    numbers = {f"{Path(f).parent.name}.{Path(f).stem}": io.read_json(f) for f in files}
    claims = report.check_claims_file(
        yaml.safe_load(Path(inputs["claims"]).read_text()), inputs["claims"]
    )
    results = report.evaluate_claims(claims, numbers)
    for r in results:
        verdict = {True: "holds", False: "FAILS", None: "n/a"}[r["holds"]]
        log.info(
            "%-40s measured %-12s expected %-16s %s",
            r["id"],
            r["measured"],
            r["expected_text"],
            verdict,
        )
    io.write_json(outputs["claims"], results)
    io.write_text(outputs["scorecard"], report.scorecard_tex(results))
    io.write_text(outputs["verdicts"], report.verdicts_tex(results))


if __name__ == "__main__":
    cli.run(main)
