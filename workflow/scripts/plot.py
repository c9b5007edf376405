"""Draw every figure of one study instance, each from the data file beside it
(ntkpaper.studies.<kind>.figures.plot_<figure>, reading it as the record its `data`
parameter names); imports matplotlib and numpy, never JAX.

    python workflow/scripts/plot.py --params p.yaml \
        --input lazy=results/figures/width_sweep/digits_relu/lazy.npz --output lazy=/tmp/lazy.pdf
with p.yaml holding ``kind: width_sweep``; inputs and outputs are named by figure.
"""

import importlib

from ntkpaper.figures import draw
from ntkpaper.pipeline import cli


def main(inputs, outputs, params):
    figures = importlib.import_module(f"ntkpaper.studies.{params['kind']}.figures")
    for figure, pdf in outputs.items():
        draw.draw(getattr(figures, f"plot_{figure}"), inputs[figure], pdf)


if __name__ == "__main__":
    cli.run(main)
