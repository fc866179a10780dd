"""The live dashboard: `GET /` (the page), its files, and `GET /api/live/` (server-sent events).

The page (web/static/) reads the JSON API every few seconds and this worker's counters from
`/api/live/`: one `data:` event every LIVE_INTERVAL seconds with the rates of this worker's
counters (events processed, dead letters, rows committed) since the previous event. Charts use
uPlot, served (`/vendor/…`) from web/vendor/: package data of the wheel, a copy of the files that
`npm ci` installs from tools/dashboard/package-lock.json (`make vendor` refreshes it;
tests/unit/test_packaging.py checks that it is that copy).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

from aiohttp import web as aioweb

from streams.app import app
from web.errors import NotFound
from web.params import Query

STATIC = Path(__file__).resolve().parent / "static"
VENDOR = Path(__file__).resolve().parent / "vendor"
VENDOR_FILES = {"uPlot.iife.min.js", "uPlot.min.css"}
TYPES = {
    ".html": "text/html",
    ".js": "application/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
LIVE_INTERVAL = 2.0
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _file(path: Path) -> aioweb.Response:
    if not path.is_file():
        raise NotFound(f"no file {path.name}")
    return aioweb.Response(
        body=path.read_bytes(),
        content_type=TYPES.get(path.suffix, "application/octet-stream"),
        headers={"Cache-Control": "no-cache"},
    )


@app.page("/")
async def index(web, request):
    Query(request, ())
    return _file(STATIC / "index.html")


@app.page("/static/{name}")
async def static(web, request, name: str):
    if not _NAME.match(name) or name.startswith("."):
        raise NotFound(f"no file {name[:64]}")
    return _file(STATIC / name)


@app.page("/vendor/{name}")
async def vendor(web, request, name: str):
    if name not in VENDOR_FILES:
        raise NotFound(f"no file {name[:64]}")
    return _file(VENDOR / name)


def totals() -> dict[str, float]:
    """This worker's counters, read in-process from the prometheus counters themselves (not the
    whole registry: its collectors read the consumer and the pools)."""
    from streams.metrics import DEAD_LETTERS, EVENTS, SINK_ROWS

    out = {"events": 0.0, "dead_letters": 0.0, "rows": 0.0}
    for key, counter in (("events", EVENTS), ("dead_letters", DEAD_LETTERS), ("rows", SINK_ROWS)):
        for family in counter.collect():
            for s in family.samples:
                if not s.name.endswith("_total"):
                    continue
                if key == "rows" and s.labels.get("outcome") != "written":
                    out["dead_letters"] += s.value  # the sink's dead letters (rows it could not write)
                else:
                    out[key] += s.value
    return out


def rates(before: dict[str, float], after: dict[str, float], seconds: float) -> dict[str, float]:
    return {f"{k}_per_s": round(max(after[k] - before[k], 0.0) / seconds, 2) for k in after}


@app.page("/api/live/")
async def live(view, request):
    """Server-sent events: `{"at", "events_per_s", "dead_letters_per_s", "rows_per_s", "events",
    "dead_letters", "rows"}` every LIVE_INTERVAL s, until the client goes away."""
    Query(request, ())
    response = aioweb.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )
    await response.prepare(request)
    before, t0 = totals(), time.monotonic()
    try:
        await response.write(b"retry: 3000\n\n")
        # the web service's sleep ends when the worker stops: an open page must not hold up the
        # server's shutdown (aiohttp waits up to 60 s for running handlers)
        while True:
            await view.web.sleep(LIVE_INTERVAL)
            if view.web.should_stop:
                break
            after, t1 = totals(), time.monotonic()
            event = {"at": time.time(), **rates(before, after, t1 - t0), **{k: v for k, v in after.items()}}
            await response.write(b"data: " + json.dumps(event).encode() + b"\n\n")
            before, t0 = after, t1
    except (ConnectionResetError, asyncio.CancelledError):
        pass  # the client went away, or the server is stopping
    return response
