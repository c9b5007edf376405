"""Numbers and figure data of one study instance (ntkpaper.studies.<kind>.compute.analyze),
from its run files (one per shard, each read as the kind's ``Run`` record) and, for kinds that
read them, its data and kernels; each figure's data is a record of the kind's figure_data.py.

    python workflow/scripts/analyze_study.py --params p.yaml \
        --input runs=/tmp/run.npz --output numbers=/tmp/n.json lr_limit=/tmp/lr_limit.npz
with p.yaml holding ``kind`` and ``spec`` (the instance's config entry).
"""

import importlib

from ntkpaper.pipeline import cli, io
from ntkpaper.pipeline.records import Record


def main(inputs, outputs, params):
    study = importlib.import_module(f"ntkpaper.studies.{params['kind']}.compute")
    runs = inputs["runs"]
    runs = runs.split(",") if isinstance(runs, str) else list(runs)
    extra = {name: io.read_npz(path) for name, path in inputs.items() if name != "runs"}
    # a run file that does not match the kind's Run record fails here, naming file and key
    numbers, figures = study.analyze(
        [study.Run.from_npz(f) for f in runs], spec=params["spec"], **extra
    )
    numbers["config"] = params["spec"]  # the paper quotes its settings from here too
    io.write_json(outputs["numbers"], numbers)
    for name, record in figures.items():
        if not isinstance(record, Record):
            raise TypeError(
                f"{params['kind']}.analyze: the data of figure {name!r} is a "
                f"{type(record).__name__}, not a record of its figure_data.py"
            )
        record.to_npz(outputs[name])


if __name__ == "__main__":
    cli.run(main)
