"""Draw one figure from the data file beside it (ntkpaper.figures.<kind>.plot_<figure>);
imports matplotlib and numpy, never JAX.

    python workflow/scripts/plot.py --params p.yaml \
        --input data=results/figures/width_sweep/digits_relu/lazy.npz --output pdf=/tmp/lazy.pdf
with p.yaml holding ``kind: width_sweep`` and ``figure: lazy``.
"""

import importlib

from ntkpaper import cli, io


def main(inputs, outputs, params):
    figures = importlib.import_module(f"ntkpaper.figures.{params['kind']}")
    getattr(figures, f"plot_{params['figure']}")(io.read_npz(inputs["data"]), outputs["pdf"])


if __name__ == "__main__":
    cli.run(main)
