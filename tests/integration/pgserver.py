"""A throwaway PostgreSQL server of a test's own (so that it can be stopped: never the shared one)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests import harness

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@dataclass
class PgServer:
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/redditstream"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args),
            check=True,
            capture_output=True,
            timeout=90,
        )

    #: server settings added to the defaults below (a subclass's)
    options = ""

    def start(self) -> None:
        self._ctl(
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
            "-o",
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} "
            f"-c fsync=off -c synchronous_commit=off -c full_page_writes=off {self.options}",
        )

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    @classmethod
    def create(cls) -> PgServer:
        root = Path(tempfile.mkdtemp(prefix="rs-pg-", dir="/var/tmp"))
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        root.chmod(0o700)
        srv = cls(root, harness.free_port())
        subprocess.run(
            _as_postgres(
                str(PG_BIN / "initdb"),
                "-D",
                str(srv.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )
        srv.start()
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(srv.port), "-U", "postgres", "redditstream"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        proc = subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(harness.ROOT / "alembic.ini"), "upgrade", "head"],
            cwd=harness.ROOT,
            env={**os.environ, "DATABASE_URL": srv.url},
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        return srv

    def destroy(self) -> None:
        try:
            self.stop()
        except subprocess.SubprocessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
