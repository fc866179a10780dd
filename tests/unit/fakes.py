"""Fakes for the delivery unit tests: a table's store, aiokafka's batch API, an event loop that
does not wait."""

import asyncio

from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatch


class FakeTable:
    """The part of tables.direct.DirectTable the sender uses: a store and the persisted offsets."""

    name, topic = "velocity", "app-velocity-changelog"

    def __init__(self) -> None:
        self.store: dict[tuple[int, bytes], bytes] = {}
        self.offsets: dict[int, int] = {}

    def raw(self, partition: int, key: bytes):
        return self.store.get((partition, key))

    def persisted(self, partition: int, offset: int) -> None:
        self.offsets[partition] = max(offset, self.offsets.get(partition, -1))


class FakeProducer:
    """aiokafka's batch API with real record batches; deliveries resolved by the test."""

    def __init__(self, batch_size: int = 16384, refuse: int = 0) -> None:
        self.batch_size = batch_size
        self.refuse = refuse
        self.sent: list[dict] = []
        self.end: dict[int, int] = {}  # next offset per partition

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(self.batch_size, 0)

    async def send_batch(self, batch, topic, *, partition):
        if self.refuse:
            self.refuse -= 1
            raise ConnectionError("producer closed")
        records = [(r.key, r.value) for r in DefaultRecordBatch(bytes(batch._build()))]
        fut = asyncio.get_running_loop().create_future()
        self.sent.append({"topic": topic, "partition": partition, "records": records, "fut": fut})
        return fut

    def ack(self, i: int) -> None:
        s = self.sent[i]
        base = self.end.get(s["partition"], 0)
        self.end[s["partition"]] = base + len(s["records"])
        s["fut"].set_result(type("Meta", (), {"offset": base})())


async def no_sleep(_delay: float) -> None:
    await asyncio.sleep(0)


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)
