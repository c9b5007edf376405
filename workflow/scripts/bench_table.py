"""The benchmark table (E11) from `make bench`'s results/bench/table.json, or a note saying
how to produce it when the benchmarks have not been run.

    python workflow/scripts/bench_table.py --input table=results/bench/table.json \
        --output tex=/tmp/bench_table.tex
"""

from ntkpaper.paper import macros
from ntkpaper.pipeline import cli, io


def main(inputs, outputs, params):
    table = inputs.get("table")
    path = table if isinstance(table, str) else (table[0] if table else None)
    data = io.read_json(path) if path else None
    meta = io.read_json(io.meta_path(path)) if path else None
    io.write_text(outputs["tex"], macros.bench_tex(data, meta))


if __name__ == "__main__":
    cli.run(main)
