"""Two workers split the partitions; kill -9 of one: the other takes over, state stays exact."""

from __future__ import annotations

import time

from tests import harness
from tests.scenario import Script, random_posts, send, wait_exact


def _owned(w: harness.Worker) -> int:
    return w.get_json("/ready/")["kafka"]["assigned_partitions"]


def test_two_workers_split_partitions_and_survive_kill_9(start_worker, worker_env):
    fast = {"KAFKA_SESSION_TIMEOUT": "6"}
    a = start_worker("a", **fast)
    b = start_worker("b", **fast)
    # 8 partitions of each source topic, split between the two
    harness.wait_for(
        lambda: _owned(a) > 0 and _owned(b) > 0 and _owned(a) + _owned(b) == 16, 60, "both workers to own partitions"
    )

    script = random_posts(time.time(), 400, 6, seed=3)
    half = len(script.refreshes) // 2
    send(worker_env, worker_env["TOPIC_POSTS"], script.firsts)
    wait_exact(a, Script(firsts=script.firsts).expected())
    send(worker_env, worker_env["TOPIC_REFRESH"], script.refreshes[:half])

    b.kill()  # kill -9, mid-stream: some of its events are processed but not committed
    send(worker_env, worker_env["TOPIC_REFRESH"], script.refreshes[half:])

    harness.wait_for(lambda: _owned(a) == 16, 60, "the survivor to own every partition")
    wait_exact(a, script.expected(), timeout=120)
    assert a.alive()
