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


def test_a_worker_left_without_source_partitions_is_a_ready_standby(start_worker, worker_env):
    # One partition, two workers: faust's assignor gives the second only the standby copy of the
    # tables (the same happens to a 5th worker joining four over 8 partitions). It is a spare, not
    # a fault: /ready/ must answer 200 with its role, not 503 for ever.
    one = {"TOPIC_PARTITIONS": "1", "KAFKA_SESSION_TIMEOUT": "6"}
    a = start_worker("a", **one)
    b = start_worker("b", **one)  # waits for b's /ready/ to answer 200

    def roles() -> tuple[str, str]:
        return a.get_json("/ready/")["kafka"]["role"], b.get_json("/ready/")["kafka"]["role"]

    harness.wait_for(lambda: roles() == ("active", "standby"), 60, "a active and b its standby")
    kb = b.get_json("/ready/")["kafka"]
    assert kb["assigned_partitions"] == 0 and kb["standby_partitions"] > 0 and kb["ok"], kb

    script = random_posts(time.time(), 50, 2, seed=4)
    send(worker_env, worker_env["TOPIC_POSTS"], script.firsts)
    send(worker_env, worker_env["TOPIC_REFRESH"], script.refreshes)
    wait_exact(a, script.expected())
    # the standby copy follows a's changelogs up to their live ends
    harness.wait_for(lambda: b.get_json("/ready/")["kafka"]["standby_lag"] == 0, 60, "b's standby to catch up")
    assert a.get_json("/ready/")["kafka"]["standby_lag"] == 0  # a holds no standby
    # the standby takes over when the active dies
    a.kill()
    harness.wait_for(lambda: b.get_json("/ready/")["kafka"]["role"] == "active", 60, "b to take over")
    wait_exact(b, script.expected())
