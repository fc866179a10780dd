"""The one retry policy: exponential backoff with jitter, capped.

Every retry loop of the project (ingest's API calls and produce requests, the durable sends of
observations and dead letters, the changelog batches, the Redis mirror, the sink's flushes)
waits `Backoff.delay(attempt)` between attempts: attempt 0 waits about `base`, each next one
twice as long, never more than `cap`, with "equal jitter" (a uniform draw in [d/2, d]) so that
workers retrying the same failure do not retry in step.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    base: float = 0.2
    cap: float = 30.0
    factor: float = 2.0
    jitter: bool = True

    def ceiling(self, attempt: int) -> float:
        """The longest wait before retry number `attempt` (0 for the first retry)."""
        return min(self.cap, self.base * self.factor ** min(max(attempt, 0), 64))

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        d = self.ceiling(attempt)
        return d / 2 + rand() * d / 2 if self.jitter else d

    def delays(self, rand: Callable[[], float] = random.random) -> Iterator[float]:
        """The waits of attempts 0, 1, 2, … (for a loop that retries until it succeeds)."""
        attempt = 0
        while True:
            yield self.delay(attempt, rand)
            attempt += 1
