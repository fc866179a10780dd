"""A worker's data directory on a full disk, under load: a clear error, nothing lost.

The data directory is a small tmpfs mounted by the test (the tests run as root here; without
root the test fails and says so — it is not skipped). Once the worker is ready, the rest of the
tmpfs is filled with a file, so RocksDB's next writes fail with ENOSPC. The worker must say so
plainly (its log names "No space left on device"), must not turn the events into dead letters or
drop them: it retries, then stops with exit 70 and one critical line, acking nothing. Once the
space is back (the file removed, the worker restarted) every event is in the database exactly once.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests import harness
from tests.faults.support import Load, events, fault_env, wait_exact

pytestmark = pytest.mark.faults

SIZE_MB = 64
RATE = 200.0


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    assert os.geteuid() == 0, "mounting a tmpfs needs root (the full-disk scenario cannot run here)"
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m", "tmpfs", str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(path) -> int:
    """Write zeros to `path` until the filesystem is full; the bytes written."""
    n = 0
    chunk = b"\0" * (1 << 20)
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                n += f.write(chunk)
        except OSError:
            pass
        try:
            while True:
                n += f.write(b"\0" * 4096)
        except OSError:
            pass
    return n


def test_full_disk_clear_error_nothing_lost(start_worker, worker_env, database, small_disk):
    data = small_disk / "data"
    data.mkdir()
    env = fault_env(worker_env, DATA_DIR=str(data))
    w = start_worker("w1", **env)
    filler = small_disk / "filler"
    fill(filler)
    evs = events(int(RATE * 20), prefix="df")
    load = Load(worker_env, evs, RATE).start()

    def reported() -> bool:
        return "No space left on device" in w.log_path.read_text(errors="replace")

    harness.wait_for(reported, 90, "the worker to report the full disk")
    load.join(120)
    # nothing was given up on while the disk was full: no dead letters
    assert harness.query(database, "SELECT count(*) FROM dlq_events")[0][0] == 0, w.tail(40)
    # RocksDB keeps a database read-only after a failed write: the worker stops (exit 70, one
    # critical line) once retrying for ENVIRONMENT_RETRY_SECONDS has not helped, acking nothing
    harness.wait_for(lambda: not w.alive(), 120, "the worker to stop on its failing data directory")
    assert w.returncode == 70, w.tail(20)
    assert "the worker's local state cannot be written; it stops now" in w.log_text()
    filler.unlink()
    w = start_worker("w1", **env)
    wait_exact(worker_env, database, len(evs), workers=[w])
