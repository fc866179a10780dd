"""streams.checkpoint: DurableSender, Outbox and commit: ack only what the broker has,
retry failures, apply backpressure, batch per partition."""

import asyncio
import json

from streams.checkpoint.changelog import ChangelogSender
from streams.checkpoint.delivery import DurableSender
from streams.checkpoint.outbox import Outbox
from streams.runtime.fetch_loop import run_eagerly
from tests.unit.fakes import FakeProducer, FakeTable, no_sleep, settle


class FakeTopic:
    """A topic whose sends are acknowledged (or failed) when the test says so."""

    def __init__(self, refuse: int = 0) -> None:
        self.refuse = refuse  # the next `refuse` send() calls raise, as a producer that cannot enqueue
        self.sent: list[dict] = []

    async def send(self, *, key, value, partition, key_serializer, value_serializer):
        if self.refuse:
            self.refuse -= 1
            raise ConnectionError("producer closed")
        fut = asyncio.get_running_loop().create_future()
        self.sent.append({"key": key, "value": value, "partition": partition, "fut": fut})
        return fut


async def test_the_event_is_acked_only_once_its_record_is_acknowledged():
    topic, acked = FakeTopic(), []
    sender = DurableSender(topic, sleep=no_sleep)
    await sender.send(b"dead letter", key=b"k1", on_durable=lambda: acked.append(1))
    assert len(topic.sent) == 1 and acked == [] and sender.pending == 1
    topic.sent[0]["fut"].set_result("metadata")
    await settle()
    assert acked == [1] and sender.pending == 0


async def test_a_failed_delivery_is_resent_and_acked_once_after_it_succeeds():
    topic, acked = FakeTopic(), []
    sender = DurableSender(topic, sleep=no_sleep)
    await sender.send(b"v", key=b"k2", partition=3, on_durable=lambda: acked.append(2))
    topic.sent[0]["fut"].set_exception(TimeoutError("no ack"))
    await settle()
    assert len(topic.sent) == 2 and acked == [] and sender.failures == 1 and sender.pending == 1
    assert {k: topic.sent[1][k] for k in ("key", "value", "partition")} == {"key": b"k2", "value": b"v", "partition": 3}
    topic.sent[1]["fut"].set_result("metadata")
    await settle()
    assert acked == [2] and sender.pending == 0


async def test_a_send_that_raises_is_retried_before_send_returns():
    topic, acked = FakeTopic(refuse=2), []
    sender = DurableSender(topic, sleep=no_sleep)
    await sender.send(b"v", on_durable=lambda: acked.append(3))
    assert sender.failures == 2 and len(topic.sent) == 1 and acked == []


async def test_send_waits_while_too_many_events_are_in_flight():
    topic, acked = FakeTopic(), []
    sender = DurableSender(topic, max_pending=3, sleep=no_sleep)
    await sender.send(b"a", on_durable=lambda: acked.append("a"), weight=2)
    await sender.send(b"b", on_durable=lambda: acked.append("b"))
    third = asyncio.ensure_future(sender.send(b"c", on_durable=lambda: acked.append("c")))
    await settle()  # every ready task runs: loop turns, not wall-clock time
    assert not third.done() and len(topic.sent) == 2
    topic.sent[0]["fut"].set_result("metadata")
    await asyncio.wait_for(third, 1)
    assert len(topic.sent) == 3 and acked == ["a"]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_outbox_sends_one_array_per_partition_and_acks_every_event_of_it():
    topic, acked, clock = FakeTopic(), [], Clock()
    box = Outbox(
        DurableSender(topic, sleep=no_sleep), ChangelogSender(FakeProducer), max_records=3, max_delay=0.05, clock=clock
    )
    for i, partition in enumerate([0, 1, 0, 0, 1]):
        await box.add(partition, json.dumps({"n": i}).encode(), lambda i=i: acked.append(i))
    assert len(topic.sent) == 1 and topic.sent[0]["partition"] == 0  # partition 0 reached 3
    assert json.loads(topic.sent[0]["value"]) == [{"n": 0}, {"n": 2}, {"n": 3}]
    assert len(box) == 2
    await box.flush_due()
    assert len(topic.sent) == 1  # partition 1 is not due yet
    clock.now = 0.06
    await box.flush_due()
    assert [s["partition"] for s in topic.sent] == [0, 1] and json.loads(topic.sent[1]["value"]) == [{"n": 1}, {"n": 4}]
    assert acked == []
    topic.sent[1]["fut"].set_result("m")
    topic.sent[0]["fut"].set_result("m")
    await settle()
    assert sorted(acked) == [0, 1, 2, 3, 4] and len(box) == 0


async def test_outbox_starts_a_new_batch_before_one_would_exceed_max_bytes():
    topic, clock = FakeTopic(), Clock()
    box = Outbox(
        DurableSender(topic, sleep=no_sleep), ChangelogSender(FakeProducer), max_records=100, max_bytes=28, clock=clock
    )
    for _ in range(3):
        await box.add(0, b'"0123456789"', lambda: None)  # 12 bytes each: two fit in 2 + (12 + 1) * 2 = 28
    assert len(topic.sent) == 1 and json.loads(topic.sent[0]["value"]) == ["0123456789"] * 2
    await box.flush_all()
    assert len(topic.sent) == 2 and json.loads(topic.sent[1]["value"]) == ["0123456789"]


async def test_outbox_acks_a_batch_once_its_observations_and_its_table_changes_are_on_the_broker():
    topic, producer, table, acked = FakeTopic(), FakeProducer(), FakeTable(), []
    box = Outbox(DurableSender(topic, sleep=no_sleep), ChangelogSender(lambda: producer, sleep=no_sleep), max_records=2)
    await box.add(5, b"1", lambda: acked.append(1), [(table, b"k", b"v1")])
    await box.add(5, b"2", lambda: acked.append(2), [(table, b"k", b"v2"), (table, b"j", b"w")])
    assert len(topic.sent) == 1 and topic.sent[0]["partition"] == 5
    assert producer.sent[0]["partition"] == 5
    assert producer.sent[0]["records"] == [(b"k", b"v2"), (b"j", b"w")]  # the last value of each key
    topic.sent[0]["fut"].set_result("m")
    await settle()
    assert acked == []  # the changelog is not durable yet
    producer.ack(0)
    await settle()
    assert acked == [1, 2] and box.in_flight == 0


async def test_outbox_flush_waits_while_too_many_events_are_in_flight():
    topic, acked = FakeTopic(), []
    box = Outbox(DurableSender(topic, sleep=no_sleep), ChangelogSender(FakeProducer), max_records=2, max_in_flight=2)
    await box.add(0, b"1", lambda: acked.append(1))
    await box.add(0, b"2", lambda: acked.append(2))  # batch of 2 flushed: 2 in flight
    await box.add(1, b"3", lambda: acked.append(3))
    blocked = asyncio.ensure_future(box.add(1, b"4", lambda: acked.append(4)))
    await settle()  # every ready task runs: loop turns, not wall-clock time
    assert not blocked.done() and len(topic.sent) == 1
    topic.sent[0]["fut"].set_result("m")
    await asyncio.wait_for(blocked, 1)
    assert len(topic.sent) == 2 and acked == [1, 2]


async def test_outbox_writes_and_sends_the_batches_of_a_partition_in_order_even_under_backpressure():
    """A batch waiting for room is not overtaken by a later batch of its partition that finds the
    room first: that would leave the older value of a key last in the changelog."""
    topic, producer, table = FakeTopic(), FakeProducer(), FakeTable()
    box = Outbox(
        DurableSender(topic, sleep=no_sleep),
        ChangelogSender(lambda: producer, sleep=no_sleep),
        max_records=1,
        max_in_flight=1,
    )
    await box.add(0, b"1", lambda: None, [(table, b"k", b"v1")])  # in flight: the next flush waits
    second = asyncio.ensure_future(box.add(0, b"2", lambda: None, [(table, b"k", b"v2")]))
    await settle()  # every ready task runs: loop turns, not wall-clock time
    later: list = []
    # right after the first batch's acks free the room (the waiting second batch is woken but has
    # not run yet), an event of the same partition closes a third batch, as an agent would
    topic.sent[0]["fut"].add_done_callback(
        lambda _: later.append(run_eagerly(box.add(0, b"3", lambda: None, [(table, b"k", b"v3")])))
    )
    producer.ack(0)
    await asyncio.sleep(0)
    topic.sent[0]["fut"].set_result("m")
    for i in (1, 2):
        await settle()  # every ready task runs: loop turns, not wall-clock time
        if len(topic.sent) > i:
            topic.sent[i]["fut"].set_result("m")
            producer.ack(i)
    await asyncio.wait_for(asyncio.gather(second, *[r for r in later if r is not None]), 1)
    assert [s["records"] for s in producer.sent] == [[(b"k", b"v1")], [(b"k", b"v2")], [(b"k", b"v3")]]
    assert [json.loads(s["value"]) for s in topic.sent] == [[1], [2], [3]]
