"""NTK and NNGP (train×train, test×train, test×test, float64) of one data set × architecture.

    python workflow/scripts/analytic_kernels.py --params p.yaml \
        --input data=results/data/digits.npz --output kernels=/tmp/k.npz
with p.yaml holding ``model`` (a config `model:` block).
"""

import logging
import time

from ntkpaper.kernels import gram
from ntkpaper.networks.models import model_spec
from ntkpaper.pipeline import cli, io

log = logging.getLogger("ntkpaper")


def main(inputs, outputs, params):
    started = time.time()
    data = io.read_npz(inputs["data"])
    spec = model_spec(params["model"], width=1, out_dim=1)  # width is irrelevant at n = ∞
    kernels = gram.analytic_kernels(spec, data["x_train"], data["x_test"])
    log.info(
        "kernels %s on %d train / %d test points in %.1f s",
        spec.activation,
        len(data["x_train"]),
        len(data["x_test"]),
        time.time() - started,
    )
    io.write_npz(outputs["kernels"], **kernels)
    io.write_provenance(outputs["kernels"], config=params["model"], started=started)


if __name__ == "__main__":
    cli.run(main)
