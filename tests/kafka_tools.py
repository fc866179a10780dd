"""Produce to and read from the real broker in tests."""
from __future__ import annotations

import asyncio
from typing import Iterable, Mapping

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from tests import harness


def produce(env: Mapping[str, str], topic: str, items: Iterable[tuple[str | None, bytes | None]],
            **producer_args) -> int:
    """Send (key, value) pairs, batched; wait until all are acknowledged. Returns the count."""
    async def run() -> int:
        producer = AIOKafkaProducer(bootstrap_servers=harness.bootstrap(env), acks="all",
                                    linger_ms=20, max_batch_size=256 * 1024, **producer_args)
        await producer.start()
        try:
            futures = [await producer.send(topic, value=v, key=k.encode() if k is not None else None)
                       for k, v in items]
            await asyncio.gather(*futures)
            return len(futures)
        finally:
            await producer.stop()
    return asyncio.run(run())


def read_all(env: Mapping[str, str], topic: str, timeout: float = 30.0, expect: int | None = None) -> list:
    """Every record of `topic` from the beginning (until `expect` records, or end offsets)."""
    async def run() -> list:
        consumer = AIOKafkaConsumer(bootstrap_servers=harness.bootstrap(env), enable_auto_commit=False,
                                    auto_offset_reset="earliest")
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
        consumer = AIOKafkaConsumer(bootstrap_servers=harness.bootstrap(env))
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
        admin = AIOKafkaAdminClient(bootstrap_servers=harness.bootstrap(env))
        consumer = AIOKafkaConsumer(bootstrap_servers=harness.bootstrap(env))
        await admin.start()
        await consumer.start()
        try:
            committed = await admin.list_consumer_group_offsets(group)
            tps = [TopicPartition(t, p) for t in topics for p in sorted(consumer.partitions_for_topic(t) or ())]
            ends = await consumer.end_offsets(tps)
            return {f"{tp.topic}[{tp.partition}]": ends[tp] - (committed[tp].offset if tp in committed else 0)
                    for tp in tps}
        finally:
            await consumer.stop()
            await admin.close()
    return asyncio.run(run())


def wait_committed(env: Mapping[str, str], group: str, topics: Iterable[str], worker: "harness.Worker",
                   timeout: float = 60) -> None:
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
