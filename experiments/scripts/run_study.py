"""Run one study instance's computation (ntkpaper.studies.<kind>.run) and save its arrays.

    python experiments/scripts/run_study.py --params p.yaml \
        --input data=results/data/digits.npz --output run=/tmp/run.npz
with p.yaml holding ``kind``, ``spec`` (the instance's config entry), ``seed``, ``run_id``.
"""

import importlib
import time

from ntkpaper import cli, io, keys


def main(inputs, outputs, params):
    started = time.time()
    study = importlib.import_module(f"ntkpaper.studies.{params['kind']}")
    extra = {name: io.read_npz(path) for name, path in inputs.items() if name == "kernels"}
    data = io.read_npz(inputs["data"]) if "data" in inputs else None
    arrays = study.run(
        params["spec"], data, key=keys.run_key(params["seed"], *params["run_id"]), **extra
    )
    io.write_npz(outputs["run"], **arrays)
    io.write_provenance(outputs["run"], config=params["spec"], seed=params["seed"], started=started)


if __name__ == "__main__":
    cli.run(main)
