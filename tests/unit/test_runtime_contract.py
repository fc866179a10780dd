"""Contract tests of streams.runtime: every private attribute of faust, aiokafka, rocksdict,
asyncpraw and aiohttp that it uses exists and has the shape the code expects. An upgrade that moves one
fails here, in CI, rather than silently in a worker (streams.runtime.versions pins the versions)."""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import logging
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
from streams.runtime.http import JsonErrorRequestHandler, JsonErrorRunner
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


def test_aiohttp_and_faust_internals_the_json_error_server_replaces():
    """streams.runtime.http: faust's aiohttp driver keeps its runner in `_runner` (built in
    `__init__`, with `access_log=None`), aiohttp's runner builds its server in `_make_server`,
    the server builds each connection's handler from `_loop` and `_kwargs`, and a parse error
    reaches `handle_error(request, status, exc, message)` through `_make_error_handler`."""
    from aiohttp import web
    from faust.web.drivers.aiohttp import Web as FaustWeb

    init = inspect.getsource(FaustWeb.__init__)
    assert "self._runner: AppRunner = AppRunner(self.web_app, access_log=None)" in init
    assert "self._runner" in inspect.getsource(FaustWeb.start_server)
    assert inspect.iscoroutinefunction(web.AppRunner._make_server)
    assert "RequestHandler(self, loop=self._loop, **self._kwargs)" in inspect.getsource(web.Server.__call__)
    assert list(inspect.signature(web.RequestHandler.handle_error).parameters) == [
        "self",
        "request",
        "status",
        "exc",
        "message",
    ]
    assert "self.handle_error(" in inspect.getsource(web.RequestHandler._make_error_handler)
    assert web.RequestHandler.__slots__ and JsonErrorRequestHandler.__slots__ == ()


def test_the_web_driver_serves_through_the_json_error_runner(app):
    from web.server import Web

    driver = Web(app)
    assert type(driver._runner) is JsonErrorRunner and driver._runner.app is driver.web_app


async def _raw_exchange(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await reader.read()  # the error answer closes the connection
    writer.close()
    return answer


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /api/posts/\x01secret HTTP/1.1\r\nHost: x\r\n\r\n",  # a control character in the target
        b"G\xffT /secret HTTP/1.1\r\nHost: x\r\n\r\n",  # a bad method
        b"GET / HTTP/1.1\r\nHost: x\r\nsecret header without a colon\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nX-Secret: " + b"s" * 9000 + b"\r\n\r\n",  # a header too long
        b"secret nonsense\r\n\r\n",
    ],
)
async def test_a_malformed_request_is_a_json_400_and_one_log_line(request_bytes, caplog):
    from aiohttp import web

    async def hello(request):
        return web.Response(text="hi")

    application = web.Application()
    application.router.add_get("/", hello)
    runner = JsonErrorRunner(application, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        with caplog.at_level(logging.DEBUG):
            raw = await _raw_exchange(port, request_bytes)
        head, _, body = raw.partition(b"\r\n\r\n")
        assert re.match(rb"HTTP/1\.[01] 400 ", head), raw[:300]
        assert b"\r\nContent-Type: application/json; charset=utf-8\r\n" in head, head
        reason = json.loads(body)["error"]
        assert reason.startswith("malformed HTTP request (") and "secret" not in reason, reason
        aiohttp_records = [r for r in caplog.records if r.name.startswith(("aiohttp", "streams.runtime.http"))]
        assert len(aiohttp_records) == 1, [r.getMessage() for r in aiohttp_records]
        (record,) = aiohttp_records
        assert record.exc_info is None and record.exc_text is None
        assert "secret" not in record.getMessage() and "\n" not in record.getMessage()
        # the server is still there for the next client
        ok = await _raw_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert ok.startswith(b"HTTP/1.1 200 ") and ok.endswith(b"hi")
    finally:
        await runner.cleanup()


def test_the_connection_check_and_preflight_hooks_exist_with_their_shapes():
    """streams.kafka_check opens its one connection with aiokafka's `create_conn` (the same
    security arguments as the clients), and App.preflight runs in mode's `on_first_start`,
    which a Service awaits before it starts its dependencies (the consumer, the producer)."""
    from aiokafka import errors
    from aiokafka.conn import create_conn
    from mode import Service

    params = inspect.signature(create_conn).parameters
    for name in ("security_protocol", "ssl_context", "sasl_mechanism", "sasl_plain_username", "sasl_plain_password"):
        assert name in params, name
    assert "request_timeout_ms" in params
    for name in ("SaslAuthenticationFailed", "UnsupportedSaslMechanismError", "IllegalSaslStateError"):
        assert issubclass(getattr(errors, name), errors.KafkaError), name
    assert inspect.iscoroutinefunction(Service.on_first_start)
    source = inspect.getsource(Service._actually_start)
    assert source.index("on_first_start") < source.index("on_start()")
    assert App.on_first_start is not Service.on_first_start
