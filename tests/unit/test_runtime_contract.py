"""Contract tests of streams.runtime: every private attribute of faust, aiokafka, rocksdict and
asyncpraw that it uses exists and has the shape the code expects. An upgrade that moves one
fails here, in CI, rather than silently in a worker (streams.runtime.versions pins the versions)."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import re
from collections import Counter
from pathlib import Path

import aiokafka
import asyncpraw
import pytest
from aiokafka.structs import TopicPartition
from faust.transport.consumer import Consumer as FaustConsumer
from faust.types import TP

from streams.runtime import versions
from streams.runtime.application import App, kafka_producer
from streams.runtime.consumer import OrderedConsumer
from streams.runtime.recovery import changelog_lag, recovered, standby_lag
from streams.runtime.reddit import NoRetry, use_limiter_without_retries
from streams.runtime.store import Store, ahead_of_changelog, decode_value, forget_key, open_partition_dbs, partition_db

ROOT = Path(__file__).resolve().parents[2]
# sha256 of faust-streaming 0.15.3's Consumer._drain_messages, which streams.runtime.fetch_loop copies
DRAIN_MESSAGES_SHA256 = "44a2500309e83c630493f6828af50166ec8d96a0b3e4fb2bab735f704ae93417"


@pytest.fixture
def app(tmp_path):
    return App(
        "contract", broker="kafka://127.0.0.1:1", store="redditstream://", datadir=str(tmp_path), autodiscover=False
    )


def test_the_lock_pins_exactly_the_verified_versions():
    lock = (ROOT / "requirements.lock").read_text()
    pins = dict(re.findall(r"^([a-z0-9._-]+)==([^\s\\]+)", lock, flags=re.M))
    assert {name: pins.get(name) for name in versions.VERIFIED} == versions.VERIFIED


def test_the_installed_versions_are_the_verified_ones():
    assert versions.mismatches() == []


def test_a_version_not_verified_is_refused_with_one_line(capsys):
    installed = {**versions.VERIFIED, "faust-streaming": "0.16.0"}.get
    assert versions.mismatches(installed) == [
        "faust-streaming 0.16.0 is installed, streams.runtime is verified with 0.15.3 only"
    ]
    with pytest.raises(SystemExit) as exc:
        versions.require_verified(installed)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "faust-streaming 0.16.0" in err
    assert "aiokafka (not installed)" in versions.mismatches({**versions.VERIFIED, "aiokafka": None}.get)[0]


def test_faust_drain_messages_is_the_one_the_fetch_loop_copies():
    source = inspect.getsource(FaustConsumer._drain_messages)
    assert hashlib.sha256(source.encode()).hexdigest() == DRAIN_MESSAGES_SHA256, (
        "faust's Consumer._drain_messages changed: port the change to streams/runtime/fetch_loop.py"
    )
    for name in (
        "callback",
        "getmany",
        "suspend_flow",
        "diag",
        "consumer_stopped_errors",
        "wait_first",
        "_add_gap",
        "commit",
    ):
        assert name in source or hasattr(FaustConsumer, name), name


def test_app_hooks_and_the_ordered_consumer(app):
    assert callable(type(app).__mro__[1]._on_autodiscovery_error)
    assert callable(type(app).__mro__[1]._new_transport)
    consumer = app.consumer
    assert isinstance(consumer, OrderedConsumer)
    assert consumer.aiokafka() is None  # `_thread._consumer` before start
    assert callable(consumer._thread.call_thread)
    for name, kind in (("_committed_offset", dict), ("_acked", dict), ("_read_offset", dict)):
        assert isinstance(getattr(consumer, name), kind), name
    assert hasattr(consumer._unacked_messages, "__iter__")
    assert isinstance(consumer._n_acked, int) and hasattr(consumer, "_commit_every")
    assert hasattr(consumer._stopped, "is_set") and inspect.iscoroutinefunction(consumer._add_gap)
    assert consumer._active_partitions is None or hasattr(consumer._active_partitions, "__iter__")
    assert consumer._paused_partitions is None or hasattr(consumer._paused_partitions, "__iter__")
    assert consumer.committed_offsets() == {} and consumer.held_offsets() == {}
    assert consumer.fetch_positions() == {} and consumer.missing_topics() == set()
    consumer._committed_offset[TP("t", 0)] = 5
    consumer._acked[TP("t", 0)] = [6, 7]
    assert consumer.committed_offsets() == {TP("t", 0): 5} and consumer.held_offsets() == {TP("t", 0): {6, 7}}


def test_faust_producer_exposes_its_aiokafka_producer(app):
    assert callable(app.producer._ensure_producer)
    with pytest.raises(Exception):  # noqa: B017 - not started: faust raises its own error
        kafka_producer(app)
    assert callable(aiokafka.AIOKafkaProducer.create_batch) and callable(aiokafka.AIOKafkaProducer.send_batch)


async def test_aiokafka_consumer_internals_the_consumer_reads():
    aio = aiokafka.AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1")
    try:
        tp = TopicPartition("t", 0)
        aio.assign([tp])
        assignment = aio._subscription.subscription.assignment
        assert set(assignment.tps) == {tp}
        state = assignment.state_value(tp)
        for name in ("_position", "_status", "_reset_strategy", "paused"):
            assert hasattr(state, name), name
        assert callable(aio._client.cluster.partitions_for_topic) and callable(aio._client.force_metadata_update)
        from aiokafka.consumer.group_coordinator import GroupCoordinator

        assert callable(GroupCoordinator.request_rejoin)
    finally:
        await aio.stop()


async def test_the_store_reaches_rocksdb_and_discards_a_partition_ahead_of_its_changelog(app):
    table = app.Table("contract", default=None, key_type=bytes, partitions=2)
    store = table.data
    assert isinstance(store, Store)
    db = partition_db(table, 0)
    db.put(b"k", b'{"v": 1}')
    assert open_partition_dbs(table) == {0: db}
    assert decode_value(table, b'{"v": 1}') == {"v": 1}
    store._key_index[b"k"] = 0
    forget_key(table, b"k")
    assert b"k" not in store._key_index
    tp = TP(table.changelog_topic.get_topic_name(), 0)
    store.set_persisted_offset(tp, 48)
    assert store.persisted_offset(tp) == 48
    store.discard_partition(tp, 48, 0)
    assert store.persisted_offset(tp) is None and partition_db(table, 0).get(b"k") is None


def test_ahead_of_changelog():
    a, b, c = TP("x", 0), TP("x", 1), TP("x", 2)
    assert ahead_of_changelog({a: 48, b: 10, c: None}, {a: 0, b: 11, c: 5}) == [a]
    assert ahead_of_changelog({a: 10}, {a: 10}) == [a]  # offset 10 applied, the topic's next is 10: never written
    assert ahead_of_changelog({a: 9}, {a: 10}) == []


def test_faust_recovery_tells_recovered_and_the_standby_offsets(app):
    recovery = app.tables.recovery
    assert hasattr(recovery.completed, "is_set") and recovered(app) is False
    assert isinstance(recovery.standby_tps, set)
    assert isinstance(recovery.standby_offsets, Counter) and isinstance(recovery.standby_highwaters, Counter)
    assert standby_lag(app) == 0  # no standby assigned
    # a standby partition whose fetch has not begun: faust's end offset at the rebalance counts
    tp = TP("contract-table-changelog", 0)
    recovery.standby_tps.add(tp)
    recovery.standby_highwaters[tp] = 41  # faust stores end offset - 1
    app.consumer.highwater = lambda tp: None  # aiokafka's answer before a fetch response
    assert standby_lag(app) == 42
    recovery.standby_offsets[tp] = 40
    assert standby_lag(app) == 1


async def test_aiokafka_highwater_refuses_a_partition_not_assigned():
    aio = aiokafka.AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1")
    try:
        aio.assign([TopicPartition("t", 0)])
        assert aio.highwater(TopicPartition("t", 0)) is None  # no fetch response yet
        with pytest.raises(AssertionError):  # what streams.runtime.recovery.standby_lag catches
            aio.highwater(TopicPartition("t", 1))
    finally:
        await aio.stop()


def test_changelog_lag():
    a, b, c = TP("x", 0), TP("x", 1), TP("x", 2)
    assert changelog_lag({a: 10, b: 0, c: None}, {}) == 10  # nothing read of a; b is empty; c unknown
    assert changelog_lag({a: 10}, {a: 9}) == 0  # the last record (offset 9) read
    assert changelog_lag({a: 10, b: 5}, {a: 4, b: 7}) == 5  # read past a stale end: never negative


async def test_asyncpraw_sessions_take_our_limiter_without_retries():
    reddit = asyncpraw.Reddit(
        client_id="x", client_secret="y", user_agent="contract", check_for_updates=False, check_for_async=False
    )
    try:
        cores = [c for c in (reddit._core, reddit._read_only_core, reddit._authorized_core) if c]
        assert cores and all(hasattr(c, "_retry_strategy_class") and hasattr(c, "_rate_limiter") for c in cores)
        limiter = object()
        use_limiter_without_retries(reddit, limiter)
        assert all(c._rate_limiter is limiter and c._retry_strategy_class is NoRetry for c in cores)
        assert NoRetry().retries == 0
    finally:
        await reddit.close()


def test_eager_fetch_loop_needs_the_asyncio_future_protocol():
    fut = asyncio.Future(loop=asyncio.new_event_loop())
    assert hasattr(fut, "_asyncio_future_blocking")
    fut.get_loop().close()
