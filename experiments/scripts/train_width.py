"""Train one width's ensemble (all seeds vmapped) and its linearization; save the records.

    python experiments/scripts/train_width.py --params p.yaml \
        --input data=results/data/digits.npz --output run=/tmp/w256.npz
with p.yaml holding ``spec`` (a width_sweep entry), ``width``, ``seed`` and ``run_id``.
"""

import time

from ntkpaper import cli, finite, io, keys


def main(inputs, outputs, params):
    started = time.time()
    s = params["spec"]
    data = io.read_npz(inputs["data"])
    run = finite.train_width(
        s["model"],
        data,
        width=params["width"],
        seeds=s["seeds"],
        lr=s["lr"],
        steps=s["steps"],
        records=s.get("records", 30),
        key=keys.run_key(params["seed"], *params["run_id"]),
    )
    io.write_npz(outputs["run"], **run)
    io.write_provenance(outputs["run"], config=s, seed=params["seed"], started=started)


if __name__ == "__main__":
    cli.run(main)
