"""Helpers of the archive tests: the archive simulator as a real process
(`faust -A streams simulate --archive`), records shaped as the archive's API answers them, and
`backfill --archive` run to its end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import harness
from tests.dumps import submission
from tests.ingest_support import Simulator


class ArchiveSimulator(Simulator):
    def __init__(self, env: dict[str, str], workdir: Path, name: str = "archive-sim") -> None:
        super().__init__("simulate", env, workdir, name)
        self.args = ("simulate", "--archive")

    def add(self, records: list[dict], kind: str = "posts") -> int:
        added = 0
        for i in range(0, len(records), 5000):
            added += self.call("/_sim/archive/records", {"kind": kind, "records": records[i : i + 5000]})["added"]
        return added

    def configure(self, **config) -> dict:
        return self.call("/_sim/archive/config", config)

    def faults(self, target: str, faults: list, latency: float = 0.0, reset: int = 1) -> None:
        self.call("/_sim/faults", {"target": target, "faults": faults, "latency": latency, "reset": reset})


def archive_post(i: int, sub: str, created: int, prefix: str = "a") -> dict:
    """A post as /api/posts/search answers it: whole-second created_utc, retrieved_on."""
    post = submission(i, generation="old", sub=sub, created=created, prefix=prefix)
    return {
        **post,
        "created_utc": int(created),
        "retrieved_on": int(created) + 7200,
        "upvote_ratio": 0.5 + (i % 50) / 100,
    }


# bad records (each one found by search: a subreddit and a created_utc) and the reason the
# summary counts them under (streams.backfill.mapping)
def bad_records(sub: str, created: int) -> list[tuple[dict, str]]:
    good = archive_post(0, sub, created, prefix="bad")
    return [
        ({k: v for k, v in good.items() if k != "title"} | {"id": "badt1"}, "missing_title"),
        ({k: v for k, v in good.items() if k != "id"}, "missing_id"),
        (good | {"id": "NOT-AN-ID"}, "bad_id"),
        (good | {"id": "badt2", "score": "many"}, "bad_type"),
        (good | {"id": "badt3", "author": 42}, "bad_type"),
    ]


def backfill(env: dict[str, str], workdir: Path, *args: str, timeout: float = 300, code: int = 0) -> dict:
    """`faust -A streams backfill --archive <args>` to its end: its JSON summary."""
    proc = harness.faust("backfill", "--archive", *args, env=env, cwd=workdir, timeout=timeout)
    assert proc.returncode == code, f"backfill exit {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture
def archive_env(worker_env) -> dict[str, str]:
    port = harness.free_port()
    return {
        **worker_env,
        "SIMULATOR_PORT": str(port),
        "ARCHIVE_API_URL": f"http://127.0.0.1:{port}",
        "ARCHIVE_REQUESTS_PER_SECOND": "100",
        "ARCHIVE_RETRY_BASE_SECONDS": "0.05",
        "ARCHIVE_RETRY_MAX_SECONDS": "0.5",
        "ARCHIVE_TIMEOUT_SECONDS": "1",
        "SIMULATOR_SUBREDDITS": "generated",
        "SIMULATOR_HISTORY_POSTS": "0",
        "SIMULATOR_SPEED": "0",
    }


@pytest.fixture
def archive_sim(archive_env, tmp_path) -> Iterator[ArchiveSimulator]:
    sim = ArchiveSimulator(archive_env, tmp_path).start()
    yield sim
    sim.kill()
