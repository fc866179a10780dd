"""Redis stopped for 30 s mid-stream: no crash, no lost state, the mirror is consistent after."""

from __future__ import annotations

import shutil
import subprocess
import time

import pytest
import redis

from tests import harness
from tests.scenario import matches, random_posts, send, wait_exact

OUTAGE_S = 30


class OwnRedis:
    """A redis-server of the test's own (the shared one is never stopped)."""

    def __init__(self, workdir) -> None:
        self.port = harness.free_port()
        self.dir = workdir
        self.binary = shutil.which("redis-server")
        assert self.binary, "redis-server is not installed (tools/stack.sh up installs it)"

    def start(self) -> None:
        subprocess.run(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
                "--pidfile",
                str(self.dir / "redis.pid"),
                "--logfile",
                str(self.dir / "redis.log"),
            ],
            check=True,
        )
        harness.wait_for(lambda: self.client().ping(), 10, "redis to answer")

    def stop(self) -> None:
        try:
            self.client().shutdown(nosave=True)
        except redis.ConnectionError:
            pass
        harness.wait_for(lambda: not harness.port_open("127.0.0.1", self.port), 10, "redis to stop")

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, socket_timeout=2)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def own_redis(tmp_path):
    r = OwnRedis(tmp_path)
    r.start()
    yield r
    r.stop()


def test_redis_outage_mid_stream(start_worker, worker_env, own_redis):
    w = start_worker(REDIS_URL=own_redis.url)
    pid = w.proc.pid
    script = random_posts(time.time(), 300, 4, seed=21)
    third = len(script.refreshes) // 3
    send(worker_env, worker_env["TOPIC_POSTS"], script.firsts)
    send(worker_env, worker_env["TOPIC_REFRESH"], script.refreshes[:third])
    harness.wait_for(lambda: own_redis.client().dbsize() >= 300, 60, "the mirror to fill")

    own_redis.stop()
    started = time.monotonic()
    send(worker_env, worker_env["TOPIC_REFRESH"], script.refreshes[third : 2 * third])
    harness.wait_for(
        lambda: w.metric("redditstream_redis_mirror_pending") > 0,
        30,
        "the mirror to report pending entries while Redis is down",
    )
    send(worker_env, worker_env["TOPIC_REFRESH"], script.refreshes[2 * third :])
    expected = script.expected()
    wait_exact(w, expected, timeout=OUTAGE_S)  # the table keeps going without Redis
    assert w.get_json("/ready/")["redis"].startswith("error")
    # Redis stays down OUTAGE_S in all: the rest of the outage is the scenario, not a wait
    time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - started)))

    own_redis.start()  # back, and empty: it kept nothing
    r = own_redis.client()

    def consistent() -> bool:
        return all(
            matches(
                r.hgetall(f"vel:{pid_}")
                or {"score": -1, "comments": -1, "ts": 0, "score_velocity": 0, "comment_velocity": 0},
                want,
            )
            for pid_, want in expected.items()
        )

    harness.wait_for(consistent, 60, "the mirror to be rebuilt and consistent with the table")
    assert w.metric("redditstream_redis_mirror_pending") == 0
    assert w.alive() and w.proc.pid == pid
    wait_exact(w, expected, timeout=10)
