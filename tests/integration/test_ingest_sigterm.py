"""SIGTERM during a burst loses no record: every record ingest accepted is on the topic."""

from __future__ import annotations

from collections import Counter

import redis

from tests import harness
from tests.ingest_support import ingest_env, procs, read_topic  # noqa: F401 - fixtures

SUBS = [f"burst{i:02d}" for i in range(20)]
HISTORY = 400  # 20 × 400 = 8000 posts, 4 pages each


def test_sigterm_during_a_burst_delivers_every_pending_record(ingest_env, procs):
    env = {
        **ingest_env,
        "SUBREDDITS": ",".join(SUBS),
        "SIMULATOR_HISTORY_POSTS": str(HISTORY),
        "INGEST_POLL_SECONDS": "0.5",
        "REFRESH_TIERS": "48:3600",
        "PRODUCER_LINGER_MS": "500",
    }
    sim = procs("simulate", env)
    first = procs("ingest", env, "ingest-1")
    # SIGTERM as soon as the first pages are in: records sit in the buffer and in lingering batches
    harness.wait_for(
        lambda: any(r["kind"] == "new" and r["status"] == 200 for r in sim.requests()),
        60,
        f"the first listing request\n{first.tail()}",
    )
    harness.wait_for(lambda: first.events("poll round"), 30, "a first round")
    assert first.stop() == 0, first.tail()

    stopped = first.events("ingest stopped")
    assert len(stopped) == 1, first.tail()
    enqueued, delivered, pending = stopped[0]["enqueued"], stopped[0]["delivered"], stopped[0]["pending"]
    on_topic = read_topic(env, env["TOPIC_POSTS"])
    at_sigterm = first.events("ingest stopping")[0]["pending"]
    print(
        f"\nSIGTERM mid-burst: {at_sigterm} records pending at the signal; ingest accepted {enqueued} records, "
        f"delivered {delivered}, pending {pending}; "
        f"{len(on_topic)} on the topic (of {len(SUBS) * HISTORY} posts)"
    )
    # the signal came mid-burst: records were accepted but not yet acknowledged when it arrived
    # (were it after everything had been flushed, the rest of this test would prove nothing)
    assert at_sigterm > 0, f"nothing was pending at the signal: it came too late\n{first.tail()}"
    assert at_sigterm <= enqueued
    assert enqueued > 0 and pending == 0
    assert len(on_topic) == enqueued == delivered
    assert len(set(k for k, _ in on_topic)) == len(on_topic)
    # ids marked as emitted in Redis are exactly the delivered ones
    seen = redis.Redis.from_url(env["REDIS_URL"]).zcard(f"{env['APP_ID']}:ingest:seen")
    assert seen == len(on_topic)

    # a restart emits the rest, and nothing twice
    second = procs("ingest", env, "ingest-2")
    total = len(SUBS) * HISTORY
    harness.wait_for(lambda: len(read_topic(env, env["TOPIC_POSTS"])) >= total, 90, f"every post\n{second.tail()}")
    # the first run may have delivered everything already: let the second one get going (its
    # signal handlers installed) before stopping it
    harness.wait_for(lambda: second.events("poll round"), 60, f"a round of the restarted ingest\n{second.tail()}")
    assert second.stop() == 0, second.tail()
    keys = Counter(k for k, _ in read_topic(env, env["TOPIC_POSTS"]))
    assert len(keys) == total and max(keys.values()) == 1
