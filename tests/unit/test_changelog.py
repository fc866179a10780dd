"""streams.checkpoint.changelog.ChangelogSender: a partition's table changes in bulk, acked once on the
broker, re-sent with the keys' current values when a batch fails."""

from streams.checkpoint.changelog import ChangelogSender
from tests.unit.fakes import FakeProducer, FakeTable, no_sleep, settle


async def test_changes_go_out_as_one_batch_and_are_acked_once_it_is_on_the_broker():
    table, producer, acked = FakeTable(), FakeProducer(), []
    sender = ChangelogSender(lambda: producer, sleep=no_sleep)
    await sender.send(table, 3, {b"a": b"1", b"b": b"2", b"gone": None}, lambda: acked.append("x"))
    assert len(producer.sent) == 1
    assert producer.sent[0]["topic"] == table.topic and producer.sent[0]["partition"] == 3
    assert producer.sent[0]["records"] == [(b"a", b"1"), (b"b", b"2"), (b"gone", None)]
    await settle()
    assert acked == []
    producer.ack(0)
    await settle()
    assert acked == ["x"] and table.offsets == {3: 2}  # offsets 0..2 are in the local store


async def test_changes_beyond_one_batch_are_split_and_acked_when_every_part_is_durable():
    table, producer, acked = FakeTable(), FakeProducer(batch_size=200), []
    sender = ChangelogSender(lambda: producer, sleep=no_sleep)
    changes = {f"key{i}".encode(): b"v" * 40 for i in range(12)}
    await sender.send(table, 0, changes, lambda: acked.append(1))
    assert len(producer.sent) > 1
    assert [k for s in producer.sent for k, _ in s["records"]] == list(changes)
    for i in range(len(producer.sent) - 1):
        producer.ack(i)
    await settle()
    assert acked == []
    producer.ack(len(producer.sent) - 1)
    await settle()
    assert acked == [1] and table.offsets == {0: 11}


async def test_a_failed_batch_is_resent_with_the_current_values_not_the_stale_ones():
    table, producer, acked = FakeTable(), FakeProducer(), []
    sender = ChangelogSender(lambda: producer, sleep=no_sleep)
    table.store[(1, b"k")] = b"old"
    await sender.send(table, 1, {b"k": b"old", b"j": b"j1"}, lambda: acked.append("first"))
    table.store[(1, b"k")] = b"new"  # a later event moved k on meanwhile...
    table.store[(1, b"j")] = b"j1"
    await sender.send(table, 1, {b"k": b"new"}, lambda: acked.append("second"))
    producer.ack(1)  # ...and its batch is on the broker first
    producer.sent[0]["fut"].set_exception(TimeoutError("no ack"))
    await settle()
    assert sender.failures == 1 and acked == ["second"]
    assert producer.sent[2]["records"] == [(b"k", b"new"), (b"j", b"j1")]  # never "old" after "new"
    producer.ack(2)
    await settle()
    assert acked == ["second", "first"]


async def test_a_deleted_key_is_resent_as_a_tombstone():
    table, producer, acked = FakeTable(), FakeProducer(), []
    sender = ChangelogSender(lambda: producer, sleep=no_sleep)
    await sender.send(table, 0, {b"k": b"v"}, lambda: acked.append(1))  # k is not in the store any more
    producer.sent[0]["fut"].set_exception(ConnectionError("broker gone"))
    await settle()
    assert producer.sent[1]["records"] == [(b"k", None)]


async def test_a_send_that_raises_is_retried_and_nothing_is_acked_before_it_succeeds():
    table, producer, acked = FakeTable(), FakeProducer(refuse=2), []
    table.store[(0, b"k")] = b"v"
    sender = ChangelogSender(lambda: producer, sleep=no_sleep)
    await sender.send(table, 0, {b"k": b"v"}, lambda: acked.append(1))
    await settle()
    assert sender.failures == 2 and len(producer.sent) == 1 and acked == []
    producer.ack(0)
    await settle()
    assert acked == [1]
