"""Production connections against real servers that require them (`tools/stack.sh secure`):
Kafka with a SASL_SSL listener (SCRAM-SHA-512) and a mutual-TLS one, PostgreSQL that takes TLS
only (`sslmode=verify-full`), Redis that speaks TLS only (`rediss://` with the CA).

End to end through each listener: the simulator → ingest → a worker → PostgreSQL, every post
exactly once, a backfill and a DLQ replay through the same listener; each misconfiguration ends the
process with its one line and exit status 3 (2 for a refused setting); the password is in no
log line, `/debug/` view, `/ready/` answer or error message."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis as redis_lib

from tests import harness
from tests.dumps import submission, write_zst
from tests.ingest_support import Simulator, procs  # noqa: F401 - fixture
from tests.scenario import sink_dead_letter

q = harness.query
CERTS = harness.ROOT / ".cache/tls"


@pytest.fixture(scope="module")
def secure(stack) -> dict[str, str]:
    """The secured services' settings (started by tools/stack.sh secure when not running)."""
    proc = subprocess.run(
        [str(harness.ROOT / "tools/stack.sh"), "secure"], cwd=harness.ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 0, f"tools/stack.sh secure failed:\n{proc.stdout}\n{proc.stderr}"
    env = harness.read_env_file(harness.ROOT / ".cache/stack/secure.env")
    assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and "sslmode=verify-full" in env["DATABASE_URL"]
    assert env["REDIS_URL"].startswith("rediss://")
    return env


@pytest.fixture(scope="module")
def tls_database(secure) -> Iterator[str]:
    url = harness.create_database(secure["DATABASE_URL"], harness.unique("t_secure_"))
    yield url
    harness.drop_database(url)


def mutual_tls(secure: dict[str, str]) -> dict[str, str]:
    port = int(secure["KAFKA_BROKER_URL"].rsplit(":", 1)[1]) + 1
    return {
        "KAFKA_BROKER_URL": f"kafka://127.0.0.1:{port}",
        "KAFKA_SECURITY_PROTOCOL": "SSL",
        "KAFKA_SASL_USERNAME": "",
        "KAFKA_SASL_PASSWORD": "",
        "KAFKA_SSL_CAFILE": str(CERTS / "ca.pem"),
        "KAFKA_SSL_CERTFILE": str(CERTS / "client.pem"),
        "KAFKA_SSL_KEYFILE": str(CERTS / "client.key"),
    }


@pytest.fixture
def env_for(worker_env, secure, tls_database) -> Iterator:
    """A worker's environment on its own topics over the secured services (listener: "sasl" or
    "mtls"), with a Redis database of its own over TLS, for ingest and the simulator too."""
    dbs: list[str] = []

    def make(listener: str) -> dict[str, str]:
        harness.query(tls_database, "TRUNCATE posts, post_metrics_history, dlq_events")
        redis_url = secure["REDIS_URL"].replace("/0?", f"/{40 + len(dbs)}?")
        dbs.append(redis_url)
        redis_lib.Redis.from_url(redis_url).flushdb()
        port = harness.free_port()
        env = {**worker_env, **secure, "DATABASE_URL": tls_database, "REDIS_URL": redis_url}
        if listener == "mtls":
            env.update(mutual_tls(secure))
        env.update(
            {
                "SIMULATOR_PORT": str(port),
                "REDDIT_API_URL": f"http://127.0.0.1:{port}",
                "REDDIT_CLIENT_ID": "test",
                "REDDIT_CLIENT_SECRET": "test",
                "SIMULATOR_SPEED": "0",
                "INGEST_POLL_SECONDS": "0.5",
                "INGEST_RETRY_BASE_SECONDS": "0.2",
                "INGEST_RETRY_MAX_SECONDS": "2",
                "REFRESH_TIERS": "48:3600",
            }
        )
        return env

    yield make
    for url in dbs:
        redis_lib.Redis.from_url(url).flushdb()


def ingest_end_to_end(env: dict[str, str], start_worker, procs) -> harness.Worker:
    """The simulator's posts through ingest and a worker into PostgreSQL: every post exactly once."""
    subs = ["alpha", "beta"]
    env = {**env, "SUBREDDITS": ",".join(subs), "SIMULATOR_SUBREDDITS": ",".join(subs), "SIMULATOR_HISTORY_POSTS": "60"}
    w = start_worker(**env)
    sim: Simulator = procs("simulate", env)
    ids = {i for s in subs for i in sim.post_ids(s)}
    ingest = procs("ingest", env, "ingest")
    url = env["DATABASE_URL"]
    harness.wait_for(
        lambda: q(url, "SELECT count(*) FROM posts")[0][0] >= len(ids), 120, f"the posts in PostgreSQL\n{ingest.tail()}"
    )
    rows = q(url, "SELECT post_id, count(*) FROM posts GROUP BY post_id")
    assert {r[0] for r in rows} == ids and all(n == 1 for _, n in rows)
    # every connection of this database is TLS (the server takes no other), verified against the CA
    assert q(
        url,
        "SELECT bool_and(ssl) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE datname = current_database()",
    ) == [(True,)]
    # the velocity mirror reached Redis over TLS
    mirror = redis_lib.Redis.from_url(env["REDIS_URL"])
    harness.wait_for(lambda: mirror.dbsize() > 0, 60, "the velocity mirror in Redis")
    assert ingest.stop() == 0, ingest.tail()
    return w


SECURITY = {
    "sasl": "SASL_SSL, SCRAM-SHA-512 as 'redditstream', CA ",
    "mtls": "SSL, CA ",
}


@pytest.mark.parametrize("listener", list(SECURITY))
def test_end_to_end_with_backfill_and_replay(listener, env_for, secure, start_worker, procs, tmp_path):
    env = env_for(listener)
    password = secure["KAFKA_SASL_PASSWORD"]
    w = ingest_end_to_end(env, start_worker, procs)
    url = env["DATABASE_URL"]

    ready = w.get_json("/ready/")
    assert ready["ready"] is True
    connection = ready["kafka"]["connection"]
    assert connection["state"] == "ok", connection
    assert connection["security"].startswith(SECURITY[listener]), connection
    if listener == "mtls":
        assert connection["security"].endswith(f"client certificate {CERTS / 'client.pem'}")

    # a backfill produces through the listener
    now = time.time()
    dump = write_zst(
        tmp_path / "RS_secure.zst",
        [submission(i, generation="new", sub="gamma", created=now - 86400 + i, prefix="b") for i in range(50)],
    )
    proc = harness.faust("backfill", str(dump), env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1])["produced"] == 50
    harness.wait_for(
        lambda: q(url, "SELECT count(*) FROM posts WHERE subreddit = 'gamma'")[0][0] == 50, 120, "the backfill's posts"
    )

    # a dead letter fixed and replayed through the worker's producer lands in posts
    sink_dead_letter(env, "fix1")
    (letter_id,) = q(url, "SELECT id FROM dlq_events")[0]
    status, _, body = w.request(f"/dlq/replay/{letter_id}/", "POST", admin=True, body=b"")
    assert (status, json.loads(body)["replayed"]) == (200, 1)
    harness.wait_for(
        lambda: q(url, "SELECT count(*) FROM posts WHERE post_id = 'fix1'") == [(1,)], 60, "the replayed post"
    )

    # the password is in no answer of the worker, no log line, no command output
    views = ["/ready/", "/health/", "/debug/partitions/", "/debug/tasks/", "/metrics"]
    for path in views:
        status, _, body = w.request(path, admin=True)
        assert status == 200 and password.encode() not in body, path
    logs = [p.read_text(errors="replace") for p in Path(tmp_path).glob("*.log")]
    assert logs and all(password not in text for text in logs)
    assert password not in proc.stdout + proc.stderr


FAILURES = {
    # name: (overrides, exit status, what the one line says)
    "wrong password": ({"KAFKA_SASL_PASSWORD": "not-the-password"}, 3, "authentication failed for user 'redditstream'"),
    "mechanism the broker does not enable": (
        {"KAFKA_SASL_MECHANISM": "SCRAM-SHA-256"},
        3,
        "the broker does not enable KAFKA_SASL_MECHANISM=SCRAM-SHA-256",
    ),
    "unknown mechanism": ({"KAFKA_SASL_MECHANISM": "GSSAPI"}, 2, "invalid setting KAFKA_SASL_MECHANISM: 'GSSAPI'"),
    "CA that does not match": (
        {"KAFKA_SSL_CAFILE": str(CERTS / "other-ca.pem")},
        3,
        "the broker's certificate is not trusted",
    ),
    "PLAINTEXT client on a TLS port": (
        {
            "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
            "KAFKA_SASL_USERNAME": "",
            "KAFKA_SASL_PASSWORD": "",
            "KAFKA_SSL_CAFILE": "",
        },
        3,
        "the listener speaks TLS and KAFKA_SECURITY_PROTOCOL=PLAINTEXT does not",
    ),
    "no client certificate on the mutual-TLS port": ("mtls-no-cert", 3, "the broker refused this client's certificate"),
    "a CA file that does not exist": (
        {"KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"},
        2,
        "invalid setting KAFKA_SSL_CAFILE",
    ),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_a_connection_that_cannot_work_stops_ingest_with_one_line(case, env_for, tmp_path):
    env = env_for("sasl")
    overrides, status, says = FAILURES[case]
    if overrides == "mtls-no-cert":
        overrides = {**mutual_tls(env), "KAFKA_SSL_CERTFILE": "", "KAFKA_SSL_KEYFILE": ""}
    proc = harness.faust("ingest", env={**env, **overrides}, cwd=tmp_path, timeout=120)
    out = proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "redditstream:" in line]
    assert proc.returncode == status, out[-3000:]
    assert len(lines) == 1 and says in lines[0], out[-3000:]
    assert "Traceback" not in out
    assert env["KAFKA_SASL_PASSWORD"] not in out


def test_a_worker_with_a_wrong_password_stops_with_one_line(env_for, worker_env, tmp_path):
    env = {**env_for("sasl"), "KAFKA_SASL_PASSWORD": "not-the-password"}
    w = harness.Worker(env=env, name="w-badpw", workdir=tmp_path).start(wait_ready=False)
    assert w.wait(120) == 3, w.tail()
    text = w.log_text()
    assert "authentication failed for user 'redditstream' with SCRAM-SHA-512" in text
    assert "Traceback" not in text and "not-the-password" not in text


def test_a_backfill_gives_up_on_an_absent_broker_with_one_line(env_for, tmp_path):
    env = {
        **env_for("sasl"),
        "KAFKA_BROKER_URL": f"kafka://127.0.0.1:{harness.free_port()}",
        "INGEST_RETRY_MAX_SECONDS": "1",
    }
    dump = write_zst(
        tmp_path / "RS_x.zst", [submission(0, generation="new", sub="gamma", created=time.time(), prefix="x")]
    )
    proc = harness.faust("backfill", str(dump), env=env, cwd=tmp_path, timeout=120)
    lines = [line for line in proc.stderr.splitlines() if "redditstream:" in line]
    assert proc.returncode == 3 and len(lines) == 1 and "cannot connect" in lines[0] and "gave up after" in lines[0], (
        proc.stderr[-3000:]
    )
    assert "Traceback" not in proc.stderr


def test_postgres_and_redis_refuse_a_client_without_tls(secure):
    plain_pg = secure["DATABASE_URL"].replace("sslmode=verify-full", "sslmode=disable")
    with pytest.raises(psycopg.OperationalError, match="no encryption"):
        psycopg.connect(plain_pg, connect_timeout=5).close()
    other_ca = secure["DATABASE_URL"].replace(str(CERTS / "ca.pem"), str(CERTS / "other-ca.pem"))
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        psycopg.connect(other_ca, connect_timeout=5).close()
    plain_redis = secure["REDIS_URL"].replace("rediss://", "redis://").split("?")[0]
    with pytest.raises(redis_lib.ConnectionError):
        redis_lib.Redis.from_url(plain_redis, socket_timeout=3).ping()
    assert redis_lib.Redis.from_url(secure["REDIS_URL"]).ping()


def test_ready_names_the_authentication_state_when_the_password_is_rotated_away(env_for, start_worker):
    user, first, second = harness.unique("rotating-"), harness.unique("pw-"), harness.unique("pw-")
    scram = [str(harness.ROOT / "tools/kafka/kafka.sh"), "scram-user", user]
    subprocess.run([*scram, first], check=True, capture_output=True, timeout=120)
    env = {**env_for("sasl"), "KAFKA_SASL_USERNAME": user, "KAFKA_SASL_PASSWORD": first}
    w = start_worker(**env)
    connection = w.get_json("/ready/")["kafka"]["connection"]
    assert connection["state"] == "ok" and f"as '{user}'" in connection["security"], connection

    subprocess.run([*scram, second], check=True, capture_output=True, timeout=120)  # rotated on the cluster

    def refused() -> dict | None:
        status, _, body = w.request("/ready/")
        answer = json.loads(body)
        return answer if status == 503 and answer["kafka"]["connection"]["state"] == "failed" else None

    answer = harness.wait_for(refused, 60, "/ready/ to report the refused credentials")
    assert answer["ready"] is False
    assert f"authentication failed for user '{user}'" in answer["kafka"]["connection"]["detail"]
    assert first not in json.dumps(answer) and second not in w.log_text()
