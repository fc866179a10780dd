"""The real services the integration tests use, and workers run as processes.

Nothing here skips: a service that cannot be reached or started fails the test loudly.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from urllib.error import URLError
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "test-admin-token-0123456789"  # the workers' ADMIN_TOKEN in tests (tests/conftest.py)
BIN = Path(sys.executable).parent


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - reported on timeout
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(
        f"timed out after {timeout:.0f}s waiting for {what}" + (f" (last error: {last_exc!r})" if last_exc else "")
    )


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of a `.env` file (python-dotenv's reading, as streams.settings does)."""
    from dotenv import dotenv_values

    return {k: v for k, v in dotenv_values(path).items() if v is not None} if path.is_file() else {}


def stack_env() -> dict[str, str]:
    """The running stack's URLs; starts it (tools/stack.sh up) when something does not answer."""
    env = read_env_file(ROOT / ".env.local")
    if not env or not _all_answer(env):
        proc = subprocess.run([str(ROOT / "tools/stack.sh"), "up"], cwd=ROOT, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"tools/stack.sh up failed:\n{proc.stdout}\n{proc.stderr}")
        env = read_env_file(ROOT / ".env.local")
    missing = [k for k in ("KAFKA_BROKER_URL", "DATABASE_URL", "REDIS_URL") if k not in env]
    if missing or not _all_answer(env):
        raise RuntimeError(f"the local stack does not answer ({env}); run `make up` and see its output")
    return env


def _hostport(url: str, default: int) -> tuple[str, int]:
    m = re.match(r"^[a-z+]+://(?:[^@/]*@)?([^:/;,]+)(?::(\d+))?", url)
    assert m, url
    return m.group(1), int(m.group(2) or default)


def _all_answer(env: Mapping[str, str]) -> bool:
    return all(
        port_open(*_hostport(env.get(k, ""), d))
        for k, d in (("KAFKA_BROKER_URL", 9092), ("DATABASE_URL", 5432), ("REDIS_URL", 6379))
        if env.get(k)
    )


def bootstrap(env: Mapping[str, str]) -> str:
    """aiokafka's bootstrap_servers from a KAFKA_BROKER_URL."""
    from streams.admin import bootstrap_servers  # imported late: it loads no settings, but keep the harness light

    return bootstrap_servers(env["KAFKA_BROKER_URL"])


def kafka(env: Mapping[str, str]) -> dict:
    """aiokafka's connection options for an environment: its bootstrap servers and its security
    (KAFKA_SECURITY_PROTOCOL, SASL, TLS: streams.kafka_client), for any aiokafka client."""
    from streams.kafka_client import options_of

    return {"bootstrap_servers": bootstrap(env), **options_of(env)}


def unique(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def faust(*args: str, env: Mapping[str, str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `faust -A streams <args>` to its end, stdout and stderr captured apart (text)."""
    return subprocess.run(
        [str(BIN / "faust"), "-A", "streams", *args],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Process:
    """A long-running process of a test: `faust -A streams <args>` (or any `argv`), in a session
    of its own, stdout and stderr in `workdir/<name>.log`. `stop()` is SIGTERM then, after a
    timeout, SIGKILL of the whole session; `kill()` is SIGKILL at once.

    The one process wrapper of the tests: `Worker` and the ingest / simulator wrappers
    (tests/ingest_support.py) are subclasses."""

    env: dict[str, str]
    name: str
    workdir: Path
    proc: subprocess.Popen | None = None
    args: tuple[str, ...] = ()  # faust's subcommand and its options, e.g. ("ingest",)
    argv: tuple[str, ...] | None = None  # a whole command line instead of faust's
    log_path: Path = field(init=False)
    killed: bool = field(init=False, default=False)  # stop() had to SIGKILL it

    def __post_init__(self) -> None:
        self.log_path = Path(self.workdir) / f"{self.name}.log"

    def command(self) -> list[str]:
        if self.argv is not None:
            return list(self.argv)
        return [str(BIN / "faust"), "-A", "streams", *self.args]

    def start(self) -> Process:
        with open(self.log_path, "ab") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None, f"{self.name} was never started"
        return self.proc.pid

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait(self, timeout: float) -> int:
        """Wait for it to exit by itself: its exit code (AssertionError, with the log's tail, on timeout)."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.name} still running after {timeout:.0f}s\n{self.tail()}") from None

    def stop(self, timeout: float = 90) -> int:
        """SIGTERM, then SIGKILL after `timeout` s: the exit code (negative for a signal)."""
        self.killed = False
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.killed = True
                self.kill()
        return self.proc.returncode if self.proc is not None else 0

    def kill(self) -> None:
        """SIGKILL of the process and everything in its session."""
        if self.alive():
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def events(self, name: str) -> list[dict]:
        """The JSON log lines (LOG_FORMAT=json) whose `event` is `name`, in order."""
        out = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if rec.get("event") == name:
                    out.append(rec)
        return out

    def tail(self, n: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-n:]) or "(no log)"


@dataclass
class Worker(Process):
    """A `faust -A streams worker` process."""

    args: tuple[str, ...] = ("worker", "-l", "info")

    @property
    def port(self) -> int:
        return int(self.env["WEB_PORT"])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait_ready: bool = True, timeout: float = 90) -> Worker:
        super().start()
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def request(
        self,
        path: str,
        method: str = "GET",
        *,
        admin: bool | None = None,
        body: bytes | None = None,
        timeout: float = 5.0,
    ):
        """(status, headers, body bytes) of a request; never raises on an HTTP error status.
        `admin`: send the worker's ADMIN_TOKEN (by default for `/debug/` paths)."""
        from urllib.error import HTTPError
        from urllib.request import Request

        headers = {}
        if (admin if admin is not None else path.startswith("/debug/")) and self.env.get("ADMIN_TOKEN"):
            headers["Authorization"] = f"Bearer {self.env['ADMIN_TOKEN']}"
        req = Request(self.url + path, method=method, data=body, headers=headers)
        try:
            with urlopen(req, timeout=timeout) as resp:
                return resp.status, dict(resp.headers), resp.read()
        except HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def get_json(self, path: str, timeout: float = 5.0):
        status, _, body = self.request(path, timeout=timeout)
        if status >= 400:
            from urllib.error import HTTPError

            raise HTTPError(self.url + path, status, body.decode(errors="replace")[:200], None, None)
        return json.loads(body)

    def get_text(self, path: str, timeout: float = 5.0) -> str:
        with urlopen(self.url + path, timeout=timeout) as resp:
            return resp.read().decode()

    def wait_ready(self, timeout: float = 90) -> None:
        def ready() -> bool:
            if not self.alive():
                raise AssertionError(f"worker {self.name} exited ({self.proc.returncode}):\n{self.tail()}")
            try:
                return bool(self.get_json("/ready/", timeout=2).get("ready"))
            except (URLError, OSError, ValueError):
                return False

        try:
            wait_for(ready, timeout, f"worker {self.name} to be ready")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n--- log tail ---\n{self.tail()}") from None

    def metric(self, name: str, **labels: str) -> float:
        """The value of one Prometheus sample from /metrics (0 when absent)."""
        text = self.get_text("/metrics")
        want = {k: str(v) for k, v in labels.items()}
        total = 0.0
        for line in text.splitlines():
            if not line.startswith(name) or line.startswith("#"):
                continue
            m = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$", line)
            if not m or m.group(1) != name:
                continue
            got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            if all(got.get(k) == v for k, v in want.items()):
                total += float(m.group(3))
        return total

    def stop(self, timeout: float = 60) -> bool:  # type: ignore[override]
        """SIGTERM, then SIGKILL after `timeout` s. True if the worker exited by itself."""
        super().stop(timeout)
        return not self.killed


def query(url: str, sql: str, params=None, **connect_args) -> list[tuple]:
    """The rows of one statement (none for a statement that returns none), autocommitted."""
    import psycopg

    with psycopg.connect(url, autocommit=True, **connect_args) as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def with_database(url: str, name: str) -> str:
    """The URL of database `name` on the server of `url` (its options, `?sslmode=…`, kept)."""
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _admin(url: str) -> str:
    return with_database(url, "postgres")


def create_database(url: str, name: str, migrate: bool = True) -> str:
    """A new database `name` on the server of `url`, migrated to head; its URL."""
    query(_admin(url), f'CREATE DATABASE "{name}"')
    new = with_database(url, name)
    if migrate:
        proc = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"],
            cwd=ROOT,
            env={**os.environ, "DATABASE_URL": new},
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, f"migrations failed:\n{proc.stderr}"
    return new


def drop_database(url: str) -> None:
    """Drop the database of `url` (its connections closed)."""
    from urllib.parse import urlsplit

    query(_admin(url), f'DROP DATABASE IF EXISTS "{urlsplit(url).path.lstrip("/")}" WITH (FORCE)')
