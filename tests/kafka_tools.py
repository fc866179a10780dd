"""Produce to and read from the real broker in tests."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Mapping

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from tests import harness


async def produce_async(
    env: Mapping[str, str],
    topic: str,
    items: Iterable[tuple[str | None, bytes | None]],
    *,
    rate: float | None = None,
    chunk: int = 1000,
    **producer_args,
) -> list[float]:
    """The tests' one way to produce: send (key, value) pairs (a None value is a tombstone), in
    batches of `chunk` acknowledged together, or paced at `rate` records/s; return once every
    record is acknowledged (acks=all), with the wall-clock time each one was sent."""
    args = {"acks": "all", "linger_ms": 5, "max_batch_size": 256 * 1024, **producer_args}
    producer = AIOKafkaProducer(**harness.kafka(env), **args)
    await producer.start()
    sent: list[float] = []
    try:
        pending = []
        t0 = time.monotonic()
        for i, (key, value) in enumerate(items):
            if rate:
                wait = t0 + i / rate - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)  # the pace is the scenario
            sent.append(time.time())
            pending.append(await producer.send(topic, value=value, key=key.encode() if key is not None else None))
            if len(pending) >= chunk:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


def produce(env: Mapping[str, str], topic: str, items: Iterable[tuple[str | None, bytes | None]], **kwargs) -> int:
    """`produce_async` from synchronous code: the number of records sent and acknowledged."""
    return len(asyncio.run(produce_async(env, topic, items, **kwargs)))


def produce_json(env: Mapping[str, str], topic: str, docs: Iterable[Mapping], key: str = "id", **kwargs) -> int:
    """Produce each dict as JSON, keyed by its `key` field."""
    return produce(env, topic, ((d[key], json.dumps(d).encode()) for d in docs), **kwargs)


def read_all(env: Mapping[str, str], topic: str, timeout: float = 30.0, expect: int | None = None) -> list:
    """Every record of `topic` from the beginning (until `expect` records, or end offsets)."""

    async def run() -> list:
        consumer = AIOKafkaConsumer(**harness.kafka(env), enable_auto_commit=False, auto_offset_reset="earliest")
        await consumer.start()
        try:
            parts = consumer.partitions_for_topic(topic)
            for _ in range(50):
                if parts:
                    break
                await consumer._client.force_metadata_update()
                parts = consumer.partitions_for_topic(topic)
                await asyncio.sleep(0.1)
            tps = [TopicPartition(topic, p) for p in sorted(parts or [])]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            out: list = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while loop.time() < deadline:
                if expect is None:
                    ends = await consumer.end_offsets(tps)
                    if all([await consumer.position(tp) >= ends[tp] for tp in tps]):
                        break
                elif len(out) >= expect:
                    break
                batch = await consumer.getmany(timeout_ms=500, max_records=10_000)
                for records in batch.values():
                    out.extend(records)
            return out
        finally:
            await consumer.stop()

    return asyncio.run(run())


def partition_count(env: Mapping[str, str], topic: str) -> int:
    async def run() -> int:
        consumer = AIOKafkaConsumer(**harness.kafka(env))
        await consumer.start()
        try:
            await consumer._client.force_metadata_update()
            return len(consumer.partitions_for_topic(topic) or ())
        finally:
            await consumer.stop()

    return asyncio.run(run())


def lag(env: Mapping[str, str], group: str, topics: Iterable[str]) -> dict[str, int]:
    """Per partition ("topic[p]"), end offset minus the group's committed offset (no commit = 0)."""
    from aiokafka.admin import AIOKafkaAdminClient

    async def run() -> dict[str, int]:
        admin = AIOKafkaAdminClient(**harness.kafka(env))
        consumer = AIOKafkaConsumer(**harness.kafka(env))
        await admin.start()
        await consumer.start()
        try:
            committed = await admin.list_consumer_group_offsets(group)
            tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
            ends = await consumer.end_offsets(tps)
            return {
                f"{tp.topic}[{tp.partition}]": ends[tp] - (committed[tp].offset if tp in committed else 0) for tp in tps
            }
        finally:
            await consumer.stop()
            await admin.close()

    return asyncio.run(run())


def wait_committed(
    env: Mapping[str, str], group: str, topics: Iterable[str], worker: harness.Worker, timeout: float = 60
) -> None:
    """Wait until `group` has committed every partition of `topics` to its end (lag 0)."""
    topics = list(topics)
    left: dict[str, int] = {}

    def all_committed() -> bool:
        nonlocal left
        left = {tp: n for tp, n in lag(env, group, topics).items() if n}
        return not left

    try:
        harness.wait_for(all_committed, timeout, "every source partition committed to its end")
    except AssertionError as exc:
        raise AssertionError(f"{exc}: uncommitted {left}\n{worker.tail(30)}") from None


# ------------------------------------------------------------------ the 3-broker cluster (tools/kafka/kafka.sh)

CLUSTER_URL = "kafka://127.0.0.1:19092;127.0.0.1:19094;127.0.0.1:19096"
CLUSTER_PORTS = {1: 19092, 2: 19094, 3: 19096}


def kafka_sh(*args: str, timeout: float = 180) -> None:
    """Run tools/kafka/kafka.sh (start-cluster, kill cluster/N, restart cluster/N, stop cluster/N)."""
    import subprocess

    proc = subprocess.run(
        [str(harness.ROOT / "tools/kafka/kafka.sh"), *args],
        cwd=harness.ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, f"kafka.sh {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"


def cluster_running() -> dict[int, bool]:
    return {n: harness.port_open("127.0.0.1", p) for n, p in CLUSTER_PORTS.items()}


def quorum_leader(alive: Iterable[int] = (1, 2, 3), timeout: float = 60) -> int:
    """The node id of the KRaft controller quorum's leader (kafka-metadata-quorum describe --status,
    asked of a live node)."""
    import subprocess

    libs = harness.ROOT / ".cache/kafka/libs"
    last = ""

    def ask() -> int | None:
        nonlocal last
        for n in alive:
            proc = subprocess.run(
                [
                    "java",
                    "-cp",
                    f"{libs}/*",
                    "org.apache.kafka.tools.MetadataQuorumCommand",
                    "--bootstrap-server",
                    f"127.0.0.1:{CLUSTER_PORTS[n]}",
                    "describe",
                    "--status",
                ],
                capture_output=True,
                text=True,
                timeout=60,
            )
            last = proc.stdout + proc.stderr
            for line in proc.stdout.splitlines():
                if line.strip().startswith("LeaderId:"):
                    leader = int(line.split(":", 1)[1])
                    if leader in alive:
                        return leader
        return None

    return harness.wait_for(ask, timeout, f"a quorum leader among {list(alive)} ({last[-300:]})", interval=1)
