"""E1/E2/E6 numbers and figure data from one width sweep's runs and kernels.

    python experiments/scripts/analyze_width_sweep.py --params p.yaml --input \
        runs=w16.npz,w64.npz data=digits.npz kernels=k.npz --output numbers=n.json \
        lazy=lazy.npz linearization=lin.npz generalization=gen.npz
"""

from ntkpaper import cli, io
from ntkpaper.studies import width_sweep


def main(inputs, outputs, params):
    runs = inputs["runs"]
    runs = runs.split(",") if isinstance(runs, str) else runs
    numbers, figures = width_sweep.analyze(
        [io.read_npz(f) for f in runs],
        io.read_npz(inputs["kernels"]),
        io.read_npz(inputs["data"]),
        lr=params["spec"]["lr"],
    )
    numbers["config"] = params["spec"]  # the paper quotes its settings from here too
    io.write_json(outputs["numbers"], numbers)
    for name, arrays in figures.items():
        io.write_npz(outputs[name], **arrays)


if __name__ == "__main__":
    cli.run(main)
