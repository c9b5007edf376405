# Every figure is its own target, drawn from the data file beside it (never recomputed):
#   snakemake --cores 1 results/figures/width_sweep/digits_relu/lazy.pdf
# and every figure goes into the HTML report: snakemake --report results/report.html


rule plot:
    input:
        lambda w: code("plot.py", f"ntkpaper.figures.{w.kind}"),
        data=f"{RESULTS}/figures/{{kind}}/{{name}}/{{figure}}.npz",
    output:
        pdf=report(
            f"{RESULTS}/figures/{{kind}}/{{name}}/{{figure}}.pdf",
            caption="../report/figure.rst",
            category="{kind}",
            subcategory="{name}",
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
