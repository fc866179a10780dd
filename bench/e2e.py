"""End-to-end benchmark: generator → reddit.posts / reddit.refresh → `faust -A streams worker` →
PostgreSQL, next to the seed's two designs on the same data in the same run.

    .venv/bin/python bench/e2e.py [--posts 6000] [--refreshes 4] [--rates 100,1000,max]
    .venv/bin/python bench/e2e.py --workers 1,2,4 [--scale-posts 6000]     # scale-out accounting only
    .venv/bin/python bench/e2e.py --kafka-env .cache/stack/secure.env       # every client over SASL_SSL

Per run it prints:

* **throughput** — the same backlog of PostSnapshot JSON (new posts on the posts topic, their
  refreshes on the refresh topic, 8 partitions) consumed by (1) one of our workers, (2) baseline
  (a) `bench/baselines/original.py` and (3) baseline (b) `bench/baselines/optimised.py`, each
  with its own consumer group and its own freshly migrated database on one PostgreSQL: events/s
  into PostgreSQL (history rows over the span from the first to the last row's `committed_at`,
  a column the bench adds with DEFAULT clock_timestamp()), PostgreSQL statements and
  transactions per row (pg_stat_statements calls incl. BEGIN/COMMIT, pg_stat_database
  xact_commit; this bench's own server, so nothing else is counted), Redis commands per event
  (INFO total_commands_processed of the bench's own redis-server; every command is one round
  trip or part of a pipeline), CPU seconds per 1,000 events and peak RSS (VmHWM) of the
  process, and our ratios against both;
* **latency** — one worker, events produced paced at each rate (the highest: 85 % of the
  measured throughput, or --max-rate): p50/p95/p99/max of produce → committed row, from the
  producer's send time to the row's `committed_at` (same clock);
* **scale-out** (`--workers`) — for each worker count over 8 partitions: events/s (workers
  started and settled, then the backlog produced), total CPU seconds per 1,000 events of ALL
  processes (workers, the broker, every PostgreSQL process of the bench's server, its Redis; the
  bench's producer shown apart), and the processing pause when a worker joins and when one is
  killed with -9 (events paced at 300/s throughout: the largest produce → row latency of the
  events sent in the 30 s after the join / the kill, KAFKA_SESSION_TIMEOUT=10).

Uses the broker of .env.local (tools/stack.sh up); starts its own PostgreSQL (with
pg_stat_statements) and Redis, and removes them at the end. Hold the heavy lock:
`flock /tmp/heavy.lock .venv/bin/python bench/e2e.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    ROOT,
    Sent,
    StatsPg,
    bench_env,
    broker_pid,
    committed,
    cpu_seconds,
    events,
    harness,
    history_count,
    machine_busy_seconds,
    new_worker,
    own_servers,
    owned,
    peak_rss_mb,
    percentiles,
    pg_counters,
    produce_events,
    redis_pid,
    wait_stable,
)

PY = sys.executable


def create_topics(env: dict[str, str], partitions: int = 8) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    async def run() -> None:
        admin = AIOKafkaAdminClient(**harness.kafka(env))
        await admin.start()
        try:
            await admin.create_topics([NewTopic(t, partitions, 1) for t in (env["TOPIC_POSTS"], env["TOPIC_REFRESH"])])
        finally:
            await admin.close()

    asyncio.run(run())


def span_rate(url: str) -> tuple[int, float, float]:
    """(rows, seconds from the first to the last committed row, rows/s)."""
    rows, t0, t1 = harness.query(
        url,
        "SELECT count(*), extract(epoch FROM min(committed_at)), "
        "extract(epoch FROM max(committed_at)) FROM post_metrics_history",
    )[0]
    if not rows:
        return 0, 0.0, 0.0
    dt = max(float(t1) - float(t0), 1e-6)
    return int(rows), dt, int(rows) / dt


def redis_stats(r) -> dict[str, int]:
    return {k[len("cmdstat_") :]: int(v["calls"]) for k, v in r.client().info("commandstats").items()}


def measure(
    name: str, url: str, redis_srv, expect: int, start, started, pid_of, stop, timeout: float, round_trips
) -> dict:
    """Start a consumer of the backlog; from the moment it is consuming (`started()` true) until
    every row is in PostgreSQL (or `timeout`): its figures."""
    pg0, r0 = pg_counters(url), redis_stats(redis_srv)
    start()
    harness.wait_for(started, 300, f"{name} to consume", interval=0.1)
    cpu0 = cpu_seconds(pid_of())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and history_count(url) < expect:
        time.sleep(0.25)
    cpu1, peak = cpu_seconds(pid_of()), peak_rss_mb(pid_of())
    pg1, r1 = pg_counters(url), redis_stats(redis_srv)
    stop()
    rows, seconds, rate = span_rate(url)
    nan = float("nan")
    calls = {k: v - r0.get(k, 0) for k, v in r1.items() if v - r0.get(k, 0) > 0}
    calls["info"] = calls.get("info", 0) - 1
    return {
        "name": name,
        "rows": rows,
        "expected": expect,
        "seconds": seconds,
        "rate": rate,
        "statements_per_row": (pg1["calls"] - pg0["calls"]) / rows if rows else nan,
        "xacts_per_row": (pg1["xact"] - pg0["xact"]) / rows if rows else nan,
        "redis_commands_per_event": sum(calls.values()) / rows if rows else nan,
        "redis_round_trips_per_event": round_trips(calls) / rows if rows else nan,
        "redis_calls": calls,
        "cpu_s_per_1000": 1000 * (cpu1 - cpu0) / rows if rows else nan,
        "peak_rss_mb": peak,
    }


def run_throughput(
    stack, pg: StatsPg, redis_srv, workdir: Path, posts: int, refreshes: int, baseline_timeout: float
) -> list[dict]:
    evs = events(posts, refreshes, prefix="e")
    uid = harness.unique("")
    base = bench_env(stack, uid, "", redis_srv.url)  # one message per post: the seed's wire format
    batched = bench_env(stack, uid + "b", "", redis_srv.url)  # our ingest's: one per partition batch
    for env_, is_batched in ((base, False), (batched, True)):
        create_topics(env_)
        t0 = time.monotonic()
        asyncio.run(produce_events(env_, evs, batched=is_batched))
        print(
            f"  backlog: {len(evs)} events ({posts} new posts + {posts * refreshes} refreshes, 8 partitions) "
            f"{'in partition batches' if is_batched else 'one message per post'}, produced in "
            f"{time.monotonic() - t0:.1f} s before each consumer starts",
            flush=True,
        )
    results = [run_ours("ours (1 worker)", batched, pg, redis_srv, workdir, uid, len(evs))]
    results.append(run_ours("ours, one message per post", base, pg, redis_srv, workdir, uid + "s", len(evs)))
    results += run_baselines(base, pg, redis_srv, workdir, uid, len(evs), baseline_timeout)
    return results


def run_ours(name: str, base: dict, pg: StatsPg, redis_srv, workdir: Path, uid: str, expect: int) -> dict:
    """One worker of ours, its own app id (consumer group) and database, on the backlog's topics."""
    url = pg.database(f"e2e_ours_{uid}")
    env = {**base, "DATABASE_URL": url, "APP_ID": f"bench-ours-{uid}"}
    w = new_worker(env, workdir, f"ours-{uid}")

    def consuming() -> bool:
        assert w.alive(), f"the worker exited:\n{w.tail()}"
        try:
            return w.metric("redditstream_events_total") > 0
        except OSError:
            return False

    def ours_trips(calls: dict[str, int]) -> int:
        # HSET / EXPIREAT run inside the mirror's EVALSHA: one round trip per script call
        return sum(v for k, v in calls.items() if k not in ("hset", "expireat", "hdel", "del"))

    return measure(
        name,
        url,
        redis_srv,
        expect,
        lambda: w.start(wait_ready=False),
        consuming,
        lambda: w.proc.pid,
        w.kill,
        600,
        ours_trips,
    )


def run_baselines(
    base: dict, pg: StatsPg, redis_srv, workdir: Path, uid: str, expect: int, baseline_timeout: float
) -> list[dict]:
    """The seed's two designs, on the one-message-per-post topics, each its own group and database."""
    results = []
    for name, prog in (("baseline (a) original", "original.py"), ("baseline (b) optimised", "optimised.py")):
        url = pg.database(f"e2e_{prog[:4]}_{uid}")
        holder: dict = {}
        log_path = workdir / f"{prog}-{uid}.log"

        def start(prog=prog, url=url, log_path=log_path, holder=holder) -> None:
            with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
                holder["p"] = subprocess.Popen(
                    [
                        PY,
                        str(ROOT / "bench/baselines" / prog),
                        "--bootstrap",
                        harness.bootstrap(base),
                        "--topics",
                        f"{base['TOPIC_POSTS']},{base['TOPIC_REFRESH']}",
                        "--group",
                        f"{prog}-{uid}",
                        "--database",
                        url,
                        "--redis",
                        redis_srv.url.rsplit("/", 1)[0] + "/1",
                        "--expect",
                        str(expect),
                        "--max-seconds",
                        str(baseline_timeout),
                        "--linger",
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=ROOT,
                    # the run's Kafka security (--kafka-env) for bench/baselines/connection.py
                    env={**os.environ, **{k: v for k, v in base.items() if k.startswith("KAFKA_")}},
                )

        def stop(holder=holder) -> None:
            p = holder["p"]
            if p.poll() is None:
                p.kill()
            p.wait(10)

        def trips(calls: dict[str, int]) -> int:
            # (a): HGETALL, then HSET + EXPIRE in one pipeline: the EXPIRE rides the HSET's round trip
            return sum(v for k, v in calls.items() if k != "expire")

        results.append(
            measure(
                name,
                url,
                redis_srv,
                expect,
                start,
                lambda log_path=log_path: b'"ready"' in log_path.read_bytes(),
                lambda holder=holder: holder["p"].pid,
                stop,
                baseline_timeout + 30,
                trips,
            )
        )
    return results


def paced_latency(stack, pg: StatsPg, redis_srv, workdir: Path, rate: float, seconds: float) -> dict:
    uid = harness.unique("")
    url = pg.database(f"e2e_lat_{uid}")
    env = bench_env(stack, uid, url, redis_srv.url)
    create_topics(env)
    w = new_worker(env, workdir, f"lat-{uid}").start(timeout=180)
    wait_stable([w])
    n = int(rate * seconds)
    evs = events(max(1, n // 5), 4, prefix="l", now=time.time())[:n]
    sent = asyncio.run(produce_events(env, evs, rate=rate, batched=True))  # as our ingest sends them
    harness.wait_for(lambda: history_count(url) >= len(evs), 300, f"all {len(evs)} rows at {rate:.0f}/s")
    flush = float(env.get("SINK_FLUSH_SECONDS", "2.0"))
    peak = peak_rss_mb(w.proc.pid)
    w.kill()
    lat = [c - sent.at[(pid, ms)] for pid, ms, c in committed(url) if (pid, ms) in sent.at]
    p = percentiles(lat, (50, 95, 99, 100))
    return {
        "rate": rate,
        "achieved": len(evs) / sent.seconds,
        "events": len(evs),
        "p50": p[50],
        "p95": p[95],
        "p99": p[99],
        "max": p[100],
        "target": flush + 1.0,
        "peak_rss_mb": peak,
    }


def all_pids(workers, pg: StatsPg, redis_srv) -> dict[str, list[int]]:
    return {
        "workers": [w.proc.pid for w in workers if w.alive()],
        "broker": [p for p in [broker_pid()] if p],
        "postgres": pg.pids(),
        "redis": [p for p in [redis_pid(redis_srv)] if p],
    }


def cpu_of(groups: dict[str, list[int]]) -> dict[str, float]:
    return {k: sum(cpu_seconds(p) for p in v) for k, v in groups.items()}


def scale_out(stack, pg: StatsPg, redis_srv, workdir: Path, n: int, posts: int, refreshes: int) -> dict:
    started: list[harness.Worker] = []
    try:
        return _scale_out(stack, pg, redis_srv, workdir, n, posts, refreshes, started)
    finally:
        for w in started:  # also when a phase fails: no worker outlives the bench
            w.kill()


def _scale_out(stack, pg: StatsPg, redis_srv, workdir: Path, n: int, posts: int, refreshes: int, started: list) -> dict:
    uid = harness.unique("")
    url = pg.database(f"e2e_scale{n}_{uid}")
    env = bench_env(stack, uid, url, redis_srv.url)
    env["KAFKA_SESSION_TIMEOUT"] = "10"
    create_topics(env)
    workers = [new_worker(env, workdir, f"s{n}-{i}-{uid}") for i in range(n)]
    started.extend(workers)
    for w in workers:
        w.start(wait_ready=False)
    for w in workers:
        w.wait_ready(300)
    wait_stable(workers, 300)
    time.sleep(2)
    evs = events(posts, refreshes, prefix="s")
    groups = all_pids(workers, pg, redis_srv)
    c0, busy0, me0 = cpu_of(groups), machine_busy_seconds(), sum(os.times()[:2])
    asyncio.run(produce_events(env, evs))
    harness.wait_for(lambda: history_count(url) >= len(evs), 900, f"all {len(evs)} rows with {n} workers", interval=0.5)
    c1, busy1, me1 = cpu_of(groups), machine_busy_seconds(), sum(os.times()[:2])
    rows, seconds, rate = span_rate(url)
    per_k = {k: 1000 * (c1[k] - c0[k]) / rows for k in c0}
    out = {
        "workers": n,
        "rows": rows,
        "rate": rate,
        "per_worker": rate / n,
        "cpu_per_1000": per_k,
        "cpu_total_per_1000": sum(per_k.values()),
        "producer_per_1000": 1000 * (me1 - me0) / rows,
        "machine_busy_per_1000": 1000 * (busy1 - busy0) / rows,
        "peak_rss_mb": max(peak_rss_mb(w.proc.pid) for w in workers),
    }

    # the pause when a worker joins, and when one dies (kill -9), under a paced load
    pace = 300.0
    paced = events(int(pace * 150) // 5, 4, prefix="q", now=time.time())
    sent = Sent()
    stop = threading.Event()

    def load() -> None:
        async def go() -> None:
            from aiokafka import AIOKafkaProducer

            producer = AIOKafkaProducer(**harness.kafka(env), acks="all", linger_ms=5)
            await producer.start()
            topics = {"new": env["TOPIC_POSTS"], "refresh": env["TOPIC_REFRESH"]}
            t0 = time.monotonic()
            try:
                for i, (kind, snap) in enumerate(paced):
                    if stop.is_set():
                        break
                    wait = t0 + i / pace - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    sent.at[(snap["id"], round(snap["observed_at"] * 1000))] = time.time()
                    await producer.send(topics[kind], json.dumps(snap).encode(), key=snap["id"].encode())
                await producer.flush()
            finally:
                await producer.stop()

        asyncio.run(go())

    th = threading.Thread(target=load, daemon=True)
    th.start()
    time.sleep(15)
    t_join = time.time()
    extra = new_worker(env, workdir, f"s{n}-join-{uid}").start(wait_ready=False)
    workers.append(extra)
    started.append(extra)
    join_problem = ""
    try:
        extra.wait_ready(300)
        wait_stable(workers, 300)
        out["assignment_after_join"] = [owned(w) for w in workers]
    except AssertionError:
        try:
            join_problem = "; ".join(f"{w.name}: {w.get_json('/ready/', timeout=3)}" for w in workers)
        except Exception as exc:  # noqa: BLE001 - diagnostics only
            join_problem = repr(exc)
        print(
            f"  !! {n} worker(s): the joining worker was not ready / the group not settled after 300 s: "
            f"{join_problem[:2000]}",
            flush=True,
        )
    time.sleep(20)
    t_kill = time.time()
    workers[0].kill()
    survivors = workers[1:]
    wait_stable(survivors, 300)
    time.sleep(25)
    stop.set()
    th.join(60)
    expected = len(sent.at)
    harness.wait_for(lambda: history_count(url) >= rows + expected, 300, "every paced row")
    rows_all = committed(url)
    lat = [(sent.at[(p, ms)], c - sent.at[(p, ms)]) for p, ms, c in rows_all if (p, ms) in sent.at]
    steady = percentiles([d for t, d in lat if t < t_join], (50,))[50]
    join_max = max((d for t, d in lat if t_join <= t < t_join + 30), default=float("nan"))
    kill_max = max((d for t, d in lat if t_kill <= t < t_kill + 30), default=float("nan"))
    for w in workers:
        w.kill()
    if join_problem:
        join_max = float("inf")
    out.update(
        {"steady_p50": steady, "join_pause": join_max, "kill_pause": kill_max, "paced_lost": expected - len(lat)}
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=20000)
    ap.add_argument("--refreshes", type=int, default=4)
    ap.add_argument("--baseline-seconds", type=float, default=120, help="longest a baseline may run")
    ap.add_argument("--rates", default="100,1000,max", help="paced rates for the latency runs ('' = none)")
    ap.add_argument("--max-rate", type=float, default=0, help="the highest paced rate (default: 85%% of ours)")
    ap.add_argument("--latency-seconds", type=float, default=30)
    ap.add_argument(
        "--workers", default="", help="scale-out accounting for these worker counts, e.g. 1,2,4,8 (runs only that part)"
    )
    ap.add_argument("--scale-posts", type=int, default=6000)
    ap.add_argument(
        "--json",
        action="store_true",
        help="print, last, one JSON object: events/s and worker CPU µs per event of ours (batched input), "
        "ours on one message per post, (a) and (b)",
    )
    ap.add_argument(
        "--kafka-env",
        default="",
        help="take the KAFKA_* settings from this file instead (e.g. .cache/stack/secure.env of "
        "`tools/stack.sh secure`: every client of the run over SASL_SSL)",
    )
    a = ap.parse_args()
    stack = harness.stack_env()
    if a.kafka_env:
        stack.update({k: v for k, v in harness.read_env_file(Path(a.kafka_env)).items() if k.startswith("KAFKA_")})
        print(f"kafka: {stack['KAFKA_BROKER_URL']} over {stack.get('KAFKA_SECURITY_PROTOCOL', 'PLAINTEXT')}")
    with own_servers() as (workdir, pg, redis_srv):
        print(f"machine: {os.cpu_count()} cores (shared by the workers, Kafka, PostgreSQL and Redis)")
        if a.workers:
            print(f"scale-out over 8 partitions, {a.scale_posts * 5} events each:", flush=True)
            for n in [int(x) for x in a.workers.split(",")]:
                r = scale_out(stack, pg, redis_srv, workdir, n, a.scale_posts, 4)
                c = r["cpu_per_1000"]
                print(
                    f"  {n} worker(s): {r['rate']:6.0f} events/s ({r['per_worker']:5.0f}/worker); CPU s per "
                    f"1,000 events: total {r['cpu_total_per_1000']:.3f} = workers {c['workers']:.3f} + "
                    f"broker {c['broker']:.3f} + postgres {c['postgres']:.3f} + redis {c['redis']:.3f} "
                    f"(producer {r['producer_per_1000']:.3f}; machine busy {r['machine_busy_per_1000']:.3f}); "
                    f"peak RSS {r['peak_rss_mb']:.0f} MB; pause at 300 ev/s: steady p50 "
                    f"{r['steady_p50']:.2f} s, join {r['join_pause']:.1f} s, kill -9 {r['kill_pause']:.1f} s, "
                    f"paced rows missing {r['paced_lost']}; source partitions per worker after the join "
                    f"{r.get('assignment_after_join')}",
                    flush=True,
                )
            return
        print("throughput (the same backlog, each consumer on its own group and database):", flush=True)
        res = run_throughput(stack, pg, redis_srv, workdir, a.posts, a.refreshes, a.baseline_seconds)
        for r in res:
            print(
                f"  {r['name']:24s} {r['rate']:7.0f} events/s into PostgreSQL ({r['rows']}/{r['expected']} "
                f"rows in {r['seconds']:.1f} s)  {r['statements_per_row']:.3f} statements/row, "
                f"{r['xacts_per_row']:.4f} transactions/row, "
                f"{r['redis_round_trips_per_event']:.4f} Redis round trips/event "
                f"({r['redis_commands_per_event']:.3f} commands incl. those inside scripts), "
                f"{r['cpu_s_per_1000']:.3f} CPU s/1,000 events, peak RSS {r['peak_rss_mb']:.0f} MB; "
                f"Redis commands {r['redis_calls']}",
                flush=True,
            )
        ours, single, a_, b_ = res
        print(
            f"  ratios: ours / (a) = {ours['rate'] / a_['rate']:.1f}x (target 6x), "
            f"ours / (b) = {ours['rate'] / b_['rate']:.2f}x (target 2x); CPU per event (a)/ours = "
            f"{a_['cpu_s_per_1000'] / ours['cpu_s_per_1000']:.1f}x, (b)/ours = "
            f"{b_['cpu_s_per_1000'] / ours['cpu_s_per_1000']:.2f}x (target >= 1)",
            flush=True,
        )
        rates = [x for x in a.rates.split(",") if x]
        if rates:
            print("latency, one worker, produce -> committed row (SINK_FLUSH_SECONDS=2.0):", flush=True)
        for x in rates:
            rate = (a.max_rate or round(0.85 * ours["rate"], -1)) if x == "max" else float(x)
            r = paced_latency(stack, pg, redis_srv, workdir, rate, a.latency_seconds)
            print(
                f"  {r['rate']:6.0f} ev/s (achieved {r['achieved']:6.0f}, {r['events']} events): "
                f"p50 {r['p50']:.2f} s  p95 {r['p95']:.2f} s  p99 {r['p99']:.2f} s  max {r['max']:.2f} s  "
                f"(target p99 <= {r['target']:.1f} s at 1,000/s)  peak RSS {r['peak_rss_mb']:.0f} MB",
                flush=True,
            )
        if a.json:

            def brief(r: dict) -> dict:
                return {"events_per_s": round(r["rate"], 1), "cpu_us_per_event": round(r["cpu_s_per_1000"] * 1000, 1)}

            print(
                json.dumps(
                    {"ours": brief(ours), "ours_single": brief(single), "original": brief(a_), "optimised": brief(b_)}
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
