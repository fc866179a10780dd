"""20 subreddits are polled concurrently: 2 s of injected latency on one subreddit does not
delay the rounds of the others (their round times are compared with and without it)."""

from __future__ import annotations

import calendar
import math
import statistics
import time
from collections import Counter

from tests import harness
from tests.ingest_support import ingest_env, procs  # noqa: F401 - fixtures

SUBS = [f"sub{i:02d}" for i in range(20)]
SLOW = SUBS[0]


def _ts(r: dict) -> float:
    return calendar.timegm(time.strptime(r["ts"][:19], "%Y-%m-%dT%H:%M:%S")) + float(r["ts"][19:-1])


def _rounds(ingest, t0: float, t1: float) -> list[dict]:
    return [r for r in ingest.events("poll round") if t0 <= _ts(r) <= t1]


def test_slow_subreddit_does_not_delay_the_others(ingest_env, procs):
    env = {
        **ingest_env,
        "SUBREDDITS": ",".join(SUBS),
        "SIMULATOR_HISTORY_POSTS": "20",
        "INGEST_POLL_SECONDS": "0.5",
        "REFRESH_TIERS": "48:3600",
    }
    sim = procs("simulate", env)
    ingest = procs("ingest", env)
    harness.wait_for(lambda: len(ingest.events("poll round")) >= 2 * len(SUBS), 60, f"first rounds\n{ingest.tail()}")

    # the baseline: every subreddit completes 5 more rounds without the fault
    t0 = time.time()
    harness.wait_for(
        lambda: min(Counter(r["subreddit"] for r in _rounds(ingest, t0, math.inf)).get(s, 0) for s in SUBS) >= 5,
        60,
        f"5 baseline rounds of every subreddit\n{ingest.tail()}",
    )
    t1 = time.time()
    sim.call("/_sim/faults", {"target": SLOW, "latency": 2.0})
    # with the fault: the window is the slow subreddit's own, three of its rounds that ended
    # more than 2.5 s after the fault was set (so they started after it)

    def slow_rounds() -> list[dict]:
        return [r for r in _rounds(ingest, t1 + 2.5, math.inf) if r["subreddit"] == SLOW]

    harness.wait_for(lambda: len(slow_rounds()) >= 3, 60, f"3 rounds of the slow subreddit\n{ingest.tail()}")
    t2 = _ts(slow_rounds()[2])
    assert ingest.stop() == 0, ingest.tail()

    before = [r for r in _rounds(ingest, t0, t1) if r["subreddit"] != SLOW]
    during = [r for r in _rounds(ingest, t1 + 2.5, t2) if r["subreddit"] != SLOW]
    slow = [r for r in _rounds(ingest, t1 + 2.5, t2) if r["subreddit"] == SLOW]
    med_before = statistics.median(r["duration_ms"] for r in before)
    med_during = statistics.median(r["duration_ms"] for r in during)
    print(
        f"\nfast subreddits: median round {med_before:.1f} ms without the slow one ({len(before)} rounds), "
        f"{med_during:.1f} ms with it ({len(during)} rounds); slow subreddit: "
        f"{[r['duration_ms'] for r in slow]} ms"
    )
    # the slow subreddit's rounds take the injected 2 s …
    assert slow and min(r["duration_ms"] for r in slow) >= 1900
    # … the others' do not: same order of magnitude as before, far below the injected latency
    assert med_during <= max(3 * med_before, med_before + 250)
    # and they keep their pace: each fast subreddit still completes rounds every ~0.5 s
    per_sub = {s: sum(1 for r in during if r["subreddit"] == s) for s in SUBS[1:]}
    assert min(per_sub.values()) >= 4, per_sub
