"""Recovery time of a worker holding N velocity entries.

    .venv/bin/python bench/recovery.py [--entries 200000,1000000]

For each N: one worker is fed N new posts (N velocity entries, N rows; events produced as fast
as the broker takes them) and then:

1. **restart from its local RocksDB** — SIGTERM, then `faust -A streams worker` again on the same
   DATA_DIR: seconds from the process start to `/ready/` answering ready;
2. **restart from an empty data dir** — the same with a new DATA_DIR: every table partition is
   restored from its changelog topic before `/ready/` says ready;
3. **failover with a standby replica** (TABLE_STANDBY_REPLICAS=1, the default) — worker A on the
   full data dir and a second worker B (empty data dir) share the group; once B's standby copies
   have caught up with A's changelogs (B's `/ready/` reports `standby_lag` 0; the seconds from
   the settled group to that are printed), A is killed with -9 and 200 probe events (new posts
   on every partition) are produced at once: seconds from the kill until B owns all 16 source
   partitions and is ready, and until every probe row is committed.
   KAFKA_SESSION_TIMEOUT=10: the group notices a dead member only after it, so it is a floor of
   the failover (a graceful stop leaves the group at once).

Uses the broker of .env.local and a PostgreSQL and Redis of its own.
`flock /tmp/heavy.lock .venv/bin/python bench/recovery.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    StatsPg,
    bench_env,
    events,
    harness,
    history_count,
    new_worker,
    own_servers,
    owned,
    peak_rss_mb,
    produce_events,
    wait_stable,
)


def time_to_ready(w: harness.Worker, timeout: float = 1800) -> float:
    t0 = time.monotonic()
    w.start(wait_ready=False)
    w.wait_ready(timeout)
    return time.monotonic() - t0


def velocity_keys(w: harness.Worker) -> float:
    return w.metric("redditstream_velocity_table_keys")


def run(n: int, stack, pg: StatsPg, redis_srv, workdir: Path) -> dict:
    uid = harness.unique("")
    url = pg.database(f"rec_{uid}")
    env = bench_env(stack, uid, url, redis_srv.url)
    env["KAFKA_SESSION_TIMEOUT"] = "10"
    data = str(workdir / f"data-{uid}-a")
    w = new_worker(env, workdir, f"fill-{uid}", DATA_DIR=data)
    w.start(timeout=180)
    evs = [e for e in events(n, 0, prefix="r", chunk=1000)]
    t0 = time.monotonic()
    asyncio.run(produce_events(env, evs))
    harness.wait_for(lambda: history_count(url) >= n, 3600, f"{n} rows", interval=1)
    fill_s = time.monotonic() - t0
    keys = velocity_keys(w)
    peak = peak_rss_mb(w.proc.pid)
    assert w.stop(120), "the filled worker did not stop by itself"

    local = new_worker(env, workdir, f"local-{uid}", DATA_DIR=data)
    t_local = time_to_ready(local)
    keys_local = velocity_keys(local)
    assert local.stop(120)

    empty = new_worker(env, workdir, f"empty-{uid}", DATA_DIR=str(workdir / f"data-{uid}-empty"))
    t_empty = time_to_ready(empty)
    keys_empty = velocity_keys(empty)
    assert empty.stop(120)

    a = new_worker(env, workdir, f"A-{uid}", DATA_DIR=data)
    b = new_worker(env, workdir, f"B-{uid}", DATA_DIR=str(workdir / f"data-{uid}-b"))
    a.start(timeout=900)
    b.start(timeout=900)
    wait_stable([a, b], 600)
    t_settled = time.monotonic()
    harness.wait_for(
        lambda: b.get_json("/ready/", timeout=3)["kafka"]["standby_lag"] == 0,
        1800,
        "B's standby copies to catch up",
        interval=0.5,
    )
    t_catchup = time.monotonic() - t_settled
    before = history_count(url)
    probes = events(200, 0, prefix="z", chunk=200)
    t_kill = time.monotonic()
    a.kill()
    asyncio.run(produce_events(env, probes))
    harness.wait_for(
        lambda: owned(b) == 16 and b.get_json("/ready/", timeout=3).get("ready"),
        600,
        "B to own every partition",
        interval=0.1,
    )
    t_owned = time.monotonic() - t_kill
    harness.wait_for(lambda: history_count(url) >= before + len(probes), 600, "every probe row", interval=0.1)
    t_rows = time.monotonic() - t_kill
    b.kill()
    return {
        "entries": n,
        "fill_s": fill_s,
        "keys": keys,
        "peak_rss_mb": peak,
        "local_s": t_local,
        "keys_local": keys_local,
        "empty_s": t_empty,
        "keys_empty": keys_empty,
        "standby_catchup_s": t_catchup,
        "failover_owned_s": t_owned,
        "failover_rows_s": t_rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", default="200000", help="velocity entries, comma-separated (e.g. 100000,1000000)")
    args = ap.parse_args()
    stack = harness.stack_env()
    with own_servers() as (workdir, pg, redis_srv):
        print("recovery time (8 partitions; KAFKA_SESSION_TIMEOUT=10; TABLE_STANDBY_REPLICAS=1):", flush=True)
        for n in [int(x) for x in args.entries.split(",")]:
            r = run(n, stack, pg, redis_srv, workdir)
            print(
                f"  {r['entries']:>9,} entries (filled in {r['fill_s']:.0f} s, table keys ~{r['keys']:.0f}, "
                f"peak RSS {r['peak_rss_mb']:.0f} MB): to /ready/ from local RocksDB {r['local_s']:.1f} s "
                f"(~{r['keys_local']:.0f} keys), from an empty data dir {r['empty_s']:.1f} s "
                f"(~{r['keys_empty']:.0f} keys); standby caught up {r['standby_catchup_s']:.1f} s after the group "
                f"settled; failover after kill -9 of the active: all partitions "
                f"owned + ready {r['failover_owned_s']:.1f} s, probe rows committed {r['failover_rows_s']:.1f} s",
                flush=True,
            )


if __name__ == "__main__":
    main()
