# Data preparation: one .npz (with a .meta.json provenance sidecar) per configured data set.


rule prepare_data:
    input:
        code("prepare_data.py"),
    output:
        data=f"{RESULTS}/data/{{dataset}}.npz",
        numbers=f"{RESULTS}/numbers/datasets/{{dataset}}.json",
    params:
        name=lambda w: w.dataset,
        spec=lambda w: config["datasets"][w.dataset],
        seed=config["seed"],
    log:
        log_of("prepare_data", "{dataset}"),
    benchmark:
        bench_of("prepare_data", "{dataset}")
    # Every study waits for its data and these jobs take seconds: start them first, beside
    # the long jobs (peak memory about 0.3 GB).
    priority: 100
    threads: 1
    resources:
        mem_mb=1000,
    script:
        "../scripts/prepare_data.py"
