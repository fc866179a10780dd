"""Shared fixtures. Integration fixtures use the real broker, PostgreSQL and Redis."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
import redis as redis_lib

from tests import harness, kafka_tools

ROOT = harness.ROOT


@pytest.fixture(scope="session")
def stack() -> dict[str, str]:
    """URLs of the running local stack (started by tools/stack.sh when it does not answer)."""
    return harness.stack_env()


@pytest.fixture(scope="module")
def database(stack, request) -> Iterator[str]:
    """A fresh database per test module, migrated to head; dropped afterwards."""
    name = harness.unique("t_" + request.module.__name__.rsplit(".", 1)[-1][:30].lower() + "_")
    url = harness.create_database(stack["DATABASE_URL"], name)
    yield url
    harness.drop_database(url)


@pytest.fixture
def empty_tables(database) -> None:
    """For modules whose tests share the module's database: each starts from empty tables."""
    harness.query(database, "TRUNCATE posts, post_metrics_history, dlq_events, comments")


@pytest.fixture(scope="module")
def redis_url(stack) -> Iterator[str]:
    """A Redis database of its own for the test module (emptied before and after)."""
    base = stack["REDIS_URL"].rsplit("/", 1)[0]
    control = redis_lib.Redis.from_url(base + "/0")
    db = 1 + control.incr("redditstream:test-db-counter") % 62
    url = f"{base}/{db}"
    client = redis_lib.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()
    control.close()


@pytest.fixture
def worker_env(stack, database, tmp_path) -> Iterator[dict[str, str]]:
    """Environment for a worker on its own topics, app id, port, data directory and (per test
    module) database. Its topics (every one whose name holds its uid) are deleted afterwards."""
    uid = harness.unique("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TOPIC_", "APP_ID", "WEB_"))}
    env.update(stack)
    env.update(
        {
            "DATABASE_URL": database,
            "APP_ID": f"rs-test-{uid}",
            "TOPIC_POSTS": f"test.{uid}.posts",
            "TOPIC_REFRESH": f"test.{uid}.refresh",
            "TOPIC_DLQ": f"test.{uid}.dlq",
            "TOPIC_OBSERVATIONS": f"test.{uid}.observations",
            "TOPIC_BACKFILL": f"test.{uid}.backfill",
            "TOPIC_COMMENTS": f"test.{uid}.comments",
            "TOPIC_PARTITIONS": "8",
            "WEB_PORT": str(harness.free_port()),
            "DATA_DIR": str(tmp_path / "data"),
            "SINK_FLUSH_SECONDS": "0.5",
            "LOG_LEVEL": "info",
            "ADMIN_TOKEN": harness.ADMIN_TOKEN,
            "PYTHONUNBUFFERED": "1",
        }
    )
    yield env
    try:
        kafka_tools.delete_topics(env, uid)
    except Exception as exc:  # noqa: BLE001 - a broker a test stopped: its topics stay, nothing else fails
        print(f"worker_env: topics of {uid} not deleted: {exc!r}")


@pytest.fixture
def start_worker(worker_env, tmp_path) -> Iterator[Callable[..., harness.Worker]]:
    """Start workers as processes (same app id unless overridden); all are stopped at the end."""
    started: list[harness.Worker] = []

    def start(name: str = "w1", wait_ready: bool = True, **overrides: str) -> harness.Worker:
        env = {**worker_env, **overrides}
        if name != "w1" and "WEB_PORT" not in overrides:
            env["WEB_PORT"] = str(harness.free_port())
        if "DATA_DIR" not in overrides:
            env["DATA_DIR"] = str(tmp_path / f"data-{name}")
        w = harness.Worker(env=env, name=name, workdir=tmp_path)
        started.append(w)
        return w.start(wait_ready=wait_ready)

    yield start
    for w in started:
        w.kill()
