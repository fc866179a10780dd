"""Soak: `make demo`-like load for a while, with a worker restart every N minutes.

    .venv/bin/python bench/soak.py [--minutes 30] [--restart-every 5] [--extra-rate 50] [--sample 30]

Runs what `make demo` runs — the simulator (clock ×10, the default five subreddits), ingest
polling it, one worker — plus, with --extra-rate, a paced generator of PostSnapshot JSON on the
same topics (so that the worker does more than the demo's trickle). Every --sample seconds it
prints the worker's and ingest's RSS and open file descriptors and the group's lag on the two
source topics; every --restart-every minutes the worker is stopped (SIGTERM) and started again
on its data directory, and the bench prints how long until the lag is back to 0. At the end:
the series' first/last/max, and whether every history row matches the topics.

Uses the broker of .env.local and a PostgreSQL and Redis of its own.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_env, harness, new_worker, open_fds, own_servers, rss_mb

from tests.faults.support import Load, compare, events, topic_snapshots
from tests.ingest_support import Proc, Simulator
from tests.kafka_tools import lag


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--restart-every", type=float, default=5)
    ap.add_argument("--extra-rate", type=float, default=50)
    ap.add_argument("--sample", type=float, default=30)
    a = ap.parse_args()
    stack = harness.stack_env()
    with own_servers() as (workdir, pg, redis_srv):
        procs: list = []
        worker = None
        try:
            uid = harness.unique("")
            url = pg.database(f"soak_{uid}")
            env = bench_env(stack, uid, url, redis_srv.url)
            port = harness.free_port()
            env.update(
                {
                    "SIMULATOR_PORT": str(port),
                    "REDDIT_API_URL": f"http://127.0.0.1:{port}",
                    "REDDIT_CLIENT_ID": "demo",
                    "REDDIT_CLIENT_SECRET": "demo",
                    "SIMULATOR_SPEED": "10",
                    "MAINTENANCE_INTERVAL_SECONDS": "30",
                    "LOG_LEVEL": "info",
                }
            )
            sim = Simulator("simulate", env, workdir, "simulator").start()
            procs.append(sim)
            ingest = Proc("ingest", env, workdir, "ingest").start()
            procs.append(ingest)
            data = str(workdir / "data-soak")
            worker = new_worker(env, workdir, "soak-0", DATA_DIR=data).start(timeout=180)
            load = None
            if a.extra_rate:
                load = Load(env, events(int(a.extra_rate * a.minutes * 60 * 1.2), prefix="k"), a.extra_rate).start()
            topics = [env["TOPIC_POSTS"], env["TOPIC_REFRESH"]]
            t0 = time.monotonic()
            end = t0 + a.minutes * 60
            next_restart = t0 + a.restart_every * 60
            next_sample = t0
            restarts = 0
            series: list[tuple[float, float, int, float, int, int]] = []
            print(
                f"soak: {a.minutes:g} min, worker restart every {a.restart_every:g} min, simulator x10 + "
                f"{a.extra_rate:g} ev/s generated; sample every {a.sample:g} s",
                flush=True,
            )
            print("  t_min  worker_rss_MB  worker_fds  ingest_rss_MB  ingest_fds  lag", flush=True)
            while time.monotonic() < end:
                now = time.monotonic()
                if now >= next_sample:
                    total_lag = sum(lag(env, env["APP_ID"], topics).values())
                    row = (
                        (now - t0) / 60,
                        rss_mb(worker.proc.pid),
                        open_fds(worker.proc.pid),
                        rss_mb(ingest.proc.pid),
                        open_fds(ingest.proc.pid),
                        total_lag,
                    )
                    series.append(row)
                    print(
                        f"  {row[0]:5.1f}  {row[1]:13.0f}  {row[2]:10d}  {row[3]:13.0f}  {row[4]:10d}  {row[5]}",
                        flush=True,
                    )
                    next_sample += a.sample
                if now >= next_restart and now + 60 < end:
                    restarts += 1
                    t_stop = time.monotonic()
                    clean = worker.stop(90)
                    worker = new_worker(env, workdir, f"soak-{restarts}", DATA_DIR=data)
                    worker.start(timeout=300)
                    ready = time.monotonic() - t_stop
                    harness.wait_for(
                        lambda: sum(lag(env, env["APP_ID"], topics).values()) == 0,
                        300,
                        "the lag back to 0 after the restart",
                        interval=1,
                    )
                    print(
                        f"  -- restart {restarts}: {'clean stop' if clean else 'SIGKILL after 90 s'}, ready "
                        f"{ready:.1f} s after the stop, lag 0 after {time.monotonic() - t_stop:.1f} s",
                        flush=True,
                    )
                    next_restart += a.restart_every * 60
                time.sleep(1)
            if load:
                load.stop()
                load.join(120)
            assert ingest.stop() == 0, ingest.tail()
            harness.wait_for(lambda: sum(lag(env, env["APP_ID"], topics).values()) == 0, 300, "final lag 0")
            snaps = topic_snapshots(env, topics)
            harness.wait_for(lambda: not compare(url, snaps), 120, "the database to match the topics", interval=2)
            problems = compare(url, snaps)
            w = [r[1] for r in series]
            f = [r[2] for r in series]
            print(
                f"  worker RSS MB first {w[0]:.0f} last {w[-1]:.0f} max {max(w):.0f}; worker fds first {f[0]} "
                f"last {f[-1]} max {max(f)}; ingest RSS MB first {series[0][3]:.0f} last {series[-1][3]:.0f}; "
                f"{restarts} restarts; {len(snaps)} events; database vs topics: "
                f"{problems or 'exact'}",
                flush=True,
            )
        finally:
            if worker:
                worker.kill()
            for p in procs:
                p.kill()


if __name__ == "__main__":
    main()
