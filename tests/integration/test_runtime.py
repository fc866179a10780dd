"""The worker's start-up against faust's conventions and its runtime package (issue #12):
a library version that streams.runtime was not verified with is refused; `--datadir` wins over
DATA_DIR; two app ids share a DATA_DIR without sharing tables; a local store ahead of its
changelog (the changelog topics deleted) is discarded and restored instead of crashing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests import harness
from tests.kafka_tools import produce_json
from tests.scenario import velocity_from_api


def snap(pid: str, score: int = 10, observed: float | None = None) -> dict:
    now = observed or time.time()
    return {
        "id": pid,
        "subreddit": "python",
        "title": "Faust streams",
        "selftext": "",
        "author": "a",
        "created_utc": now - 600,
        "observed_at": now,
        "score": score,
        "num_comments": 1,
        "upvote_ratio": 0.9,
        "url": "https://example.org",
        "over_18": False,
        "permalink": f"/r/python/comments/{pid}/",
        "source": "new",
    }


def feed(worker: harness.Worker, env: dict, pids: list[str]) -> None:
    produce_json(env, env["TOPIC_POSTS"], [snap(p) for p in pids])
    harness.wait_for(
        lambda: all(velocity_from_api(worker, p) is not None for p in pids), 60, "the posts' velocity entries"
    )


def test_a_library_version_not_verified_is_refused_with_one_line(worker_env, tmp_path):
    fake = tmp_path / "site" / "faust_streaming-0.16.0.dist-info"
    fake.mkdir(parents=True)
    (fake / "METADATA").write_text("Metadata-Version: 2.1\nName: faust-streaming\nVersion: 0.16.0\n")
    env = {**worker_env, "PYTHONPATH": str(tmp_path / "site")}
    done = harness.faust("worker", env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "faust-streaming 0.16.0 is installed" in done.stderr and "0.15.3" in done.stderr


def test_the_datadir_option_wins_over_data_dir(start_worker, worker_env, tmp_path):
    chosen, setting = tmp_path / "chosen", tmp_path / "setting"
    w = harness.Worker(
        env={**worker_env, "DATA_DIR": str(setting)},
        name="dd",
        workdir=tmp_path,
        args=("--datadir", str(chosen), "worker", "-l", "info"),
    )
    try:
        w.start()
        feed(w, worker_env, ["dd1"])
        assert list((chosen / "v1" / "tables").glob("velocity-*.db")), sorted(chosen.rglob("*"))[:20]
        assert not setting.exists()
    finally:
        w.kill()


def test_two_app_ids_one_after_the_other_on_one_data_dir(start_worker, worker_env, tmp_path):
    shared = str(tmp_path / "shared")
    first = start_worker("first", DATA_DIR=shared)
    feed(first, worker_env, ["a1", "a2"])
    first.stop()
    assert first.returncode == 0, first.tail()
    other = {
        f"TOPIC_{t}": f"{worker_env[f'TOPIC_{t}']}.b" for t in ("POSTS", "REFRESH", "DLQ", "OBSERVATIONS", "BACKFILL")
    }
    second = start_worker("second", DATA_DIR=shared, APP_ID=worker_env["APP_ID"] + "-b", **other)
    feed(second, {**worker_env, **other}, ["b1"])
    assert velocity_from_api(second, "a1") is None  # the first app's tables are not the second's
    dirs = sorted(p.name for p in Path(shared).iterdir())
    assert dirs == [f"{worker_env['APP_ID']}-b-data", f"{worker_env['APP_ID']}-data"]


def test_a_store_ahead_of_its_deleted_changelog_is_restored_not_a_crash(start_worker, worker_env, tmp_path):
    data = str(tmp_path / "data-ahead")
    w = start_worker("ahead", DATA_DIR=data)
    feed(w, worker_env, ["c1", "c2", "c3"])
    w.stop()
    assert w.returncode == 0, w.tail()
    app_id = worker_env["APP_ID"]
    delete_topics(worker_env, [f"{app_id}-velocity-changelog", f"{app_id}-sentiment-changelog"])
    again = start_worker("again", DATA_DIR=data, WEB_PORT=w.env["WEB_PORT"])
    log = again.log_text()
    assert "ConsistencyError" not in log
    assert "discarding it and restoring from the changelog" in log
    assert again.metric("redditstream_table_partitions_discarded_total", table="velocity") >= 1
    assert velocity_from_api(again, "c1") is None  # the discarded entries are gone with their changelog
    feed(again, worker_env, ["c4"])  # and the worker goes on processing


def delete_topics(env: dict, topics: list[str]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient

    async def run() -> None:
        admin = AIOKafkaAdminClient(**harness.kafka(env))
        await admin.start()
        try:
            await admin.delete_topics(topics)
            for _ in range(100):
                if not set(topics) & set(await admin.list_topics()):
                    return
                await asyncio.sleep(0.1)
            raise AssertionError(f"topics {topics} still listed")
        finally:
            await admin.close()

    asyncio.run(run())
