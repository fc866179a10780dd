"""Where one worker's CPU goes while it consumes a backlog: py-spy samples of the worker, by part.

    flock /tmp/heavy.lock .venv/bin/python bench/profile.py [--batched] [--tree DIR] [--seconds 12]

A backlog like bench/e2e.py's (`--posts` new posts with 4 refreshes each, 8 partitions) is
produced — one message per post, or with `--batched` in our ingest's batches — then one worker
(its code from `--tree`, default this checkout: compare two trees in one session) consumes it
while `py-spy record` samples it (`--seconds`, 250 Hz, idle frames left out). Each sample is
counted once, under the first of these parts found in its stack, from the leaf up:
- *enrichment*: streams/processing, streams/analytics, vaderSentiment, the decode (streams/records);
- *state*: the RocksDB reads and writes (tables/direct, rocksdict) and the Redis mirror;
- *sink*: the sink's rows and PostgreSQL (streams/db, psycopg);
- *commit protocol*: the outbox, the changelog and observation sends (streams/checkpoint, and
  before issue #23 streams/outbox, streams/delivery, tables/changelog);
- *faust per-message*: faust's consumer, stream, events and acks (faust/, mode/);
- *kafka client*: aiokafka (fetching, producing, the protocol);
(py-spy names a frame `function (package/module.py:line)`.)
- *other*: the event loop itself, logging, metrics, the rest.
Prints the share of each part, and the worker's CPU µs per event over the sampled window.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    bench_env,
    cpu_seconds,
    events,
    history_count,
    new_worker,
    own_servers,
    produce_events,
)
from bench.e2e import create_topics  # noqa: E402
from tests import harness  # noqa: E402

PARTS = [
    ("enrichment", ("streams/processing/", "streams/analytics/", "vaderSentiment", "streams/records.py", "orjson")),
    ("state", ("tables/direct.py", "rocksdict", "tables/mirror", "redis/")),
    ("sink", ("streams/db/", "psycopg", "agents/sink.py", "agents/dlq.py")),
    (
        "commit protocol",
        ("streams/checkpoint/", "streams/outbox.py", "streams/delivery.py", "tables/changelog.py", "deadletter.py"),
    ),
    ("faust per-message", ("(faust/", "(mode/")),
    ("kafka client", ("(aiokafka/",)),
]


def classify(stack: str) -> str:
    frames = stack.split(";")
    for frame in reversed(frames):  # from the leaf up
        for name, needles in PARTS:
            if any(n in frame for n in needles):
                return name
    return "other"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=20000)
    ap.add_argument("--batched", action="store_true")
    ap.add_argument("--tree", default=str(ROOT), help="the checkout whose worker is profiled")
    ap.add_argument("--seconds", type=float, default=12)
    a = ap.parse_args()
    stack = harness.stack_env()
    with own_servers() as (workdir, pg, redis_srv):
        uid = harness.unique("")
        env = bench_env(stack, uid, pg.database(f"prof_{uid}"), redis_srv.url)
        env["PYTHONPATH"] = a.tree
        create_topics(env)
        evs = events(a.posts, 4, prefix="f")
        asyncio.run(produce_events(env, evs, batched=a.batched))
        w = new_worker(env, workdir, f"prof-{uid}")
        w.start(wait_ready=False)
        harness.wait_for(lambda: history_count(env["DATABASE_URL"]) > 2000, 300, "the worker to consume")
        rows0, cpu0 = history_count(env["DATABASE_URL"]), cpu_seconds(w.proc.pid)
        out = workdir / "profile.txt"
        subprocess.run(
            [
                str(ROOT / ".venv/bin/py-spy"),
                "record",
                "--pid",
                str(w.proc.pid),
                "--duration",
                str(int(a.seconds)),
                "--rate",
                "250",
                "--format",
                "raw",
                "--output",
                str(out),
                "--nonblocking",
            ],
            check=True,
            capture_output=True,
        )
        rows1, cpu1 = history_count(env["DATABASE_URL"]), cpu_seconds(w.proc.pid)
        w.kill()
        counts: collections.Counter[str] = collections.Counter()
        for line in out.read_text().splitlines():
            stack_, _, n = line.rpartition(" ")
            counts[classify(stack_)] += int(n)
        total = sum(counts.values())
        fmt = "batched (our ingest's format)" if a.batched else "one message per post"
        print(
            f"tree {a.tree}, input {fmt}: {rows1 - rows0} rows in the window, "
            f"{1e6 * (cpu1 - cpu0) / max(rows1 - rows0, 1):.1f} µs worker CPU per event; {total} samples:"
        )
        for name, _ in [*PARTS, ("other", ())]:
            print(f"  {name:18s} {100 * counts[name] / total:5.1f} %")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
