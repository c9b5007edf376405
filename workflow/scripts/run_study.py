"""Run one study instance's computation, or one shard of it (ntkpaper.studies.<kind>.compute.run),
and save the kind's ``Run`` record it returns (``Run.to_npz``; ntkpaper.pipeline.records).

    python workflow/scripts/run_study.py --params p.yaml \
        --input data=results/data/digits.npz --output run=/tmp/run.npz
with p.yaml holding ``kind``, ``spec`` (the instance's config entry, narrowed to the shard),
``seed`` and ``run_id``; ``kernels=...`` joins the inputs for kinds that read them.
"""

import importlib
import time

from ntkpaper.pipeline import cli, io, keys


def main(inputs, outputs, params):
    started = time.time()
    study = importlib.import_module(f"ntkpaper.studies.{params['kind']}.compute")
    result = study.run(
        params["spec"],
        key=keys.run_key(params["seed"], *params["run_id"]),
        **{name: io.read_npz(path) for name, path in inputs.items() if name in ("data", "kernels")},
    )
    result.to_npz(outputs["run"])  # the kind's Run record
    io.write_provenance(outputs["run"], config=params["spec"], seed=params["seed"], started=started)


if __name__ == "__main__":
    cli.run(main)
