"""The web server's aiohttp middleware: request seconds by route and status, and JSON errors.

Mounted through faust's `web_application_options` (streams/app.py). aiohttp's own answers (no
such route, method not allowed) become `{"error": ...}` like the API's; anything a handler lets
escape is logged with its traceback and answered `{"error": "internal error"}` — the client gets
no traceback. Every JSON or text answer says `charset=utf-8` (one `Content-Type` per kind of
body, whichever faust helper built it). Requests aiohttp cannot parse never reach a middleware:
streams.runtime.http answers those. Imports nothing of the app, so streams/app.py can use it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import Histogram

from streams.runtime.http import json_error

log = logging.getLogger(__name__)
REQUEST_SECONDS = Histogram(
    "redditstream_http_request_seconds",
    "Web requests by route template, method and status",
    ["route", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route_of(request: web.Request) -> str:
    """The route's template (`/api/posts/{post_id}/`), never the raw path (bounded label values)."""
    try:
        info = request.match_info.route.resource
        return info.canonical if info is not None else "unmatched"
    except AttributeError:
        return "unmatched"


def with_charset(response: web.StreamResponse) -> web.StreamResponse:
    """`application/json` and `text/*` bodies as `…; charset=utf-8` (a file or an event stream,
    which set their type when they start, are left as they are)."""
    if (
        type(response) is web.Response
        and response.charset is None
        and (response.content_type == "application/json" or response.content_type.startswith("text/"))
    ):
        response.charset = "utf-8"
    return response


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return with_charset(response)
    except web.HTTPException as exc:
        status = exc.status
        if exc.status < 400:
            raise
        reason = {404: f"no route {request.path}", 405: f"{request.method} is not allowed on {request.path}"}.get(
            exc.status, exc.reason
        )
        return json_error(exc.status, reason, headers={k: v for k, v in exc.headers.items() if k.lower() == "allow"})
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return json_error(500, "internal error")
    finally:
        REQUEST_SECONDS.labels(route_of(request), request.method, str(status)).observe(time.perf_counter() - started)
