"""Helpers of the ingest integration tests: the simulator and ingest as real processes
(`faust -A streams simulate`, `faust -A streams ingest`), and reading a topic back."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.request import Request, urlopen

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

from streams.processing.messages import split_array
from tests import harness


class Proc(harness.Process):
    """A `faust -A streams <command>` process (ingest, simulate) with its own log file: the
    tests' one process wrapper (tests/harness.py `Process`), built from a command name."""

    def __init__(self, command: str, env: dict[str, str], workdir: Path, name: str) -> None:
        super().__init__(env=env, name=name, workdir=workdir, args=(command,))

    def start(self) -> Proc:
        super().start()
        return self


class Simulator(Proc):
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['SIMULATOR_PORT']}"

    def start(self) -> Simulator:
        super().start()
        harness.wait_for(
            lambda: harness.port_open("127.0.0.1", int(self.env["SIMULATOR_PORT"])),
            60,
            f"the simulator to listen\n{self.tail()}",
        )
        return self

    def call(self, path: str, body: dict | None = None, method: str | None = None):
        data = json.dumps(body).encode() if body is not None else None
        req = Request(
            self.url + path,
            data=data,
            method=method or ("POST" if data else "GET"),
            headers={"Content-Type": "application/json"},
        )
        with urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def requests(self, since: int = 0) -> list[dict]:
        return self.call(f"/_sim/requests?since={since}")["requests"]

    def post_ids(self, subreddit: str) -> list[str]:
        return self.call(f"/_sim/posts?subreddit={subreddit}")["ids"]

    def comments(self, subreddit: str) -> dict[str, str]:
        """Every comment that exists now: comment id → its post id."""
        return self.call(f"/_sim/comments?subreddit={subreddit}")


def unbatch(
    key: bytes | None, value: bytes, partition: int, partitions: int, key_field: str = "id"
) -> list[tuple[str, bytes]]:
    """The (post id, snapshot JSON) records of one message: ingest's batch messages (a JSON array)
    one per element, each checked to hash to the message's partition by its own key (the field
    `key_field`: a comment's is its `post_id`), as a single-record message would; a single record
    as it is."""
    if not value.startswith(b"["):
        return [(key.decode() if key is not None else "", value)]
    out = []
    for raw in split_array(value):
        pid = json.loads(raw)[key_field]
        everyone = list(range(partitions))
        assert DefaultPartitioner()(pid.encode(), everyone, everyone) == partition, f"{pid} in partition {partition}"
        out.append((pid, raw))
    return out


def read_topic(env: dict[str, str], topic: str, key_field: str = "id") -> list[tuple[str, bytes]]:
    """Every (post id, snapshot) on the topic, from the beginning to the current end: batch
    messages unpacked (`unbatch`)."""

    async def run() -> list[tuple[str, bytes]]:
        consumer = AIOKafkaConsumer(**harness.kafka(env), enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        try:
            parts = consumer.partitions_for_topic(topic)
            if not parts:
                await consumer._client.force_metadata_update()
                parts = consumer.partitions_for_topic(topic) or set()
            tps = [TopicPartition(topic, p) for p in parts]
            if not tps:
                return []
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            end = await consumer.end_offsets(tps)
            out: list[tuple[str, bytes]] = []
            remaining = {tp for tp in tps if end[tp] > 0}
            while remaining:
                batch = await consumer.getmany(*remaining, timeout_ms=1000)
                for tp, msgs in batch.items():
                    for m in msgs:
                        out.extend(unbatch(m.key, m.value, m.partition, len(parts), key_field))
                    if msgs and msgs[-1].offset + 1 >= end[tp]:
                        remaining.discard(tp)
            return out
        finally:
            await consumer.stop()

    return asyncio.run(run())


@pytest.fixture
def ingest_env(worker_env, redis_url) -> dict[str, str]:
    port = harness.free_port()
    env = dict(worker_env)
    env.update(
        {
            "REDIS_URL": redis_url,
            "SIMULATOR_PORT": str(port),
            "REDDIT_API_URL": f"http://127.0.0.1:{port}",
            "REDDIT_CLIENT_ID": "test",
            "REDDIT_CLIENT_SECRET": "test",
            "LOG_FORMAT": "json",
            "SIMULATOR_SPEED": "0",
            "INGEST_RETRY_BASE_SECONDS": "0.2",
            "INGEST_RETRY_MAX_SECONDS": "2",
            "INGEST_COMMENTS_SECONDS": "0",  # the posts' tests; tests/integration/test_ingest_comments.py polls them
        }
    )
    return env


@pytest.fixture
def procs(tmp_path) -> Iterator[callable]:
    """Start simulator / ingest processes; every one is killed at the end of the test."""
    started: list[Proc] = []

    def start(kind: str, env: dict[str, str], name: str | None = None) -> Proc:
        cls = Simulator if kind == "simulate" else Proc
        p = cls(kind, env, tmp_path, name or f"{kind}{len(started)}")
        started.append(p)
        return p.start()

    yield start
    for p in started:
        p.kill()
