"""Run a workflow script from Snakemake (`script:`) or by hand from the command line.

Each script in workflow/scripts defines ``main(inputs, outputs, params)`` and ends with
``ntkpaper.pipeline.cli.run(main)``. Under Snakemake the three mappings come from the rule; by hand:

    python workflow/scripts/prepare_data.py --input ... --output data=/tmp/d.npz \
        --params params.yaml

where ``--input``/``--output`` take ``name=path`` pairs and ``--params`` a YAML/JSON file.
Output goes to stderr and, under Snakemake, to the rule's log file as well.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("ntkpaper")


def _pairs(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        name, sep, path = item.partition("=")
        if not sep:
            raise SystemExit(f"expected name=path, got {item!r}")
        out[name] = path
    return out


def _setup_logging(log_path: str | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_path, mode="w"))
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        handlers=handlers,
        force=True,
    )
    log.setLevel(logging.INFO)


def xla_options(opt_level: int | None) -> None:
    """XLA's optimization level for this job (quick.yaml's `xla_opt_level: 0` skips LLVM's
    optimizations): XLA reads XLA_FLAGS when it first compiles, so setting it before `main`
    computes anything applies it; a job that computed at import would not get it."""
    if opt_level is None:
        return
    bridge = sys.modules.get("jax._src.xla_bridge")  # loaded with jax; never imported here
    if bridge is not None and bridge.backends_are_initialized():
        raise RuntimeError("xla_opt_level: XLA started before the job set its flags")
    flag = f"--xla_backend_optimization_level={int(opt_level)}"
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()


def run(main: Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], None]) -> None:
    """Call main with the rule's inputs, outputs and params (Snakemake or argv)."""
    snakemake = sys.modules["__main__"].__dict__.get("snakemake")
    if snakemake is not None:
        inputs, outputs = dict(snakemake.input.items()), dict(snakemake.output.items())
        params = dict(snakemake.params.items())
        log_path = snakemake.log[0] if len(snakemake.log) else None
    else:
        parser = argparse.ArgumentParser(description=sys.modules["__main__"].__doc__)
        parser.add_argument("--input", nargs="*", metavar="NAME=PATH")
        parser.add_argument("--output", nargs="*", metavar="NAME=PATH")
        parser.add_argument("--params", metavar="FILE", help="YAML or JSON mapping")
        args = parser.parse_args()
        inputs, outputs = _pairs(args.input), _pairs(args.output)
        params = yaml.safe_load(Path(args.params).read_text()) if args.params else {}
        log_path = None
    _setup_logging(log_path)
    xla_options(params.get("xla_opt_level"))
    started = time.time()
    main(inputs, outputs, params)
    # The process's CPU time includes its start-up (imports, JIT), which per-job costs are made of.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    log.info(
        "done in %.1f s (process CPU %.1f s, start-up included)",
        time.time() - started,
        usage.ru_utime + usage.ru_stime,
    )
