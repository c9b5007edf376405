# Every figure is its own target, drawn from the data file beside it (never recomputed):
#   snakemake --cores 1 results/figures/width_sweep/digits_relu/lazy.pdf
# and every figure goes into the HTML report (make report), with its caption from the paper.
from ntkpaper import html_report


def figure_code(w):
    """The plot job's code; a target naming an unknown kind or figure says what exists."""
    if w.kind not in FIGURES:
        raise ValueError(f"no study kind {w.kind!r}; kinds: {', '.join(sorted(FIGURES))}")
    spec(w.kind, w.name)  # an unknown instance names the configured ones
    if w.figure not in FIGURES[w.kind]:
        raise ValueError(
            f"{w.kind} has no figure {w.figure!r}; its figures: {', '.join(FIGURES[w.kind])}"
        )
    return code("plot.py", f"ntkpaper.figures.{w.kind}")


rule plot:
    input:
        figure_code,
        data=f"{RESULTS}/figures/{{kind}}/{{name}}/{{figure}}.npz",
    output:
        pdf=report(
            f"{RESULTS}/figures/{{kind}}/{{name}}/{{figure}}.pdf",
            caption="../report/figure.rst",
            # grouped as the paper shows them: its section, in paper order
            category=lambda w: html_report.category("paper/ntk.tex", w.kind, w.name, w.figure),
            subcategory="{kind}/{name}",
            labels=lambda w: {"figure": w.figure, "instance": f"{w.kind}/{w.name}"},
        ),
    params:
        kind=lambda w: w.kind,
        figure=lambda w: w.figure,
    log:
        log_of("plot", "{kind}-{name}-{figure}"),
    benchmark:
        bench_of("plot", "{kind}-{name}-{figure}")
    resources:
        mem_mb=1000,
    script:
        "../scripts/plot.py"
