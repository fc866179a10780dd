"""What the fault scenarios share: a paced background load of PostSnapshot JSON on the source
topics, and the one check every scenario ends with — from the topics and the database:

* every valid event on the source topics is exactly one row of `post_metrics_history` (none
  lost, none duplicated: the rows are compared one by one with the records on the topics);
* `posts` holds each post's latest observation (its `last_observed_at` and `score` are those of
  the post's newest record on the topics);
* nothing was dead-lettered (the load is all valid).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer

from tests import harness
from tests.kafka_tools import read_all
from tests.scenario import interleaved

SUBS = ["python", "rust", "golang", "datascience"]


def events(n: int, prefix: str, refreshes: int = 4, seed: int = 5, chunk: int = 20) -> list[tuple[str, dict]]:
    """n (kind, snapshot) in emission order (tests.scenario.interleaved; kind "new" → posts topic,
    "refresh" → refresh topic): posts created about 50 minutes ago, refreshed every 5–60 s."""
    n_posts = max(1, n // (refreshes + 1))
    evs = interleaved(
        n_posts,
        refreshes,
        prefix,
        subs=SUBS,
        seed=seed,
        now=time.time(),
        chunk=chunk,
        created_ago=(3000, 60),
        refresh_gap=(5, 60),
    )
    return evs[:n]


@dataclass
class Load:
    """Produces `evs` paced at `rate`/s from a thread (acks=all, idempotent), until done or stopped."""

    env: Mapping[str, str]
    evs: list[tuple[str, dict]]
    rate: float
    sent: int = 0
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Load:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._thread.start()
        return self

    async def _run(self) -> None:
        producer = AIOKafkaProducer(
            **harness.kafka(self.env),
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            request_timeout_ms=60000,
        )
        await producer.start()
        topics = {"new": self.env["TOPIC_POSTS"], "refresh": self.env["TOPIC_REFRESH"]}
        pending = []
        try:
            t0 = time.monotonic()
            for i, (kind, snap) in enumerate(self.evs):
                if self._stop.is_set():
                    break
                wait = t0 + i / self.rate - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                pending.append(await producer.send(topics[kind], json.dumps(snap).encode(), key=snap["id"].encode()))
                self.sent = i + 1
                if len(pending) >= 500:
                    await asyncio.gather(*pending)
                    pending.clear()
            await asyncio.gather(*pending)
        except Exception as exc:  # noqa: BLE001 - reported by join()
            self.errors.append(repr(exc))
        finally:
            await producer.stop()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float = 300) -> None:
        assert self._thread is not None
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the load did not finish"
        assert not self.errors, f"the load's producer failed: {self.errors}"

    @property
    def done(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()


def topic_snapshots(env: Mapping[str, str], topics: Iterable[str], timeout: float = 60) -> list[dict]:
    """Every snapshot on the topics (what the pipeline must have stored): a batch message (a JSON
    array, as ingest sends them) gives each of its elements."""
    out = []
    for t in topics:
        for rec in read_all(env, t, timeout=timeout):
            value = json.loads(rec.value)
            out.extend(value if isinstance(value, list) else [value])
    return out


def history_rows(db: str) -> list[tuple[str, float]]:
    return [
        (r[0], float(r[1]))
        for r in harness.query(db, "SELECT post_id, extract(epoch FROM observed_at)::float8 FROM post_metrics_history")
    ]


def compare(db: str, snaps: list[dict]) -> list[str]:
    """What differs between the database and the records on the topics ([] = exact)."""
    problems: list[str] = []
    want: dict[str, list[float]] = defaultdict(list)
    latest: dict[str, dict] = {}
    for s in snaps:
        want[s["id"]].append(float(s["observed_at"]))
        if s["id"] not in latest or s["observed_at"] > latest[s["id"]]["observed_at"]:
            latest[s["id"]] = s
    got: dict[str, list[float]] = defaultdict(list)
    rows = history_rows(db)
    for pid, t in rows:
        got[pid].append(t)
    distinct_want = sum(len(set(v)) for v in want.values())
    if len(rows) != distinct_want:
        problems.append(f"{len(rows)} history rows for {distinct_want} distinct events on the topics")
    lost = dup = 0
    for pid in set(want) | set(got):
        w, g = sorted(set(want.get(pid, []))), sorted(got.get(pid, []))
        if len(g) != len(set(round(x, 5) for x in g)):
            dup += len(g) - len(set(round(x, 5) for x in g))
        if len(w) != len(g) or any(abs(a - b) > 1e-5 for a, b in zip(w, g, strict=True)):
            lost += max(0, len(w) - len(g))
            if len(problems) < 10:
                problems.append(f"{pid}: history {g[:6]} != topics {w[:6]}")
    if lost or dup:
        problems.append(f"lost {lost}, duplicated {dup}")
    posts = {
        r[0]: (float(r[1]), int(r[2]))
        for r in harness.query(db, "SELECT post_id, extract(epoch FROM last_observed_at)::float8, score FROM posts")
    }
    wrong = [
        pid
        for pid, s in latest.items()
        if pid not in posts or abs(posts[pid][0] - s["observed_at"]) > 1e-5 or posts[pid][1] != s["score"]
    ]
    if len(posts) != len(latest):
        problems.append(f"{len(posts)} rows in posts for {len(latest)} posts on the topics")
    if wrong:
        problems.append(
            f"{len(wrong)} posts do not hold their latest observation, e.g. "
            f"{[(p, posts.get(p), latest[p]['observed_at'], latest[p]['score']) for p in wrong[:3]]}"
        )
    dead = harness.query(db, "SELECT count(*) FROM dlq_events")[0][0]
    if dead:
        problems.append(f"{dead} dead letters (the load is all valid)")
    return problems


def wait_exact(
    env: Mapping[str, str], db: str, expected_events: int, timeout: float = 240, workers: Iterable[harness.Worker] = ()
) -> list[dict]:
    """Wait until the database matches the source topics exactly; fail with the differences."""
    topics = [env["TOPIC_POSTS"], env["TOPIC_REFRESH"]]
    snaps = topic_snapshots(env, topics)
    assert len(snaps) >= expected_events, f"only {len(snaps)} of {expected_events} events on the topics"
    last: list[str] = []

    def exact() -> bool:
        nonlocal last
        n = harness.query(db, "SELECT count(*) FROM post_metrics_history")[0][0]
        if n < len(snaps):
            last = [f"{n} of {len(snaps)} rows so far"]
            return False
        last = compare(db, snaps)
        return not last

    try:
        harness.wait_for(exact, timeout, "the database to match the topics exactly", interval=1.0)
    except AssertionError as exc:
        tails = "\n".join(f"--- {w.name}\n{w.tail(20)}" for w in workers)
        raise AssertionError(f"{exc}: {last}\n{tails}") from None
    return snaps


def fault_env(worker_env: Mapping[str, str], **extra: str) -> dict[str, str]:
    """The fixture's worker environment with the settings the scenarios use."""
    return {"KAFKA_SESSION_TIMEOUT": "6", "SINK_FLUSH_SECONDS": "0.5", **extra}
