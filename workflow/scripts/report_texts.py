"""The HTML report's texts (ntkpaper.paper.html_report): each figure's caption as the paper prints
it with its instance's claims, and the summary page (scorecard, stage costs).

    python workflow/scripts/report_texts.py --params p.yaml --input paper=paper/ntk.tex \
        numbers=results/paper/numbers.tex verdicts=results/paper/verdicts.tex \
        claims=results/claims.json --output texts=results/report/texts
"""

import glob

from ntkpaper.paper import html_report, macros
from ntkpaper.pipeline import cli, io


def main(inputs, outputs, params):
    figures = params["figures"]
    figures = figures.split(",") if isinstance(figures, str) else figures
    body, totals = macros.stage_costs(sorted(glob.glob(params["pattern"])))
    html_report.write_texts(
        outputs["texts"],
        paper_tex=inputs["paper"],
        figure_targets=figures,
        evaluated=io.read_json(inputs["claims"]),
        macros=html_report.read_macros(inputs["numbers"], inputs["verdicts"]),
        stage_rows=[list(macros.STAGE_HEADER), *body, *totals],
    )


if __name__ == "__main__":
    cli.run(main)
