"""Broker failures on the 3-broker KRaft cluster (`make cluster`: replication 3,
min.insync.replicas=2; every producer acks=all): with the simulator → ingest and two workers
running against the cluster, and a paced load besides, one broker (not the quorum leader) is
killed with -9 and restarted, then the controller quorum's leader. Processing must go on through
each (rows keep arriving while a broker is down), and at the end the database matches the
records on the source topics exactly.

The cluster is started when it does not answer (and stopped again at the end only in that case).
"""

from __future__ import annotations

import time

import pytest

from tests import harness
from tests.faults.support import Load, events, fault_env, wait_exact
from tests.ingest_support import ingest_env, procs  # noqa: F401 - fixtures
from tests.kafka_tools import CLUSTER_URL, cluster_running, kafka_sh, quorum_leader

pytestmark = [pytest.mark.faults, pytest.mark.long_fault]

SUBS = ["alpha", "beta", "gamma"]
RATE = 80.0


@pytest.fixture
def cluster():
    before = cluster_running()
    if not all(before.values()):
        kafka_sh("start-cluster", timeout=300)
    harness.wait_for(lambda: all(cluster_running().values()), 120, "the 3-broker cluster")
    yield
    for n in (1, 2, 3):  # whatever the test killed comes back; a cluster we started is stopped
        if not cluster_running()[n]:
            kafka_sh("restart", f"cluster/{n}")
    if not any(before.values()):
        for n in (1, 2, 3):
            kafka_sh("stop", f"cluster/{n}")


def rows(db: str) -> int:
    return harness.query(db, "SELECT count(*) FROM post_metrics_history")[0][0]


def owned(w: harness.Worker) -> int:
    try:
        return w.get_json("/ready/", timeout=3)["kafka"]["assigned_partitions"]
    except Exception:  # noqa: BLE001 - rebalancing
        return -1


def test_broker_and_quorum_leader_killed_under_load(cluster, ingest_env, procs, start_worker, worker_env, database):
    on_cluster = {"KAFKA_BROKER_URL": CLUSTER_URL, "TOPIC_REPLICATION": "3"}
    wenv = fault_env(worker_env, **on_cluster)
    a = start_worker("a", **wenv)
    b = start_worker("b", **wenv)
    harness.wait_for(
        lambda: owned(a) > 0 and owned(b) > 0 and owned(a) + owned(b) == 16, 120, "both workers to own partitions"
    )
    ienv = {
        **ingest_env,
        **on_cluster,
        "SUBREDDITS": ",".join(SUBS),
        "SIMULATOR_SUBREDDITS": ",".join(SUBS),
        "SIMULATOR_HISTORY_POSTS": "100",
        "SIMULATOR_SPEED": "30",
        "SIMULATOR_POSTS_PER_HOUR": "600",
        "INGEST_POLL_SECONDS": "1",
        "REFRESH_TIERS": "1:20,48:60",
        "INGEST_REFRESH_CHECK_SECONDS": "1",
    }
    procs("simulate", ienv)
    ingest = procs("ingest", ienv, "ingest")
    load_env = {**worker_env, **on_cluster}
    evs = events(int(RATE * 400), prefix="cl")
    load = Load(load_env, evs, RATE).start()

    def progresses(what: str, n: int = 600) -> None:
        start, t0 = rows(database), time.monotonic()
        harness.wait_for(lambda: rows(database) >= start + n, 120, f"{n} more rows {what}\n{a.tail(10)}\n{b.tail(10)}")
        print(f"cluster: {n} more rows {what} in {time.monotonic() - t0:.1f} s", flush=True)

    progresses("before the first kill")
    leader = quorum_leader()
    victim = next(n for n in (3, 2, 1) if n != leader)
    kafka_sh("kill", f"cluster/{victim}")
    progresses(f"with broker {victim} down")
    kafka_sh("restart", f"cluster/{victim}")
    progresses(f"after broker {victim} came back")

    leader = quorum_leader()
    kafka_sh("kill", f"cluster/{leader}")
    rest = [n for n in (1, 2, 3) if n != leader]
    new_leader = quorum_leader(alive=rest)
    assert new_leader != leader
    progresses(f"with the quorum leader {leader} down (new leader {new_leader})")
    kafka_sh("restart", f"cluster/{leader}")
    progresses(f"after the old leader {leader} came back")

    assert ingest.alive(), ingest.tail()
    load.stop()
    load.join(120)
    assert ingest.stop() == 0, ingest.tail()
    snaps = wait_exact(load_env, database, load.sent, timeout=300, workers=[a, b])
    print(
        f"cluster: {len(snaps)} events on the source topics ({load.sent} from the load, the rest from ingest), "
        "all exactly once in the history",
        flush=True,
    )
    assert a.alive() and b.alive()
