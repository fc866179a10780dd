"""The archive's HTTP client: paced requests, the rate-limit headers honoured, failures retried.

Every request goes through :meth:`ArchiveClient.get`:
- at most `ARCHIVE_REQUESTS_PER_SECOND` (one pacer shared by every task of the process);
- when `X-RateLimit-Remaining` falls to `ARCHIVE_RATELIMIT_RESERVE`, the next request waits for
  `X-RateLimit-Reset` (seconds, or an epoch time); a 429 waits for it too, then retries;
- 5xx, timeouts, network errors, an answer that is not JSON, and the archive's error bodies of
  load — HTTP 422 `{"data": null, "error": "Timeout. Maybe slow down a bit"}` (a throttle wearing a
  client-error status) and "Query timed out" — are retried with the project's one backoff
  (streams.retry.Backoff), `ARCHIVE_RETRY_ATTEMPTS` attempts in all, then :class:`GaveUp`;
- any other 4xx (a 422 with another message, a 400, a 404) is a real client error:
  :class:`ClientError` at once, never retried.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import aiohttp

from streams.archive.config import ArchiveConfig
from streams.ingest.backoff import reset_seconds
from streams.retry import Backoff

log = logging.getLogger("streams.archive")
KINDS = ("posts", "comments")
RETRIED_ERRORS = ("timeout. maybe slow down", "query timed out")  # the error bodies of load (lower case)
USER_AGENT = "redditstream (https://github.com/redditstream; archive backfill)"


class ArchiveError(Exception):
    """A request that did not succeed; `reason` is one short word for the summary."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class ClientError(ArchiveError):
    """The archive refused the request itself (a 4xx that is not its throttle): not retried."""

    permanent = True  # streams.ingest.backoff.classify: dropped, as Reddit's 404


class GaveUp(ArchiveError):
    """`ARCHIVE_RETRY_ATTEMPTS` attempts failed."""


class Retry(Exception):
    def __init__(self, outcome: str, detail: str, wait: float | None = None) -> None:
        super().__init__(detail)
        self.outcome, self.wait = outcome, wait


def classify(status: int, body: Any, headers: Mapping[str, str]) -> list[dict]:
    """An answer → its data, or raise Retry / ClientError (pure)."""
    error = body.get("error") if isinstance(body, dict) else None
    text = str(error or "").lower()
    if status == 429:
        raise Retry("rate_limited", "429 Too Many Requests", reset_seconds(headers))
    if status >= 500:
        raise Retry("server_error", f"HTTP {status}")
    if any(marker in text for marker in RETRIED_ERRORS):
        raise Retry("throttled", f"HTTP {status}: {error}")
    if status >= 400:
        raise ClientError("client_error", f"HTTP {status}: {error or 'no reason given'}")
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise Retry("bad_answer", f"HTTP {status}: no data list in the answer ({str(error or body)[:80]})")
    return body["data"]


class Pacer:
    """At most `rate` starts per second, and a pause everyone waits out (a rate-limit reset)."""

    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = 1.0 / rate
        self.clock = clock
        self.next_at = 0.0
        self.blocked_until = 0.0

    def block(self, seconds: float) -> None:
        self.blocked_until = max(self.blocked_until, self.clock() + seconds)

    def reserve(self) -> float:
        """Seconds to wait before the next request may start (and books it)."""
        now = self.clock()
        start = max(now, self.next_at, self.blocked_until)
        self.next_at = start + self.interval
        return start - now


class ArchiveClient:
    def __init__(
        self,
        config: ArchiveConfig,
        session: aiohttp.ClientSession | None = None,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self.session = session
        self.sleep = sleep
        self.pacer = Pacer(config.requests_per_second)
        self.retry = Backoff(base=config.retry_base_seconds, cap=config.retry_max_seconds)
        self.outcomes: collections.Counter[str] = collections.Counter()

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    async def search(
        self,
        kind: str,
        subreddit: str,
        *,
        after: int | None = None,
        before: int | None = None,
        sort: str = "asc",
        limit: int | str = 100,
    ) -> list[dict]:
        """One page of `/api/{kind}/search` (posts or comments) by created_utc."""
        params: dict[str, str] = {"subreddit": subreddit, "sort": sort, "limit": str(limit)}
        if after is not None:
            params["after"] = str(int(after))
        if before is not None:
            params["before"] = str(int(before))
        return await self.get(f"/api/{kind}/search", params, f"{kind} of r/{subreddit}")

    async def ids(self, kind: str, ids: list[str]) -> list[dict]:
        """`/api/{kind}/ids` for up to 500 ids."""
        if not 0 < len(ids) <= 500:
            raise ValueError("/api/*/ids takes 1 to 500 ids")
        return await self.get(f"/api/{kind}/ids", {"ids": ",".join(ids)}, f"{len(ids)} {kind} by id")

    async def get(self, path: str, params: dict[str, str], what: str) -> list[dict]:
        if self.session is None:
            self.session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.timeout_seconds), headers={"User-Agent": USER_AGENT}
            )
        url = self.config.api_url + path
        last = ""
        for attempt in range(self.config.retry_attempts):
            wait = self.pacer.reserve()
            if wait > 0:
                await self.sleep(wait)
            try:
                async with self.session.get(url, params=params) as resp:
                    try:
                        body = await resp.json(content_type=None)
                    except ValueError:
                        body = None
                    self._honour(resp.headers)
                    data = classify(resp.status, body, resp.headers)
            except Retry as exc:
                self.outcomes[exc.outcome] += 1
                last = str(exc)
                if exc.wait is not None:  # a 429: everyone waits for the reset, then this retries
                    self.pacer.block(exc.wait)
                    log.warning("%s: %s; every request waits %.1fs", what, exc, exc.wait)
                    continue
            except ClientError:
                self.outcomes["client_error"] += 1
                raise
            except (TimeoutError, aiohttp.ClientError) as exc:
                outcome = "timeout" if isinstance(exc, TimeoutError) else "network_error"
                self.outcomes[outcome] += 1
                last = f"{outcome} ({type(exc).__name__})"
            else:
                self.outcomes["ok"] += 1
                return data
            delay = self.retry.delay(attempt)
            log.warning("%s: %s; retry %d in %.2fs", what, last, attempt + 1, delay)
            await self.sleep(delay)
        raise GaveUp("gave_up", f"{what}: {self.config.retry_attempts} attempts failed, the last: {last}")

    def _honour(self, headers: Mapping[str, str]) -> None:
        remaining = headers.get("X-RateLimit-Remaining")
        if remaining is None:
            return
        try:
            low = float(remaining) <= self.config.ratelimit_reserve
        except ValueError:
            return
        if low:
            self.pacer.block(reset_seconds(headers))

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
