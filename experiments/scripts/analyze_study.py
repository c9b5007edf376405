"""Numbers and figure data of one study instance (ntkpaper.studies.<kind>.analyze).

    python experiments/scripts/analyze_study.py --params p.yaml --input run=/tmp/run.npz \
        --output numbers=/tmp/n.json lr_limit=/tmp/lr_limit.npz
"""

import importlib

from ntkpaper import cli, io


def main(inputs, outputs, params):
    study = importlib.import_module(f"ntkpaper.studies.{params['kind']}")
    numbers, figures = study.analyze(io.read_npz(inputs["run"]))
    numbers["config"] = params["spec"]  # the paper quotes its settings from here too
    io.write_json(outputs["numbers"], numbers)
    for name, arrays in figures.items():
        io.write_npz(outputs[name], **arrays)


if __name__ == "__main__":
    cli.run(main)
