"""What an API error means for ingest: retry (with streams.retry.Backoff), wait out a 429, or drop (pure)."""

from __future__ import annotations

import time
from collections.abc import Mapping

from asyncprawcore import exceptions as praw_exc

RETRY, RATE_LIMITED, DROP = "retry", "rate_limited", "drop"


def reset_seconds(headers: Mapping[str, str], default: float = 1.0, now: float | None = None) -> float:
    """How long a 429 asks us to wait: `x-ratelimit-reset`, else `retry-after`, else `default`.
    Seconds, or an epoch time (a value past 10^9: the wait is until then)."""
    for name in ("x-ratelimit-reset", "retry-after"):
        raw = headers.get(name)
        if raw is not None:
            try:
                value = float(raw)
            except ValueError:
                continue
            if value > 1e9:
                value -= time.time() if now is None else now
            return max(value, 0.0)
    return default


def classify(exc: BaseException) -> str:
    """RATE_LIMITED (429), DROP (the subreddit does not exist or is closed to us), or RETRY."""
    if isinstance(exc, praw_exc.TooManyRequests):
        return RATE_LIMITED
    if isinstance(exc, (praw_exc.NotFound, praw_exc.Forbidden, praw_exc.Redirect, praw_exc.UnavailableForLegalReasons)):
        return DROP
    if getattr(exc, "permanent", False):  # the archive's own client errors (streams.archive.client)
        return DROP
    return RETRY


def outcome(exc: BaseException | None) -> str:
    """The label of `redditstream_ingest_api_requests_total{outcome}`."""
    if exc is None:
        return "ok"
    kind = classify(exc)
    if kind == RATE_LIMITED:
        return "rate_limited"
    if kind == DROP:
        return "not_found"
    if isinstance(exc, praw_exc.ServerError):
        return "server_error"
    if isinstance(exc, (praw_exc.RequestException, TimeoutError)):
        return "timeout" if "Timeout" in repr(getattr(exc, "original_exception", exc)) else "network_error"
    return "error"
