"""Resume after a hard kill: remove Snakemake's lock when no Snakemake runs in this folder.

A SIGKILL (or a power loss) leaves ``.snakemake/locks/`` behind, and the next run refuses to
start until someone finds ``--unlock``. ``make paper`` and ``make quick`` call this first:

    python -m ntkpaper.pipeline.locks [FOLDER]

It removes a stale lock (saying so) and exits 0; when a Snakemake process is still running
in the folder it names its pid and exits 1, leaving the lock alone. Incomplete outputs of
the killed run are Snakemake's own business: it reruns them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def live_snakemake(folder: Path) -> list[int]:
    """Pids of Snakemake processes whose working directory is `folder` (Linux /proc)."""
    folder = folder.resolve()
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = (proc / "cwd").resolve()
        except OSError:
            continue  # gone, or not ours to read
        if (
            int(proc.name) != os.getpid()
            and cwd == folder
            and any(
                Path(arg.decode(errors="replace")).name == "snakemake" or arg == b"snakemake"
                for arg in cmdline[:3]
            )
        ):
            pids.append(int(proc.name))
    return pids


def clear_stale_lock(folder: Path) -> str | None:
    """Remove the lock of an interrupted run; a message saying what was done, or None."""
    locks = folder / ".snakemake" / "locks"
    files = [p for p in locks.glob("*") if p.is_file()]
    if not files:
        return None
    pids = live_snakemake(folder)
    if pids:
        raise RuntimeError(
            f"Snakemake is running in {folder} (pid {', '.join(map(str, pids))}); "
            "wait for it or stop it, then run again"
        )
    for path in files:
        path.unlink(missing_ok=True)
    return f"removed the lock left by an interrupted run in {folder}; resuming"


def main(argv: list[str]) -> int:
    folder = Path(argv[1] if len(argv) > 1 else ".")
    try:
        message = clear_stale_lock(folder)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    if message:
        print(message, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
