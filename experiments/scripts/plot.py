"""Draw one figure from the data file beside it (ntkpaper.studies.<kind>.plot_<figure>).

    python experiments/scripts/plot.py --params p.yaml \
        --input data=results/figures/width_sweep/digits_relu/lazy.npz --output pdf=/tmp/lazy.pdf
with p.yaml holding ``kind: width_sweep`` and ``figure: lazy``.
"""

import importlib

from ntkpaper import cli, io


def main(inputs, outputs, params):
    study = importlib.import_module(f"ntkpaper.studies.{params['kind']}")
    getattr(study, f"plot_{params['figure']}")(io.read_npz(inputs["data"]), outputs["pdf"])


if __name__ == "__main__":
    cli.run(main)
