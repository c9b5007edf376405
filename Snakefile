# ntkpaper: regenerate the paper from scratch.
#   snakemake --cores 8                                        # full grid → results/paper/ntk.pdf
#   snakemake --cores 8 --configfile experiments/quick.yaml    # same DAG, tiny grid
#   snakemake --cores 8 results/figures/width_sweep/digits_relu/lazy.pdf   # one figure
# The stages live in workflow/rules/*.smk; each rule calls one thin script in
# workflow/scripts/ whose logic is in src/ntkpaper.

from snakemake.utils import min_version

min_version("9.0")  # the pinned 9.x: report(), script directives and resources as used here


configfile: "experiments/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/infinite.smk"
include: "workflow/rules/studies.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


# Light jobs (seconds each) run where Snakemake runs, not as cluster jobs of their own.
localrules:
    all,
    macros,
    claims,
    build_info,
    stage_costs,
    report_texts,
    bench_table,
    paper,
    instance,


rule all:
    default_target: True
    input:
        "results/paper/ntk.pdf",
        "results/claims.json",


# A target naming an unknown kind, instance or figure fails here in one line naming what exists
# (Snakemake parses this file before it reads its targets: they are the command line's words
# that have the form of a figure or instance target).
for _target in sys.argv[1:]:
    if _problem := target_problem(_target):
        sys.stderr.write(f"\nTargetError: {_target}: {_problem}\n\n")
        raise SystemExit(2)
