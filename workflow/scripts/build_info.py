"""Write the macros that print the git commit and config on the PDF's first page.

python workflow/scripts/build_info.py --params p.yaml --output tex=buildinfo.tex
"""

import hashlib

from ntkpaper.paper import macros
from ntkpaper.pipeline import cli, io


def main(inputs, outputs, params):
    git = params["git"]
    commit = (git.get("commit") or "unknown")[:12] + ("+dirty" if git.get("dirty") else "")
    digest = hashlib.sha256(params["config"].encode()).hexdigest()[:12]
    files = ", ".join(params["configfiles"]) or "(defaults)"
    packages = ", ".join(f"{name} {version}" for name, version in io.package_versions().items())
    text = (
        f"\\newcommand{{\\buildcommit}}{{\\texttt{{{macros.latex_escape(commit)}}}}}\n"
        f"\\newcommand{{\\buildconfig}}{{\\texttt{{{macros.latex_escape(files)}}}}}\n"
        f"\\newcommand{{\\buildconfighash}}{{\\texttt{{{digest}}}}}\n"
        f"\\newcommand{{\\buildpackages}}{{{macros.latex_escape(packages)}}}\n"
    )
    io.write_text(outputs["tex"], text)


if __name__ == "__main__":
    cli.run(main)
