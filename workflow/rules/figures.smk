# Every figure is its own target, drawn from the data file beside it (never recomputed):
#   snakemake --cores 1 results/figures/width_sweep/digits_relu/lazy.pdf
# One plot job per instance draws all of its kind's figures (one Python start for them all,
# and a restyle of a figures module reruns one job per instance), and every figure goes into
# the HTML report (make report) with its caption from the paper.
#
# Snakemake renders a report caption from the job, not from the file, so figure i of a job
# takes the caption template figure-<i>.rst, which includes that output's text.
CAPTION_TEMPLATES = sorted(Path(workflow.basedir, "workflow/report").glob("figure-*.rst"))


def report_figure(kind, position, figure):
    """The i-th figure of a kind's plot job, in the report: grouped as the paper shows it."""
    if position >= len(CAPTION_TEMPLATES):
        raise WorkflowError(
            f"{kind} draws {position + 1} figures, more than the caption templates "
            f"workflow/report/figure-1..{len(CAPTION_TEMPLATES)}.rst; add figure-{position + 1}.rst"
        )
    return report(
        f"{RESULTS}/figures/{kind}/{{name}}/{figure}.pdf",
        caption=f"../report/figure-{position + 1}.rst",
        category=lambda w: html_report.category("paper/ntk.tex", kind, w.name, figure),
        subcategory=f"{kind}/{{name}}",
        labels=lambda w: {"figure": figure, "instance": f"{kind}/{w.name}"},
    )


for _kind, _study in STUDY_KINDS.items():
    if not _study.figures:
        continue

    rule:
        name:
            f"plot_{_kind}"
        localrule: True
        input:
            lambda w, kind=_kind: plot_code(kind, w.name),
            **{f: f"{RESULTS}/figures/{_kind}/{{name}}/{f}.npz" for f in _study.figures},
        output:
            **{f: report_figure(_kind, i, f) for i, f in enumerate(_study.figures)},
        params:
            kind=_kind,
        log:
            log_of(f"plot_{_kind}", "{name}"),
        benchmark:
            bench_of(f"plot_{_kind}", "{name}")
        resources:
            mem_mb=1000,
        script:
            "../scripts/plot.py"
