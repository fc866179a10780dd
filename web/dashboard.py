"""The live dashboard: `GET /` (the page), its files, `GET /api/live/` (server-sent events) and
`GET /api/rates/` (the whole group's throughput per minute).

The page (web/static/) reads the JSON API every few seconds and this worker's counters from
`/api/live/`: one `data:` event every LIVE_INTERVAL seconds with the rates of this worker's
counters (events processed, dead letters, rows committed) since the previous event. Its
throughput chart reads `/api/rates/`: rows per minute of the last RATE_MINUTES minutes as the
database holds them (`post_metrics_history` by `observed_at`, `dlq_events` by `failed_at`),
so it counts every worker of the group and has its history as soon as the page opens. Charts use
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

from streams.app import app, settings
from web.cache import CachedValue
from web.errors import NotFound
from web.params import Query
from web.queries import iso, iso_sql
from web.resources import database, redis

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
RATE_MINUTES = 60
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _file(path: Path) -> aioweb.Response:
    if not path.is_file():
        raise NotFound(f"no file {path.name}")
    return aioweb.Response(
        body=path.read_bytes(),
        content_type=TYPES.get(path.suffix, "application/octet-stream"),
        headers={"Cache-Control": "no-cache"},
    )


SOURCE_NOTE = '<div id="source-note" class="notice" hidden>'


@app.page("/")
async def index(web, request):
    """The page; with REDDIT_SOURCE=archive its note that velocity and trending are off is shown."""
    Query(request, ())
    if settings.reddit_source != "archive":
        return _file(STATIC / "index.html")
    page = (STATIC / "index.html").read_text().replace(SOURCE_NOTE, SOURCE_NOTE.replace(" hidden", ""))
    return aioweb.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-cache"})


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


# One row per minute of the last RATE_MINUTES (zeros included), the current (partial) one last.
# Both tables are read on their time index (BRIN on observed_at, ix_dlq_events_failed_at).
RATES = f"""
WITH span AS (
    SELECT date_bin('1 minute', now(), TIMESTAMPTZ '2000-01-01 00:00:00+00') AS last, now() AS at
), bounds AS (
    SELECT last - make_interval(mins => %(minutes)s - 1) AS lo, last + interval '1 minute' AS hi, at FROM span
), minutes AS (
    SELECT generate_series(lo, hi - interval '1 minute', interval '1 minute') AS minute FROM bounds
), observed AS (
    SELECT date_bin('1 minute', observed_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS minute, count(*) AS n
      FROM post_metrics_history, bounds WHERE observed_at >= bounds.lo AND observed_at < bounds.hi GROUP BY 1
), dead AS (
    SELECT date_bin('1 minute', failed_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS minute, count(*) AS n
      FROM dlq_events, bounds WHERE failed_at >= bounds.lo AND failed_at < bounds.hi GROUP BY 1
)
SELECT coalesce(json_agg(json_build_object('minute', {iso_sql("m.minute")}, 'observations', coalesce(o.n, 0),
                                           'dead_letters', coalesce(d.n, 0)) ORDER BY m.minute), '[]'::json)
           AS minutes,
       (SELECT at FROM bounds) AS generated_at
  FROM minutes m LEFT JOIN observed o USING (minute) LEFT JOIN dead d USING (minute)
"""


async def _compute_rates() -> dict:
    row = await database.fetch_one("rates", RATES, {"minutes": RATE_MINUTES})
    assert row is not None
    return {"minutes": row["minutes"], "generated_at": iso(row["generated_at"])}


# cached like /api/stats/ (every open page asks every few seconds), but never longer than 5 s:
# the current minute grows while it is shown
rates_cache = CachedValue(redis, f"{settings.app_id}:api:rates", min(settings.stats_cache_ttl, 5), _compute_rates)


@app.page("/api/rates/")
async def rates_view(web, request):
    """The whole group's throughput: `{"minutes": [{"minute", "observations", "dead_letters"}],
    "generated_at", "cached"}`, oldest first, the last minute the current one (partial)."""
    Query(request, ())
    return web.json(await rates_cache.get())
