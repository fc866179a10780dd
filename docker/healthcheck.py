"""The image's HEALTHCHECK (stdlib only: the slim image has no curl).

    python /app/docker/healthcheck.py                  GET the worker's /health/ on WEB_PORT
    python /app/docker/healthcheck.py URL              GET URL (ingest: its /metrics)
    python /app/docker/healthcheck.py tcp://HOST:PORT  connect only (the simulator: no log line)

Exit 0 when the answer is a 2xx (or the connection opens), 1 otherwise, with the reason on stderr.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
from urllib.parse import urlsplit

TIMEOUT = float(os.environ.get("HEALTHCHECK_TIMEOUT", "4"))


def check(target: str) -> None:
    if target.startswith("tcp://"):
        parts = urlsplit(target)
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 0), timeout=TIMEOUT):
            return
    with urllib.request.urlopen(target, timeout=TIMEOUT) as resp:
        if not 200 <= resp.status < 300:
            raise RuntimeError(f"status {resp.status}")


def main(argv: list[str]) -> int:
    target = argv[1] if len(argv) > 1 else f"http://127.0.0.1:{os.environ.get('WEB_PORT', '6066')}/health/"
    try:
        check(target)
    except Exception as exc:  # noqa: BLE001 - any failure is "unhealthy"
        print(f"unhealthy: {target}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
