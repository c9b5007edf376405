# Numbers → LaTeX macros, claims → scorecard, and the paper itself.
import json


rule macros:
    input:
        code("make_macros.py"),
        numbers=numbers_files(),
    output:
        tex=f"{RESULTS}/paper/numbers.tex",
    log:
        log_of("macros"),
    benchmark:
        bench_of("macros")
    resources:
        mem_mb=1000,
    script:
        "../scripts/make_macros.py"


rule claims:
    input:
        code("evaluate_claims.py"),
        claims="experiments/claims.yaml",
        numbers=numbers_files(),
    output:
        claims=f"{RESULTS}/claims.json",
        scorecard=f"{RESULTS}/paper/scorecard.tex",
        verdicts=f"{RESULTS}/paper/verdicts.tex",
    log:
        log_of("claims"),
    benchmark:
        bench_of("claims")
    resources:
        mem_mb=1000,
    script:
        "../scripts/evaluate_claims.py"


rule build_info:
    # The commit and config the PDF was built from; params make a new commit rerun it.
    input:
        code("build_info.py"),
    output:
        tex=f"{RESULTS}/paper/buildinfo.tex",
    params:
        git=git_state(workflow.basedir),
        config=json.dumps(config, sort_keys=True),
        # as the user named them: Snakemake stores a --configfile with its absolute path
        configfiles=[
            os.path.relpath(f, workflow.basedir)
            if Path(f).resolve().is_relative_to(Path(workflow.basedir).resolve())
            else str(f)
            for f in workflow.configfiles
        ],
    log:
        log_of("build_info"),
    benchmark:
        bench_of("build_info")
    resources:
        mem_mb=500,
    script:
        "../scripts/build_info.py"


rule stage_costs:
    # Wall time and peak memory of every job so far, from Snakemake's benchmark files.
    input:
        code("stage_costs.py"),
        numbers=numbers_files(),
        figures=figure_files(),
    output:
        tex=f"{RESULTS}/paper/stage_costs.tex",
    params:
        pattern=f"{RESULTS}/benchmarks/*/*.tsv",
    log:
        log_of("stage_costs"),
    resources:
        mem_mb=500,
    # A script, not a `run:` block: Snakemake runs `run:` jobs in a fresh Snakemake process,
    # which costs seconds of start-up (plugin discovery) on the build's critical path.
    script:
        "../scripts/stage_costs.py"


rule report_texts:
    # make report: what Snakemake's HTML report shows beside each figure (its caption as the
    # paper prints it, its instance's claims) and on its front page (scorecard, stage costs)
    input:
        code("report_texts.py", "ntkpaper.paper.html_report"),
        paper="paper/ntk.tex",
        sections=sorted(str(p) for p in Path("paper/sections").glob("*.tex")),
        numbers=rules.macros.output.tex,
        verdicts=rules.claims.output.verdicts,
        claims=rules.claims.output.claims,
        stage_costs=rules.stage_costs.output.tex,
    output:
        texts=directory(f"{RESULTS}/report/texts"),
    params:
        figures=lambda w: [
            f.removeprefix(f"{RESULTS}/figures/").removesuffix(".pdf") for f in figure_files()
        ],
        pattern=f"{RESULTS}/benchmarks/*/*.tsv",
    log:
        log_of("report_texts"),
    resources:
        mem_mb=500,
    script:
        "../scripts/report_texts.py"


BENCH_TABLE = f"{RESULTS}/bench/table.json"


rule bench_table:
    # `make bench` (not this workflow: it takes a quarter of an hour) writes the table; the
    # paper includes it when it exists and says how to produce it when it does not.
    input:
        code("bench_table.py"),
        table=[BENCH_TABLE] if Path(BENCH_TABLE).exists() else [],
    output:
        tex=f"{RESULTS}/paper/bench_table.tex",
    log:
        log_of("bench_table"),
    resources:
        mem_mb=500,
    script:
        "../scripts/bench_table.py"


rule paper:
    input:
        tex="paper/ntk.tex",
        sections=sorted(str(p) for p in Path("paper/sections").glob("*.tex")),
        bib="paper/refs.bib",
        style="paper/ntkstyle.sty",
        numbers=rules.macros.output.tex,
        scorecard=rules.claims.output.scorecard,
        verdicts=rules.claims.output.verdicts,
        buildinfo=rules.build_info.output.tex,
        figures=figure_files(),
        stage_costs=rules.stage_costs.output.tex,
        bench_table=rules.bench_table.output.tex,
    output:
        pdf=f"{RESULTS}/paper/ntk.pdf",
    log:
        log_of("paper"),
    benchmark:
        bench_of("paper")
    resources:
        mem_mb=1000,
    shell:
        "bash workflow/scripts/latex.sh {input.tex} {output.pdf} > {log} 2>&1"


rule instance:
    # One instance on its own: its figures, numbers and its own claims with verdicts, without
    # the rest of the paper:  snakemake --cores 8 results/instances/<kind>/<name>.json
    input:
        code("evaluate_claims.py"),
        claims="experiments/claims.yaml",
        numbers=lambda w: [spec(w.kind, w.name) and f"{RESULTS}/numbers/{w.kind}/{w.name}.json"],
        figures=lambda w: [
            f"{RESULTS}/figures/{w.kind}/{w.name}/{stem}.pdf" for stem in FIGURES.get(w.kind, [])
        ],
    output:
        claims=f"{RESULTS}/instances/{{kind}}/{{name}}.json",
    log:
        log_of("instance", "{kind}-{name}"),
    resources:
        mem_mb=500,
    script:
        "../scripts/evaluate_claims.py"
