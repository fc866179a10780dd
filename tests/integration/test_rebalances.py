"""Rebalances while a worker works through a burst lose no record and leave none uncommitted.

faust-streaming skips records around a rebalance (a record fetched before it and delivered after
its seek, faust-streaming#221; records dropped from agent queues, #629): a partition then never
commits past the first skipped offset. streams/consumer.py and agents/watchdog.py repair that.
Here the worker is made to rejoin its group repeatedly mid-burst (`POST /debug/rebalance/`, which
also shows that endpoint's authorisation), and a second worker joins and leaves; afterwards the
velocity table is exact and every source partition is committed to its end. The second worker
leaves by SIGTERM mid-burst and must exit by itself: faust waits for every event in flight to be
acked before it leaves the group, so anything that holds acks (the observation outbox) has to keep
flushing while it waits."""

from __future__ import annotations

import json
import logging
import time
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from tests import harness
from tests.kafka_tools import wait_committed
from tests.scenario import random_posts, send, wait_exact

TOKEN = "rebalance-test-token"
log = logging.getLogger(__name__)


def rebalance(worker: harness.Worker, token: str | None = TOKEN) -> int:
    req = Request(
        worker.url + "/debug/rebalance/",
        method="POST",
        data=b"",
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )
    try:
        with urlopen(req, timeout=10) as resp:
            return resp.status
    except HTTPError as exc:
        return exc.code


def settled(*workers: harness.Worker) -> bool:
    """Every source partition owned, by all of them, and none of them rebalancing."""
    states = [w.get_json("/ready/")["kafka"] for w in workers]
    return (
        all(k["assigned_partitions"] > 0 and not k["rebalancing"] for k in states)
        and sum(k["assigned_partitions"] for k in states) == 16
    )


def test_rebalances_mid_stream_lose_nothing(start_worker, worker_env):
    fast = {"KAFKA_SESSION_TIMEOUT": "6", "ADMIN_TOKEN": TOKEN}
    a = start_worker("a", **fast)
    assert rebalance(a, token=None) == 401 and rebalance(a, token="wrong") == 401
    script = random_posts(time.time(), 1000, 5, seed=21, prefix="r")
    half = len(script.refreshes) // 2
    send(worker_env, worker_env["TOPIC_POSTS"], script.firsts)
    send(worker_env, worker_env["TOPIC_REFRESH"], script.refreshes[:half])
    for _ in range(8):  # rejoins while the burst is being processed
        time.sleep(0.4)  # spaces the 8 rejoins over the burst: the scenario's pace, not a wait for something
        assert rebalance(a) == 202
    b = start_worker("b", **fast)  # joins mid-burst: partitions move to it...
    send(worker_env, worker_env["TOPIC_REFRESH"], script.refreshes[half:])
    assert rebalance(a) == 202
    # ...and come back to a when it leaves: a SIGTERM mid-burst is a clean exit (its events in
    # flight flushed and acked, its offsets committed, the group left), not a hang until SIGKILL.
    # Sent once the group has settled: a SIGTERM *during* a rebalance can leave faust's consumer
    # retrying a dead coordinator for good (seen once in CI; open, see the issue note).
    harness.wait_for(lambda: settled(a, b), 60, "a settled group of a and b")
    stopping = time.monotonic()
    assert b.stop(timeout=30), f"b did not exit within 30 s of SIGTERM\n{b.tail(40)}"
    log.info("b stopped in %.1f s", time.monotonic() - stopping)

    wait_exact(a, script.expected(), timeout=150)
    sources = [worker_env["TOPIC_POSTS"], worker_env["TOPIC_REFRESH"]]
    wait_committed(worker_env, worker_env["APP_ID"], sources, a)
    assert a.alive()


def test_rebalance_endpoint_is_disabled_without_a_token(start_worker):
    w = start_worker(ADMIN_TOKEN="")
    assert rebalance(w) == 403
    assert rebalance(w, token=None) == 403
    assert json.loads(urlopen(w.url + "/health/").read())["status"] == "ok"
