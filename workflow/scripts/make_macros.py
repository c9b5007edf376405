"""Turn every numbers file into LaTeX macros: \\N{kind.instance.key} in the paper.

    python workflow/scripts/make_macros.py --input numbers=a.json,b.json \
        --output tex=results/paper/numbers.tex
"""

from pathlib import Path

from ntkpaper.paper import macros
from ntkpaper.pipeline import cli, io


def main(inputs, outputs, params):
    files = inputs["numbers"]
    files = files.split(",") if isinstance(files, str) else files
    numbers = {f"{Path(f).parent.name}.{Path(f).stem}": io.read_json(f) for f in files}
    io.write_text(outputs["tex"], macros.numbers_to_macros(numbers))


if __name__ == "__main__":
    cli.run(main)
