"""kill -9 of a worker five times in a row while two workers run under load: no event lost, none
duplicated in `post_metrics_history`, `posts` holds each post's latest observation.

Each round kills one of the two workers (alternately) once more rows have arrived since the
last kill, waits for the survivor to own all 16 source partitions, and starts the killed one
again on its data directory (its local RocksDB is kept, as after a crash)."""

from __future__ import annotations

import pytest

from tests import harness
from tests.faults.support import Load, events, fault_env, wait_exact

pytestmark = [pytest.mark.faults, pytest.mark.long_fault]

KILLS = 5
RATE = 120.0


def owned(w: harness.Worker) -> int:
    try:
        return w.get_json("/ready/", timeout=3)["kafka"]["assigned_partitions"]
    except Exception:  # noqa: BLE001 - rebalancing
        return -1


def rows(db: str) -> int:
    return harness.query(db, "SELECT count(*) FROM post_metrics_history")[0][0]


def test_kill9_five_times_with_two_workers(start_worker, worker_env, database):
    env = fault_env(worker_env)
    workers = {"a": start_worker("a", **env), "b": start_worker("b", **env)}
    harness.wait_for(
        lambda: owned(workers["a"]) > 0 and owned(workers["b"]) > 0 and owned(workers["a"]) + owned(workers["b"]) == 16,
        90,
        "both workers to own partitions",
    )
    evs = events(int(RATE * 200), prefix="k")
    load = Load(worker_env, evs, RATE).start()
    kills = []
    for i in range(KILLS):
        name, other = ("a", "b") if i % 2 == 0 else ("b", "a")
        before = rows(database)
        harness.wait_for(lambda before=before: rows(database) >= before + 400, 120, f"rows before kill {i + 1}")
        at = rows(database)
        workers[name].kill()
        kills.append(at)
        harness.wait_for(
            lambda other=other: owned(workers[other]) == 16, 90, f"{other} to own every partition after kill {i + 1}"
        )
        workers[name] = start_worker(name, **env)
        harness.wait_for(
            lambda: owned(workers["a"]) > 0
            and owned(workers["b"]) > 0
            and owned(workers["a"]) + owned(workers["b"]) == 16,
            90,
            f"both workers again ({i + 1})",
        )
    assert not load.done, "the load ended before the last kill: the kills were not under load"
    assert kills[-1] < len(evs)
    load.join(300)
    snaps = wait_exact(worker_env, database, len(evs), timeout=240, workers=workers.values())
    print(
        f"worker kill -9 x{KILLS}: history rows at the kills {kills}; {len(snaps)} events, all exactly once", flush=True
    )
    assert all(w.alive() for w in workers.values())
