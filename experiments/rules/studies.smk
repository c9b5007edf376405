# Studies that run as one job per instance: compute (`run`) → numbers + figure data
# (`analyze`) → figures (rule `plot`). Each kind is a module ntkpaper.studies.<kind> with
# run(spec, data, key=..., [kernels=...]), analyze(run) and plot_<figure>(data, path).
# To add a kind: write that module, add it here, add its schema entry and paper section.
STUDIES = {
    # kind: (figures, needs the analytic kernels of its data set and model)
    "kernel_convergence": (["kernel_convergence"], False),
    "gp_prediction": (["gp_prediction"], False),
    "recursion_check": ([], False),
    "eigendecay": (["spectrum", "pc2_decay", "mode_rates"], True),
    "early_stopping": (["early_stopping"], True),
    "lr_limit": (["lr_limit"], False),
    "gd_vs_sgd": (["gd_vs_sgd"], False),
    "cost": (["cost"], False),
}


# Long jobs first, so the longest never starts last and leaves one core idle at the end of
# the build (full-grid CPU-seconds: cost ≈ 350, kernel_convergence ≈ 260, the others ≤ 105;
# the two memory-bound ones lead).
PRIORITY = {
    "kernel_convergence": 50,
    "cost": 40,
    "gp_prediction": 30,
    "eigendecay": 20,
    "early_stopping": 15,
    "lr_limit": 10,
    "recursion_check": 5,
}
# Peak memory on the full grid is 3.3 GB or less for every study but the cost study's
# neural-tangents kernels (8.9 GB at n = 4096); the declared mem_mb stays above it, so the
# profile's cap never lets concurrent jobs exceed the machine.
MEM_MB = {"cost": 10000}


def study_inputs(w, kind):
    s = spec(kind, w.name)
    inputs = {}
    if "data" in s:
        inputs["data"] = f"{RESULTS}/data/{s['data']}.npz"
    if STUDIES[kind][1]:
        inputs["kernels"] = kernel_file(s["data"], s["model"])
    return inputs


for _kind, (_figures, _) in STUDIES.items():
    KINDS.append(_kind)
    FIGURES[_kind] = _figures

    rule:
        name:
            f"run_{_kind}"
        input:
            src("finite", "train", "full_batch_gd", "models", "empirical", "keys", "infinite",
                "spectral"),
            f"src/ntkpaper/studies/{_kind}.py",
            unpack(lambda w, kind=_kind: study_inputs(w, kind)),
        output:
            run=f"{RESULTS}/finite/{_kind}/{{name}}.npz",
        params:
            kind=_kind,
            spec=lambda w, kind=_kind: spec(kind, w.name),
            seed=config["seed"],
            run_id=lambda w, kind=_kind: [kind, w.name],
        log:
            log_of(f"run_{_kind}", "{name}"),
        benchmark:
            bench_of(f"run_{_kind}", "{name}")
        priority: PRIORITY.get(_kind, 0)
        threads: 2
        resources:
            mem_mb=MEM_MB.get(_kind, 4000),
        script:
            "../scripts/run_study.py"

    rule:
        name:
            f"analyze_{_kind}"
        input:
            src("fits"),
            f"src/ntkpaper/studies/{_kind}.py",
            run=f"{RESULTS}/finite/{_kind}/{{name}}.npz",
        output:
            numbers=f"{RESULTS}/numbers/{_kind}/{{name}}.json",
            **{f: f"{RESULTS}/figures/{_kind}/{{name}}/{f}.npz" for f in _figures},
        params:
            kind=_kind,
            spec=lambda w, kind=_kind: spec(kind, w.name),
        log:
            log_of(f"analyze_{_kind}", "{name}"),
        benchmark:
            bench_of(f"analyze_{_kind}", "{name}")
        resources:
            mem_mb=2000,
        script:
            "../scripts/analyze_study.py"
