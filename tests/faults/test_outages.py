"""PostgreSQL stopped for 30 s, and Redis stopped for 30 s, under load through the whole pipeline
(source topics → enrich → sink): nothing lost or duplicated, `posts` exact, and after the Redis
outage the velocity mirror is consistent with the newest observation of every post.

The servers stopped are throwaway ones of the test (tests/integration/pgserver.py, the Redis of
test_redis_outage.py), never the shared stack, so other runs on the machine are not disturbed.
"""

from __future__ import annotations

import time

import pytest

from tests import harness
from tests.faults.support import Load, events, fault_env, wait_exact
from tests.integration.pgserver import PgServer
from tests.integration.test_redis_outage import OwnRedis

pytestmark = [pytest.mark.faults, pytest.mark.long_fault]

OUTAGE_S = 30
RATE = 100.0


@pytest.fixture
def own_postgres():
    srv = PgServer.create()
    yield srv
    srv.destroy()


@pytest.fixture
def own_redis(tmp_path):
    r = OwnRedis(tmp_path)
    r.start()
    yield r
    r.stop()


def rows(db: str) -> int:
    return harness.query(db, "SELECT count(*) FROM post_metrics_history")[0][0]


def test_postgres_stopped_30s_under_load(start_worker, worker_env, own_postgres):
    db = own_postgres.url
    env = fault_env(worker_env, DATABASE_URL=db, SINK_RETRY_MAX_SECONDS="2")
    w = start_worker("w1", **env)
    evs = events(int(RATE * 70), prefix="pg")
    load = Load({**worker_env, **env}, evs, RATE).start()
    harness.wait_for(lambda: rows(db) >= 500, 60, "the first rows")
    own_postgres.stop()
    down_at, sent_at_stop = time.monotonic(), load.sent
    harness.wait_for(lambda: w.metric("redditstream_sink_retries_total") >= 1, 20, "the sink to notice the outage")
    while time.monotonic() - down_at < OUTAGE_S:
        assert w.alive(), f"the worker died while PostgreSQL was down:\n{w.tail()}"
        time.sleep(1)
    assert load.sent > sent_at_stop + 0.8 * RATE * (OUTAGE_S - 5), "the load did not go on during the outage"
    sent_at_start = load.sent
    own_postgres.start()
    harness.wait_for(lambda: harness.query(db, "SELECT 1"), 30, "PostgreSQL to answer again")
    load.join(120)
    wait_exact({**worker_env, **env}, db, len(evs), workers=[w])
    print(
        f"postgres outage: {sent_at_start - sent_at_stop} events produced while it was down, "
        f"{len(evs)} in all, exactly once",
        flush=True,
    )
    assert w.alive()


def test_redis_stopped_30s_under_load_mirror_consistent(start_worker, worker_env, database, own_redis):
    env = fault_env(worker_env, REDIS_URL=own_redis.url)
    w = start_worker("w1", **env)
    evs = events(int(RATE * 70), prefix="rd")
    load = Load(worker_env, evs, RATE).start()
    harness.wait_for(lambda: own_redis.client().dbsize() >= 200, 60, "the mirror to fill")
    own_redis.stop()
    down_at = time.monotonic()
    harness.wait_for(
        lambda: w.metric("redditstream_redis_mirror_pending") > 0,
        20,
        "the mirror to report pending entries while Redis is down",
    )
    while time.monotonic() - down_at < OUTAGE_S:
        assert w.alive(), f"the worker died while Redis was down:\n{w.tail()}"
        time.sleep(1)
    own_redis.start()  # back, and empty
    load.join(120)
    snaps = wait_exact(worker_env, database, len(evs), workers=[w])
    latest: dict[str, dict] = {}
    for s in snaps:
        if s["id"] not in latest or s["observed_at"] > latest[s["id"]]["observed_at"]:
            latest[s["id"]] = s
    r = own_redis.client()
    bad: list = []

    def consistent() -> bool:
        nonlocal bad
        bad = []
        pipe = r.pipeline(transaction=False)
        for pid in latest:
            pipe.hgetall(f"vel:{pid}")
        for (pid, s), got in zip(latest.items(), pipe.execute(), strict=True):
            if (
                not got
                or int(got["score"]) != s["score"]
                or int(got["comments"]) != s["num_comments"]
                or abs(float(got["ts"]) - s["observed_at"]) > 1e-6
            ):
                bad.append((pid, got, s["score"], s["num_comments"], s["observed_at"]))
        return not bad

    try:
        harness.wait_for(consistent, 90, "the Redis mirror to match every post's newest observation", interval=1)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {len(bad)} differ, e.g. {bad[:3]}\n{w.tail(20)}") from None
    assert w.metric("redditstream_redis_mirror_pending") == 0
    print(f"redis outage: {len(snaps)} events exactly once; mirror of {len(latest)} posts consistent", flush=True)
    assert w.alive()
