"""The asyncpraw client wrapper: one `asyncpraw.Reddit` shared by every task.

- `REDDIT_API_URL`, when set, is the base of every URL (the simulator).
- asyncprawcore's own retries are off and its rate limiter is the shared
  :class:`~streams.ingest.budget.Budget` (streams.runtime.reddit).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import asyncpraw

from streams.ingest.budget import Budget, BudgetLimiter
from streams.runtime.reddit import use_limiter_without_retries
from streams.settings import Settings


@dataclass
class Page:
    posts: list[Any]
    after: str | None
    observed_at: float


class Source(Protocol):
    """What ingest polls: RedditClient below, or the archive (streams.archive.live)."""

    async def new_page(self, subreddit: str, after: str | None, limit: int = 100) -> Page: ...

    async def comments_page(self, subreddit: str, after: str | None, limit: int = 100) -> Page: ...

    async def info(self, ids: list[str]) -> Page: ...

    async def close(self) -> None: ...


def open_reddit(settings: Settings, budget: Budget) -> asyncpraw.Reddit:
    kwargs: dict[str, Any] = {}
    if settings.reddit_api_url:
        url = settings.reddit_api_url.rstrip("/")
        kwargs.update(oauth_url=url, reddit_url=url, short_url=url)
    reddit = asyncpraw.Reddit(
        client_id=settings.reddit_client_id.get_secret_value() or "unset",
        client_secret=settings.reddit_client_secret.get_secret_value() or "unset",
        user_agent=settings.reddit_user_agent,
        timeout=settings.ingest_request_timeout,
        check_for_updates=False,
        check_for_async=False,
        **kwargs,
    )
    use_limiter_without_retries(reddit, BudgetLimiter(budget))
    return reddit


class RedditClient:
    """The calls ingest makes: one page of `new`, one page of a subreddit's newest comments, and
    `/api/info` for up to 100 ids."""

    def __init__(self, reddit: asyncpraw.Reddit) -> None:
        self.reddit = reddit

    async def new_page(self, subreddit: str, after: str | None, limit: int = 100) -> Page:
        """One page of `/r/{sub}/new`: Submission objects, newest first."""
        return await self._page(f"r/{subreddit}/new", after, limit)

    async def comments_page(self, subreddit: str, after: str | None, limit: int = 100) -> Page:
        """One page of `/r/{sub}/comments` (asyncpraw's `subreddit.comments`): Comment objects, newest first."""
        return await self._page(f"r/{subreddit}/comments", after, limit)

    async def _page(self, path: str, after: str | None, limit: int) -> Page:
        params: dict[str, Any] = {"limit": limit}
        if after:
            params["after"] = after
        listing = await self.reddit.get(path, params=params)
        return Page(list(listing.children), listing.after, time.time())

    async def info(self, ids: list[str]) -> Page:
        if not 0 < len(ids) <= 100:
            raise ValueError("/api/info takes 1 to 100 ids")
        listing = await self.reddit.get("api/info/", params={"id": ",".join(f"t3_{i}" for i in ids)})
        return Page(list(listing.children), None, time.time())

    async def close(self) -> None:
        await self.reddit.close()
