"""One API budget shared by every task: Reddit's `x-ratelimit-*` headers and 429s.

asyncprawcore keeps a rate limiter per session; :func:`streams.ingest.reddit.open_reddit`
replaces it with :class:`BudgetLimiter`, so every request of every task goes through
:meth:`Budget.acquire` and every response updates the one :class:`Budget`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

from streams.ingest.metrics import RATELIMIT_REMAINING, RATELIMIT_SLEEPS

log = logging.getLogger(__name__)


class Budget:
    def __init__(self, reserve: int = 5, clock=time.monotonic) -> None:
        self.reserve = reserve
        self.clock = clock
        self.remaining: float | None = None
        self.used: int | None = None
        self.reset_at: float = 0.0
        self.blocked_until: float = 0.0

    def wait_seconds(self) -> float:
        """How long a request must wait now (0 = go)."""
        now = self.clock()
        wait = max(self.blocked_until - now, 0.0)
        if self.remaining is not None and self.remaining <= self.reserve and self.reset_at > now:
            wait = max(wait, self.reset_at - now)
        return wait

    async def acquire(self) -> None:
        while (wait := self.wait_seconds()) > 0:
            RATELIMIT_SLEEPS.inc()
            log.warning("rate limit: every task waits %.1fs (remaining=%s)", wait, self.remaining)
            await asyncio.sleep(wait)
        if self.remaining is not None:
            self.remaining -= 1  # spent now; the response's headers correct it

    def update(self, headers: Mapping[str, str]) -> None:
        if "x-ratelimit-remaining" not in headers:
            return
        try:
            self.remaining = float(headers["x-ratelimit-remaining"])
            self.used = int(float(headers.get("x-ratelimit-used", "0")))
            self.reset_at = self.clock() + float(headers.get("x-ratelimit-reset", "0"))
            RATELIMIT_REMAINING.set(self.remaining)
        except ValueError:
            log.warning("unreadable rate-limit headers: %s", dict(headers))

    def block(self, seconds: float) -> None:
        """After a 429: nobody sends before `seconds` have passed."""
        self.blocked_until = max(self.blocked_until, self.clock() + seconds)


class Share:
    """At most `fraction` of each rate-limit window for one kind of request (the comment pollers),
    on top of the shared budget: the posts keep the rest.

    The window is the budget's (Reddit's `x-ratelimit-*` headers: its size is used + remaining, it
    ends at the reset); before any header is seen nothing is held back."""

    def __init__(self, budget: Budget, fraction: float, clock=time.monotonic) -> None:
        self.budget = budget
        self.fraction = fraction
        self.clock = clock
        self.spent = 0  # requests of this kind in the current window
        self.window_end = 0.0

    def wait_seconds(self) -> float:
        b, now = self.budget, self.clock()
        if now >= self.window_end:  # a new window (until the headers say when it ends: a second)
            self.spent = 0
            self.window_end = now + 1.0
        self.window_end = max(self.window_end, b.reset_at)
        if b.remaining is None or b.used is None:
            return 0.0
        allowed = int(self.fraction * (b.used + b.remaining))
        return self.window_end - now if self.spent >= allowed else 0.0

    async def acquire(self) -> None:
        while (wait := self.wait_seconds()) > 0:
            RATELIMIT_SLEEPS.inc()
            await asyncio.sleep(wait)
        self.spent += 1


class BudgetLimiter:
    """Stands in for asyncprawcore's RateLimiter (same `call` interface)."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget

    async def delay(self) -> None:
        await self.budget.acquire()

    def update(self, *, response_headers: Mapping[str, str]) -> None:
        self.budget.update(response_headers)

    def call(self, *, method, request_function, set_header_callback, url, **kwargs):
        return _Call(self, method, request_function, set_header_callback, url, kwargs)


class _Call:
    def __init__(self, limiter, method, request_function, set_header_callback, url, kwargs) -> None:
        self.args = (limiter, method, request_function, set_header_callback, url, kwargs)
        self._cm = None

    async def __aenter__(self):
        limiter, method, request_function, set_header_callback, url, kwargs = self.args
        await limiter.delay()
        kwargs["headers"] = await set_header_callback()
        self._cm = request_function(method, url, **kwargs)
        response = await self._cm.__aenter__()
        limiter.update(response_headers=response.headers)
        return response

    async def __aexit__(self, *exc):
        return await self._cm.__aexit__(*exc)
