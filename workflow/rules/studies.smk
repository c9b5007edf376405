# Every study kind runs the same way: compute (`run`, one job per shard: per width for a width
# sweep, one job otherwise) → numbers and figure data (`analyze`) → figures (`plot_<kind>`).
# Each kind is a folder ntkpaper/studies/<kind>/: kind.py declares it (WORKFLOW: inputs,
# sharding, scheduling; memory: its run jobs' sizes) and is the only part imported here (it
# imports no JAX); compute.py holds run and analyze, figures.py one plot_<figure> per figure.

def run_file(kind, name, shard):
    return f"{RESULTS}/finite/{kind}/{name}/{shard}.npz"


def shard_spec(kind, wildcards):
    """The spec one run job sees (a sharded list narrowed to the job's value)."""
    return STUDY_KINDS[kind].shard_spec(spec(kind, wildcards.name), wildcards.shard)


def study_inputs(kind, name, stage):
    """The data and kernel files one stage (run or analyze) of an instance reads."""
    s, wanted = spec(kind, name), getattr(STUDY_KINDS[kind], f"{stage}_inputs")
    inputs = {}
    if "data" in wanted and "data" in s:
        inputs["data"] = f"{RESULTS}/data/{s['data']}.npz"
    if "kernels" in wanted:
        inputs["kernels"] = kernel_file(s["data"], s["model"])
    return inputs


for _kind, _study in STUDY_KINDS.items():

    rule:
        name:
            f"run_{_kind}"
        input:
            code("run_study.py", f"ntkpaper.studies.{_kind}.compute"),
            unpack(lambda w, kind=_kind: study_inputs(kind, w.name, "run")),
        output:
            run=run_file(_kind, "{name}", "{shard}"),
        params:
            kind=_kind,
            spec=lambda w, kind=_kind: shard_spec(kind, w),
            seed=config["seed"],
            run_id=lambda w, kind=_kind: [kind, w.name],
            xla_opt_level=XLA_OPT_LEVEL,
        wildcard_constraints:
            shard=r"[A-Za-z0-9_.-]+",
        log:
            log_of(f"run_{_kind}", "{name}-{shard}"),
        benchmark:
            bench_of(f"run_{_kind}", "{name}-{shard}")
        priority: _study.priority
        threads: 2
        resources:
            # estimated from the shard's spec and data sizes (ntkpaper.pipeline.memory), per shard
            mem_mb=lambda w, kind=_kind: memory.run_mb(kind, shard_spec(kind, w), config["datasets"]),
            # a spec with `alone: true` (the cost study's timings) has the machine to itself
            machine=lambda w, kind=_kind: MACHINE if spec(kind, w.name).get("alone") else 1,
            runtime=_study.runtime_min,  # minutes; a cluster's wall-time limit (sbatch -t)
        script:
            "../scripts/run_study.py"

    rule:
        name:
            f"analyze_{_kind}"
        input:
            code("analyze_study.py", f"ntkpaper.studies.{_kind}.compute"),
            unpack(lambda w, kind=_kind: study_inputs(kind, w.name, "analyze")),
            runs=lambda w, kind=_kind: [
                run_file(kind, w.name, shard)
                for shard in STUDY_KINDS[kind].shards(spec(kind, w.name))
            ],
        output:
            numbers=f"{RESULTS}/numbers/{_kind}/{{name}}.json",
            **{f: f"{RESULTS}/figures/{_kind}/{{name}}/{f}.npz" for f in _study.figures},
        params:
            kind=_kind,
            spec=lambda w, kind=_kind: spec(kind, w.name),
            xla_opt_level=XLA_OPT_LEVEL,
        log:
            log_of(f"analyze_{_kind}", "{name}"),
        benchmark:
            bench_of(f"analyze_{_kind}", "{name}")
        resources:
            mem_mb=3000,
        script:
            "../scripts/analyze_study.py"
