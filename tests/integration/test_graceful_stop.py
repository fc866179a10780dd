"""SIGTERM mid-burst: the worker exits by itself, promptly, and a worker restarted on the same
data finishes the burst exactly, with every source partition committed to its end.

On SIGTERM faust stops its timers, then waits for every event in flight to be acked before it
commits and leaves the group. The enrich agents ack an event only once its observation batch is on
the broker, so the batches must keep flushing during that wait (agents/enrich.py,
flush_observations); when they were flushed by an `app.timer`, a worker stopped mid-stream waited
in `wait_empty` until it was killed, and its partitions waited a session timeout to move."""

from __future__ import annotations

import time

from tests import harness
from tests.kafka_tools import lag, wait_committed
from tests.scenario import random_posts, send, wait_exact


def test_sigterm_mid_burst_exits_promptly_and_a_restart_finishes_exactly(start_worker, worker_env):
    a = start_worker("a")
    script = random_posts(time.time(), 1500, 4, seed=31, prefix="g")
    total = send(worker_env, worker_env["TOPIC_POSTS"], script.firsts)
    total += send(worker_env, worker_env["TOPIC_REFRESH"], script.refreshes)

    def processed() -> float:
        return a.metric("redditstream_events_total", outcome="ok")

    harness.wait_for(lambda: processed() >= 300, 90, "the burst to be under way")
    at_stop = processed()
    assert at_stop < total, "the burst was over before the stop; the test shows nothing"

    stopping = time.monotonic()
    assert a.stop(timeout=30), f"the worker did not exit within 30 s of SIGTERM\n{a.tail(40)}"
    took = time.monotonic() - stopping
    assert "wait_empty: Waiting for tasks" not in a.log_path.read_text(errors="replace"), a.tail(40)
    sources = [worker_env["TOPIC_POSTS"], worker_env["TOPIC_REFRESH"]]
    assert sum(lag(worker_env, worker_env["APP_ID"], sources).values()) < total, (
        f"nothing committed by the stopped worker (stopped in {took:.1f} s)"
    )

    b = start_worker("a")  # same data directory
    wait_exact(b, script.expected(), timeout=150)
    wait_committed(worker_env, worker_env["APP_ID"], sources, b)
