"""The stage-cost table: wall time, CPU time and peak memory of every job so far, read from
Snakemake's benchmark files (the `glob` param, e.g. results/benchmarks/*/*.tsv).

    python workflow/scripts/stage_costs.py --params p.yaml --output tex=/tmp/stage_costs.tex
"""

import glob

from ntkpaper.paper import macros
from ntkpaper.pipeline import cli, io


def main(inputs, outputs, params):
    io.write_text(outputs["tex"], macros.stage_costs_tex(sorted(glob.glob(params["pattern"]))))


if __name__ == "__main__":
    cli.run(main)
