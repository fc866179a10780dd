"""What bench/e2e.py, bench/recovery.py and bench/soak.py share: a PostgreSQL and a Redis of the
bench's own (so their statistics count only the bench, and the shared stack is never touched),
generated PostSnapshot data, a paced producer that records when each event was sent, and /proc
readers (CPU seconds, RSS, open fds).

Only public surfaces of the project are used: the `faust -A streams …` commands (through
tests/harness.py), the environment settings, the topics and the database tables.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import harness  # noqa: E402
from tests.integration.pgserver import PgServer  # noqa: E402
from tests.integration.test_redis_outage import OwnRedis  # noqa: E402
from tests.scenario import interleaved  # noqa: E402

CLK = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------ own servers


class StatsPg(PgServer):
    """A throwaway PostgreSQL with pg_stat_statements preloaded (the shared one has it off)."""

    options = (
        "-c max_connections=200 -c shared_preload_libraries=pg_stat_statements "
        "-c pg_stat_statements.track=all -c shared_buffers=256MB"
    )

    def database(self, name: str) -> str:
        """A fresh migrated database on this server, with a `committed_at` column on the history
        (DEFAULT clock_timestamp(): when the row was written, inside its flush's transaction)."""
        url = harness.create_database(self.url, name)
        harness.query(
            url, "ALTER TABLE post_metrics_history ADD COLUMN committed_at timestamptz DEFAULT clock_timestamp()"
        )
        harness.query(url, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        return url

    def pids(self) -> list[int]:
        """The postmaster and every process it forked (backends, checkpointer, …)."""
        try:
            master = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return []
        return [master] + children(master)


def children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(d.name))
            except (OSError, ValueError, IndexError):
                pass
    return out


def own_redis(workdir: Path) -> OwnRedis:
    r = OwnRedis(workdir)
    r.start()
    return r


def redis_pid(r: OwnRedis) -> int | None:
    try:
        return int((r.dir / "redis.pid").read_text().strip())
    except (OSError, ValueError):
        return None


def redis_calls(r: OwnRedis) -> int:
    """Commands the Redis server has processed so far (INFO stats; the INFO call itself counts 1)."""
    return int(r.client().info("stats")["total_commands_processed"])


def broker_pid() -> int | None:
    try:
        return int((ROOT / ".cache/kafka/run/single/pid").read_text().strip())
    except (OSError, ValueError):
        return None


def pg_counters(url: str) -> dict[str, float]:
    """xact_commit of the database and the calls of every statement pg_stat_statements saw in it."""
    rows = harness.query(url, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
    calls = harness.query(
        url,
        "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d "
        "ON d.oid = s.dbid WHERE d.datname = current_database()",
    )
    return {"xact": float(rows[0][0]), "calls": float(calls[0][0])}


# ------------------------------------------------------------------ /proc


def cpu_seconds(pid: int) -> float:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / CLK
    except (OSError, IndexError):
        return 0.0


def status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_mb(pid: int) -> float:
    return status_kb(pid, "VmRSS") / 1024


def peak_rss_mb(pid: int) -> float:
    return status_kb(pid, "VmHWM") / 1024


def open_fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def machine_busy_seconds() -> float:
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / CLK


# ------------------------------------------------------------------ data


TITLES = [
    "I love this amazing new Python release, great work!",
    "This is the worst bug I have ever seen",
    "Ask: how do you structure a streaming pipeline?",
    "Terrible news about the outage, very sad",
    "Wonderful tutorial on Kafka consumer groups",
    "Meh. Another framework nobody needs",
    "Show: a tiny, fast, happy little parser",
    "Why is my query so slow? Help appreciated",
]
SUBS = ["python", "datascience", "machinelearning", "programming", "technology"]


def events(
    n_posts: int, refreshes: int, prefix: str, seed: int = 1, now: float | None = None, chunk: int = 50
) -> list[tuple[str, dict]]:
    """(kind, snapshot) in emission order (tests.scenario.interleaved): posts created about an hour
    ago, refreshed every 20–300 s."""
    return interleaved(
        n_posts,
        refreshes,
        prefix,
        subs=SUBS,
        seed=seed,
        now=now or time.time(),
        chunk=chunk,
        created_ago=(3600, 600),
        refresh_gap=(20, 300),
        titles=TITLES,
    )


@dataclass
class Sent:
    """What the producer sent: per (post id, observed_at in ms), the wall time it was handed over."""

    at: dict[tuple[str, int], float] = field(default_factory=dict)
    seconds: float = 0.0


async def produce_events(
    env: dict[str, str],
    evs: list[tuple[str, dict]],
    rate: float | None = None,
    sent: Sent | None = None,
    stop: asyncio.Event | None = None,
    batched: bool = False,
) -> Sent:
    """Produce to TOPIC_POSTS / TOPIC_REFRESH (acks=all), as fast as possible or paced at `rate`/s.

    `batched`: in the wire format of our ingest (streams.ingest.producer): one message per
    partition batch, a JSON array of the snapshots hashing to that partition, as ingest's sender
    forms them from what its buffer holds — here windows of 4,000 events for a backlog (its
    buffer full), or of 50 ms of events when paced (its linger). Else one message per post, as
    the seed's ingest produced them."""
    from aiokafka import AIOKafkaProducer

    if batched:
        return await _produce_batched(env, evs, rate, sent)

    sent = sent or Sent()
    producer = AIOKafkaProducer(**harness.kafka(env), acks="all", linger_ms=5, max_batch_size=256 * 1024)
    await producer.start()
    topics = {"new": env["TOPIC_POSTS"], "refresh": env["TOPIC_REFRESH"]}
    try:
        pending = []
        t0 = time.monotonic()
        for i, (kind, snap) in enumerate(evs):
            if rate:
                wait = t0 + i / rate - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            sent.at[(snap["id"], round(snap["observed_at"] * 1000))] = time.time()
            pending.append(await producer.send(topics[kind], json.dumps(snap).encode(), key=snap["id"].encode()))
            if len(pending) >= 2000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        sent.seconds = time.monotonic() - t0
    finally:
        await producer.stop()
    return sent


async def _produce_batched(
    env: dict[str, str], evs: list[tuple[str, dict]], rate: float | None, sent: Sent | None
) -> Sent:
    from aiokafka import AIOKafkaProducer

    from streams.ingest.producer import Record, batches_of, message_value

    sent = sent or Sent()
    producer = AIOKafkaProducer(**harness.kafka(env), acks="all", enable_idempotence=True)
    await producer.start()
    topics = {"new": env["TOPIC_POSTS"], "refresh": env["TOPIC_REFRESH"]}
    parts = {t: sorted(await producer.partitions_for(t)) for t in topics.values()}
    window = max(1, int(rate * 0.05)) if rate else 4000
    try:
        pending = []
        t0 = time.monotonic()
        for w in range(0, len(evs), window):
            if rate:
                wait = t0 + (w + window) / rate - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
            records = []
            for kind, snap in evs[w : w + window]:
                sent.at[(snap["id"], round(snap["observed_at"] * 1000))] = time.time()
                records.append(Record(topics[kind], snap["id"], json.dumps(snap).encode()))
            for topic, partition, batch in batches_of(records, parts, 500, 64 * 1024 - 128):
                value = message_value(batch)
                pending.append(await producer.send(topic, value, key=batch[0].key.encode(), partition=partition))
            if len(pending) >= 200:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        sent.seconds = time.monotonic() - t0
    finally:
        await producer.stop()
    return sent


def committed(url: str) -> list[tuple[str, int, float]]:
    """(post id, observed_at ms, committed_at epoch s) of every history row."""
    return [
        (r[0], int(r[1]), float(r[2]))
        for r in harness.query(
            url,
            "SELECT post_id, round(extract(epoch FROM observed_at) * 1000)::int8, "
            "extract(epoch FROM committed_at) FROM post_metrics_history",
        )
    ]


def history_count(url: str) -> int:
    return int(harness.query(url, "SELECT count(*) FROM post_metrics_history")[0][0])


def percentiles(values: list[float], ps=(50, 95, 99)) -> dict[int, float]:
    if not values:
        return {p: float("nan") for p in ps}
    s = sorted(values)
    return {p: s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] for p in ps}


def bench_env(stack: dict[str, str], uid: str, db: str, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOPIC_", "APP_ID", "WEB_"))}
    env.update(stack)
    env.update(
        {
            "APP_ID": f"bench-{uid}",
            "TOPIC_POSTS": f"bench.{uid}.posts",
            "TOPIC_REFRESH": f"bench.{uid}.refresh",
            "TOPIC_DLQ": f"bench.{uid}.dlq",
            "TOPIC_OBSERVATIONS": f"bench.{uid}.observations",
            "TOPIC_BACKFILL": f"bench.{uid}.backfill",
            "TOPIC_COMMENTS": f"bench.{uid}.comments",
            "TOPIC_PARTITIONS": "8",
            "DATABASE_URL": db,
            "REDIS_URL": redis_url,
            "LOG_LEVEL": "warning",
            "PYTHONUNBUFFERED": "1",
            "ADMIN_TOKEN": harness.ADMIN_TOKEN,
        }
    )
    return env


CREATED: list[harness.Worker] = []  # every worker a bench made: kill_all() at its end, whatever happened


def kill_all() -> None:
    for w in CREATED:
        w.kill()


@contextmanager
def own_servers() -> Iterator[tuple[Path, StatsPg, OwnRedis]]:
    """A work directory (BENCH_WORKDIR if set, kept; else a temporary one), and the bench's own
    PostgreSQL and Redis; on exit every worker of `new_worker` is killed and both servers stop."""
    keep = os.environ.get("BENCH_WORKDIR")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(keep) if keep else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        pg = StatsPg.create()
        try:
            redis_srv = own_redis(workdir)
            try:
                yield workdir, pg, redis_srv
            finally:
                kill_all()
                redis_srv.stop()
        finally:
            pg.destroy()


def new_worker(env: dict[str, str], workdir: Path, name: str, **overrides: str) -> harness.Worker:
    e = {**env, "WEB_PORT": str(harness.free_port()), "DATA_DIR": str(workdir / f"data-{name}"), **overrides}
    Path(e["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    w = harness.Worker(env=e, name=name, workdir=workdir)
    CREATED.append(w)
    return w


def owned(w: harness.Worker) -> int:
    try:
        return int(w.get_json("/ready/", timeout=3)["kafka"]["assigned_partitions"])
    except Exception:  # noqa: BLE001 - a worker rebalancing may not answer
        return -1


def ready(w: harness.Worker) -> bool:
    try:
        return bool(w.get_json("/ready/", timeout=3)["ready"])
    except Exception:  # noqa: BLE001 - a worker rebalancing may not answer
        return False


def wait_stable(workers: list[harness.Worker], timeout: float = 180) -> None:
    """Every worker is ready and together they own all 16 source partitions (a worker may own
    none: faust's assignor leaves a 5th worker over 8 partitions only standbys)."""
    harness.wait_for(
        lambda: all(ready(w) for w in workers) and sum(owned(w) for w in workers) == 16,
        timeout,
        f"a stable assignment over {len(workers)} worker(s)",
        interval=0.5,
    )
