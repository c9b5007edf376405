# Infinite-width kernels: computed once per (data set, architecture), reused by every study.


rule analytic_kernels:
    input:
        code("analytic_kernels.py"),
        data=f"{RESULTS}/data/{{dataset}}.npz",
    output:
        kernels=f"{RESULTS}/infinite/kernels/{{dataset}}/{{arch}}.npz",
    params:
        model=lambda w: ARCHS[w.arch],
        xla_opt_level=XLA_OPT_LEVEL,
    log:
        log_of("analytic_kernels", "{dataset}-{arch}"),
    benchmark:
        bench_of("analytic_kernels", "{dataset}-{arch}")
    priority: 90  # the spectral studies wait for these kernels (seconds each)
    threads: 2
    resources:
        mem_mb=lambda w: memory.analytic_kernels_mb(config["datasets"][w.dataset], ARCHS[w.arch]),
        runtime=120,  # minutes; a cluster's wall-time limit (sbatch -t)
    script:
        "../scripts/analytic_kernels.py"
