"""A new study kind is one folder, its claims and its paper section (plus its instances in
the configs): scaffolded here in a copy of the repository and built end to end, with no rule
file, registry or test touched. The README's list of what a new kind needs is `SCAFFOLD`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from .conftest import ROOT, copy_repo
from .test_workflow import QUICK, snakemake

KIND = "sample_mean"
FOLDER = f"src/ntkpaper/studies/{KIND}"

# The files a new kind adds (its folder) and the ones it edits, with what goes in them.
SCAFFOLD = {
    f"{FOLDER}/__init__.py": '"""A toy kind: the sample mean of standard normal draws."""\n',
    f"{FOLDER}/kind.py": '''"""The sample_mean kind, declared (imports no JAX)."""

from ntkpaper.pipeline.memory import Data, Job

WORKFLOW = {"run_inputs": [], "test_points": False}


def memory(spec, d: Data) -> Job:
    return Job(extra_bytes=8 * spec["samples"] * spec["seeds"])


TINY = {"samples": 64, "seeds": 8}
''',
    f"{FOLDER}/schema.yaml": """type: object
additionalProperties: false
required: [samples]
properties:
  samples: {type: integer, minimum: 2, description: "draws per seed"}
  seeds: {$ref: "#/$defs/seeds", default: 10}
""",
    f"{FOLDER}/compute.py": '''"""T1: the sample mean of standard normal draws, per seed."""

from dataclasses import dataclass

import jax
import numpy as np

import ntkpaper._compat  # noqa: F401
from ntkpaper.pipeline.records import Record
from ntkpaper.statistics import fits
from ntkpaper.studies.sample_mean.figure_data import Means


@dataclass(frozen=True)
class Run(Record):
    means: np.ndarray  # (seeds,) float64


def run(spec, *, key):
    draws = jax.random.normal(key, (spec["seeds"], spec["samples"]))
    return Run(means=np.asarray(draws.mean(axis=1), np.float64))


def analyze(runs, *, spec):
    means = np.concatenate([r.means for r in runs])
    return {"mean": fits.bootstrap_mean(means)}, {"means": Means(means=means)}
''',
    f"{FOLDER}/figure_data.py": '''"""What the sample_mean figure draws (numpy only)."""

from dataclasses import dataclass

import numpy as np

from ntkpaper.pipeline.records import Record


@dataclass(frozen=True)
class Means(Record):
    means: np.ndarray  # (seeds,) each seed's sample mean
''',
    f"{FOLDER}/figures.py": '''"""Figures of the sample_mean kind."""

import numpy as np

from ntkpaper.figures import plotting
from ntkpaper.studies.sample_mean.figure_data import Means


def plot_means(data: Means, path):
    fig, axes = plotting.figure(1)
    ax = axes[0][0]
    ax.plot(np.arange(1, len(data.means) + 1), data.means, "o", label="seeds")
    ax.axhline(0.0, color="k", lw=0.8, ls=":", label="expected")
    ax.set(xlabel="seed", ylabel="sample mean")
    ax.legend()
    plotting.save(fig, path)
''',
    "experiments/claims.yaml": [
        {
            "id": "T1",
            "kind": KIND,
            "category": "science",
            "primary": True,
            "quantity": "mean",
            "statement": "the sample mean of standard normals is near 0",
            "source": "this work",
            "expected": {"value": 0.0, "margin": 0.5},
            "reason": "four standard errors of the quick grid's smallest sample",
        }
    ],
    f"paper/sections/{KIND}.tex": r"""\section{Sample means}\label{sec:sample-mean}
The sample mean is \N{sample_mean.toy.mean.value} (\cref{fig:sample-mean}).
\begin{figure}[t]
  \centering
  \includegraphics[width=0.5\linewidth]{\figpath{sample_mean/toy/means.pdf}}
  \caption{Each seed's sample mean.}\label{fig:sample-mean}
\end{figure}
""",
    "paper/ntk.tex": (r"\input{sections/limitations}", rf"\input{{sections/{KIND}}}"),
    "experiments/config.yaml": {"toy": {"samples": 1000, "seeds": 20}},
    "experiments/quick.yaml": {"toy": {"samples": 64, "seeds": 8}},
}


def scaffold(repo):
    for path, content in SCAFFOLD.items():
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_text(content)
        elif isinstance(content, tuple):  # a line inserted before an existing one
            before, line = content
            text = target.read_text()
            assert before in text, f"{path} has no {before}"
            target.write_text(text.replace(before, f"{line}\n{before}", 1))
        elif isinstance(content, list):  # claims appended
            claims = yaml.safe_load(target.read_text()) + content
            target.write_text(yaml.safe_dump(claims, sort_keys=False, allow_unicode=True))
        else:  # instances of the kind in a config
            config = yaml.safe_load(target.read_text())
            config["experiments"][KIND] = content
            target.write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    repo = copy_repo(tmp_path_factory.mktemp("repo"))
    scaffold(repo)
    return repo


@pytest.mark.slow
def test_a_new_kind_builds_end_to_end_from_its_folder_claims_and_section(repo):
    # the whole build has its jobs (schema, memory, rules, figures derived from the folder)
    dag = snakemake(repo, "--dry-run", "--quiet", "rules", *QUICK).stdout
    for rule in (f"run_{KIND}", f"analyze_{KIND}", f"plot_{KIND}", "paper"):
        assert re.search(rf"^{rule}\s+1$", dag, re.M), f"{rule} not in the DAG:\n{dag}"
    # its instance: run → analyze → claims, and its figure, built for real
    figure = f"results/figures/{KIND}/toy/means.pdf"
    snakemake(repo, "--cores", "2", f"results/instances/{KIND}/toy.json", figure, *QUICK)
    instance = json.loads((repo / f"results/instances/{KIND}/toy.json").read_text())
    [claim] = [c for c in instance["claims"] if c["claim"] == "T1"]
    assert claim["outcome"] == "holds", claim
    checked = json.loads((repo / figure).with_suffix(".check.json").read_text())
    assert checked["problems"] == [], checked
    # the paper's report groups the figure under the new section
    probe = (
        "from ntkpaper.paper import html_report; "
        f"print(html_report.category('paper/ntk.tex', '{KIND}', 'toy', 'means'))"
    )
    env = {**os.environ, "PYTHONPATH": str(repo / "src")}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, env=env
    )
    assert "Sample means" in out.stdout, out.stdout + out.stderr


def test_the_readme_lists_what_the_scaffold_adds():
    """The README's "A new kind" list names exactly the files the scaffold writes."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("<!-- new-kind -->") : readme.index("<!-- /new-kind -->")]
    listed = set(re.findall(r"`((?:src|experiments|paper)/[^`]+\.\w+)`", section))  # files
    expected = {path.replace(KIND, "<kind>") for path in SCAFFOLD}
    assert listed == expected, (listed - expected, expected - listed)


def test_every_kind_has_its_figures_in_a_section_the_paper_inputs():
    """The paper's section list stays editorial (paper/ntk.tex, in reading order), but no kind
    is left out of it: each figure of each kind is drawn in some section the paper inputs."""
    from ntkpaper.pipeline import workflow

    paper = (ROOT / "paper/ntk.tex").read_text()
    inputs = re.findall(r"^\\input\{(sections/[^}]+)\}", paper, re.M)
    shown = "".join((ROOT / f"paper/{name}.tex").read_text() for name in inputs)
    drawn = set(re.findall(r"\\figpath\{([^/}]+)/[^/}]+/([^}]+)\.pdf\}", shown))
    for kind in workflow.study_kinds():
        for figure in workflow.study_kind(kind).figures:
            assert (kind, figure) in drawn, f"{kind}'s figure {figure} is in no input section"
