# Every figure is its own target, drawn from the data file beside it (never recomputed):
#   snakemake --cores 1 results/figures/width_sweep/digits_relu/lazy.pdf
# and every figure goes into the HTML report (make report), with its caption from the paper.

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
