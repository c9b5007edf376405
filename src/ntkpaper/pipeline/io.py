"""Atomic writes, safe loads and provenance sidecars for everything under results/.

Every writer goes through `atomic_path`: it writes to a temporary name in the target's
folder and renames it into place, so a killed job never leaves a half-written file where a
later rule could read it. Every result gets a sidecar `<file>.meta.json` saying where it
came from (git commit, dirty flag, package versions, config slice, seed, x64, wall time).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

PROVENANCE_PACKAGES = ("jax", "jaxlib", "flax", "optax", "neural-tangents", "numpy", "scipy")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; results are meant to be read
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        value = float(obj)
        return value if math.isfinite(value) else None  # JSON has no NaN/inf
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if hasattr(obj, "__array__"):  # jax arrays
        return _jsonable(np.asarray(obj))
    return obj


def write_json(path: str | os.PathLike, obj: Any) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_jsonable(obj), indent=2, sort_keys=True) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text())


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_npz(path: str | os.PathLike, **arrays: Any) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **{k: np.asarray(v) for k, v in arrays.items()})


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def git_state(cwd: str | os.PathLike | None = None) -> dict[str, Any]:
    """The commit and whether the tree had uncommitted changes (None outside git)."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def package_versions(names: tuple[str, ...] = PROVENANCE_PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance(*, config: Any = None, seed: int | None = None, started: float | None = None):
    """Everything needed to say where a result came from. JAX's settings are recorded when
    the job used JAX (it is never imported here: plot and report jobs run without it)."""
    jax = sys.modules.get("jax")
    return {
        "git": git_state(),
        "packages": package_versions(),
        "python": platform.python_version(),
        "jax_enable_x64": None if jax is None else bool(jax.config.jax_enable_x64),
        "jax_backend": None if jax is None else jax.default_backend(),
        "config": config,
        "seed": seed,
        "wall_time_s": None if started is None else round(time.time() - started, 3),
        "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def meta_path(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".meta.json")


def write_provenance(path: str | os.PathLike, **kwargs: Any) -> None:
    """Write `<path>.meta.json` beside a result."""
    write_json(meta_path(path), provenance(**kwargs))
