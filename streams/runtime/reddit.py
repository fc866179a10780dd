"""asyncpraw's request machinery adjusted for ingest (private attributes, verified versions:
streams.runtime.versions).

asyncprawcore's own retries (2 on 5xx, with sleeps) are turned off, since the scheduler owns
backoff (streams.ingest.backoff) and one failing call must be one request; its rate limiter is
replaced by ingest's shared budget (streams.ingest.budget)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asyncprawcore.sessions import FiniteRetryStrategy


@dataclass(frozen=True)
class NoRetry(FiniteRetryStrategy):
    DEFAULT_RETRIES = 0
    retries: int = 0


def use_limiter_without_retries(reddit: Any, limiter: Any) -> None:
    """Every session of `reddit` (an asyncpraw.Reddit) without retries, limited by `limiter`."""
    for core in {id(c): c for c in (reddit._core, reddit._read_only_core, reddit._authorized_core) if c}.values():
        core._retry_strategy_class = NoRetry
        core._rate_limiter = limiter
