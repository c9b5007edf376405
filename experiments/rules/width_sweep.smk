# E1 lazy training, E2 linearization, E6 generalization: one ensemble per width.
KINDS.append("width_sweep")
FIGURES["width_sweep"] = ["lazy", "linearization", "generalization"]


def width_sweep_runs(w):
    s = spec("width_sweep", w.name)
    return [f"{RESULTS}/finite/width_sweep/{w.name}/w{width}.npz" for width in s["widths"]]


rule train_width_sweep:
    input:
        src("finite", "train", "models", "keys"),
        data=lambda w: f"{RESULTS}/data/{spec('width_sweep', w.name)['data']}.npz",
    output:
        run=f"{RESULTS}/finite/width_sweep/{{name}}/w{{width}}.npz",
    params:
        spec=lambda w: spec("width_sweep", w.name),
        width=lambda w: int(w.width),
        seed=config["seed"],
        run_id=lambda w: ["width_sweep", w.name],
    wildcard_constraints:
        width=r"\d+",
    log:
        log_of("train_width_sweep", "{name}-w{width}"),
    benchmark:
        bench_of("train_width_sweep", "{name}-w{width}")
    priority: 35
    threads: 2
    resources:
        mem_mb=3000,  # peak 1.3 GB at width 1600 on the full grid
    script:
        "../scripts/train_width.py"


rule analyze_width_sweep:
    input:
        src("studies/width_sweep", "infinite", "fits"),
        runs=width_sweep_runs,
        data=lambda w: f"{RESULTS}/data/{spec('width_sweep', w.name)['data']}.npz",
        kernels=lambda w: kernel_file(
            spec("width_sweep", w.name)["data"], spec("width_sweep", w.name)["model"]
        ),
    output:
        numbers=f"{RESULTS}/numbers/width_sweep/{{name}}.json",
        lazy=f"{RESULTS}/figures/width_sweep/{{name}}/lazy.npz",
        linearization=f"{RESULTS}/figures/width_sweep/{{name}}/linearization.npz",
        generalization=f"{RESULTS}/figures/width_sweep/{{name}}/generalization.npz",
    params:
        spec=lambda w: spec("width_sweep", w.name),
    log:
        log_of("analyze_width_sweep", "{name}"),
    benchmark:
        bench_of("analyze_width_sweep", "{name}")
    resources:
        mem_mb=3000,
    script:
        "../scripts/analyze_width_sweep.py"
