"""`tools/stack.sh down` (`make down`) stops what its `up` started and names what it leaves
running. Run on a copy of the script whose `up` "started" a throwaway Redis only: the shared
Kafka and PostgreSQL of the test stack must be named as left running, and still answer."""

from __future__ import annotations

import os
import shutil
import subprocess

from tests import harness


def test_down_stops_what_up_started_and_names_what_it_leaves(stack, tmp_path):
    port = harness.free_port()
    redis_dir = tmp_path / "redis"
    redis_dir.mkdir()
    subprocess.run(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes", "--dir", str(redis_dir),
         "--pidfile", str(redis_dir / "redis.pid"), "--save", "", "--appendonly", "no"],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        harness.wait_for(lambda: harness.port_open("127.0.0.1", port), 10, "the throwaway redis")
        root = tmp_path / "checkout"
        (root / "tools").mkdir(parents=True)
        shutil.copy2(harness.ROOT / "tools/stack.sh", root / "tools/stack.sh")
        state = root / ".cache/stack"
        state.mkdir(parents=True)
        (state / "env").write_text(
            f"KAFKA_BROKER_URL={stack['KAFKA_BROKER_URL']}\n"
            f"DATABASE_URL={stack['DATABASE_URL']}\n"
            f"REDIS_URL=redis://127.0.0.1:{port}/0\n"
        )
        (state / "started").write_text("redis\n")  # what this checkout's `up` started
        env = {k: v for k, v in os.environ.items() if not k.endswith(("_URL", "_PORT"))}
        proc = subprocess.run(
            [str(root / "tools/stack.sh"), "down"],
            env={**env, "REDIS_PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        kafka, pg = stack["KAFKA_BROKER_URL"], stack["DATABASE_URL"]
        pg_shown = pg.split("://", 1)[0] + "://" + pg.split("@", 1)[-1] if "@" in pg else pg
        out = proc.stderr
        assert f"redis: stopped (redis://127.0.0.1:{port}/0)" in out, out
        assert f"kafka: left running at {kafka}" in out, out
        assert f"postgres: left running at {pg_shown}" in out, out
        assert f"down: stopped redis; left running kafka ({kafka}), postgres ({pg_shown})" in out, out
        assert not harness.port_open("127.0.0.1", port), "redis still answers"
        assert not (state / "started").exists()
        for url in (kafka, pg):  # the shared servers are untouched
            host, p = harness._hostport(url, 0)
            assert harness.port_open(host, p), f"{url} stopped"
    finally:
        pid = redis_dir / "redis.pid"
        if harness.port_open("127.0.0.1", port) and pid.exists():
            subprocess.run(["kill", pid.read_text().strip()], check=False)
