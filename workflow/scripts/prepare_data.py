"""Prepare one configured data set: seeded split, standardized inputs, targets.

    python workflow/scripts/prepare_data.py --params p.yaml \
        --output data=results/data/digits.npz numbers=results/numbers/datasets/digits.json
with p.yaml holding ``name``, ``seed`` and ``spec`` (a `datasets:` entry of the config).
"""

import logging
import time

from ntkpaper.data import datasets
from ntkpaper.pipeline import cli, io, keys

log = logging.getLogger("ntkpaper")


def main(inputs, outputs, params):
    started = time.time()
    name, spec = params["name"], dict(params["spec"])
    arrays = datasets.prepare(name, spec, key=keys.run_key(params["seed"], "data", name))
    summary = datasets.summary(arrays)
    if "label_noise_fraction" in summary:
        configured = spec.get("label_noise", 0.0)
        summary["label_noise_error"] = abs(summary["label_noise_fraction"] - configured)
    log.info("data set %s: %s", name, summary)
    io.write_npz(outputs["data"], **arrays)
    io.write_provenance(outputs["data"], config=spec, seed=params["seed"], started=started)
    io.write_json(outputs["numbers"], summary)


if __name__ == "__main__":
    cli.run(main)
