"""A refresh round of N tracked posts costs ⌈N/100⌉ /api/info requests (counted at the
simulator), and injected 429 and 503 answers are survived: the round still completes."""

from __future__ import annotations

import calendar
import math
import time

from streams.records import decode_snapshot
from tests import harness
from tests.ingest_support import ingest_env, procs, read_topic  # noqa: F401 - fixtures

N = 250  # posts of the one subreddit: 3 requests a round (100 + 100 + 50)


def _ts(event: dict) -> float:
    """A JSON log line's time ("2026-12-02T17:40:31.720Z") as epoch seconds."""
    return calendar.timegm(time.strptime(event["ts"][:19], "%Y-%m-%dT%H:%M:%S")) + float(event["ts"][19:-1])


def _info_requests(sim, since: int) -> list[dict]:
    return [r for r in sim.requests(since) if r["kind"] == "info"]


def test_refresh_round_costs_ceil_n_over_100_requests_and_survives_429_503(ingest_env, procs):
    env = {
        **ingest_env,
        "SUBREDDITS": "batched",
        "SIMULATOR_HISTORY_POSTS": str(N),
        "INGEST_POLL_SECONDS": "3600",
        "REFRESH_TIERS": "48:2",
        "REFRESH_TRENDING_FACTOR": "1",
        "INGEST_REFRESH_CHECK_SECONDS": "0.5",
    }
    sim = procs("simulate", env)
    ingest = procs("ingest", env)
    harness.wait_for(lambda: len(ingest.events("refresh round")) >= 2, 60, f"two refresh rounds\n{ingest.tail()}")
    assert len(sim.post_ids("batched")) == N

    # a clean round: exactly ⌈N/100⌉ requests at the simulator, N ids in all
    rounds = ingest.events("refresh round")
    assert all(r["posts"] == N and r["refreshed"] == N for r in rounds), rounds
    # the requests of these rounds: a next round may already be asking (it starts 2 s after
    # the last one), so only those up to the last logged round's end count
    end = _ts(rounds[-1]) + 0.001  # the log's ts is rounded to the millisecond
    info = [r for r in _info_requests(sim, 0) if r["status"] == 200 and r["t"] <= end]
    assert len(info) == len(rounds) * math.ceil(N / 100) == len(rounds) * 3
    assert sum(r["ids"] for r in info) == len(rounds) * N
    assert max(r["ids"] for r in info) == 100

    # the next requests to /api/info answer 429 (reset 1 s), 503, 503: the round completes
    mark = len(sim.requests())
    done = len(rounds)
    sim.call("/_sim/faults", {"target": "info", "statuses": [429, 503, 503], "reset": 1})
    harness.wait_for(lambda: len(ingest.events("refresh round")) >= done + 2, 60, f"two more rounds\n{ingest.tail()}")
    after = ingest.events("refresh round")[done : done + 2]
    assert all(r["posts"] == N and r["refreshed"] == N and r["requests"] == 3 for r in after), after
    statuses = [r["status"] for r in _info_requests(sim, mark)]
    print(
        f"\nclean rounds: {len(rounds)} × {N} posts → {len(info)} info requests (200) for {sum(r['ids'] for r in info)}"
        f" ids; faulted rounds: {[(r['posts'], r['requests']) for r in after]}, statuses at the simulator: {statuses}"
    )
    assert statuses[:3] == [429, 503, 503], statuses
    assert statuses.count(200) >= 6 and statuses.count(429) == 1 and statuses.count(503) == 2
    # the 429 made ingest wait for the advertised reset before its next request
    reqs = _info_requests(sim, mark)
    assert reqs[1]["t"] - reqs[0]["t"] >= 0.9

    assert ingest.stop() == 0, ingest.tail()
    refreshes = [decode_snapshot(v) for _, v in read_topic(env, env["TOPIC_REFRESH"])]
    assert len(refreshes) == sum(r["refreshed"] for r in ingest.events("refresh round"))
    assert all(s.source == "refresh" for s in refreshes)
