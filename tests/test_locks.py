"""Resume after a hard kill: a stale Snakemake lock is removed, a live run's lock is kept.
(The kill-and-rerun through `make quick` is in test_resume.py.)"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from ntkpaper.pipeline import locks


def test_a_stale_lock_goes_and_a_live_run_keeps_its_lock(tmp_path):
    lock = tmp_path / ".snakemake/locks/0.input.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("")
    assert "removed the lock" in locks.clear_stale_lock(tmp_path)
    assert not lock.exists() and locks.clear_stale_lock(tmp_path) is None
    lock.write_text("")
    fake = tmp_path / "bin/snakemake"  # a process that looks like Snakemake to /proc
    fake.parent.mkdir()
    fake.write_text("import time\ntime.sleep(60)\n")
    live = subprocess.Popen([sys.executable, str(fake)], cwd=tmp_path)
    try:
        time.sleep(0.5)
        with pytest.raises(RuntimeError, match=rf"Snakemake is running in .* \(pid {live.pid}"):
            locks.clear_stale_lock(tmp_path)
        assert lock.exists()
    finally:
        live.kill()
