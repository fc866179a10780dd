"""`REDDIT_SOURCE=archive`: ingest's two calls answered by the archive instead of Reddit.

- `new_page`: a subreddit's newest posts, `/api/posts/search?sort=desc`; the next page's token
  is the oldest second of the page and the ids seen in it: the next request asks
  `before = that second + 1` (whether `before` is inclusive or not, nothing is skipped) and
  drops what the previous page already gave.
- `info`: `/api/posts/ids` for the tracked posts that are due.

Posts are handed on as objects with the archive's fields as attributes, as asyncpraw's are.

The archive stores a post the moment it is posted (score 0 or 1, no comments) and updates it
about 36 hours later, so a post is asked for again once, when it is `ARCHIVE_FINAL_AFTER_HOURS`
old (:class:`ArchiveIngest`): one tier (`REFRESH_TIERS` does not apply), and a post first seen
older than that is not tracked (its score is already final). Velocity and trending need Reddit's own API: the early
scores do not move. The archive client tries each request once (its pacer and the rate-limit
headers still apply); ingest's own retry (`Ingest.call`, INGEST_RETRY_*) retries it.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from streams.archive.client import ArchiveClient
from streams.archive.paging import second_of
from streams.ingest.reddit import Page
from streams.ingest.scheduler import Ingest
from streams.settings import Settings

STALE_HOURS = 12.0  # a tracked post this much past its final age (ingest was down) is dropped, not asked

MISSING_KEYS = (
    "redditstream ingest: no Reddit API keys (REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET); set them, or "
    "REDDIT_SOURCE=archive to read new posts from the Arctic Shift archive without keys (no velocity or trending)"
)


def archive_settings(settings: Settings) -> Settings:
    """Ingest's settings for the archive: posts younger than the final age are tracked; one past
    it leaves the tracked set after its refresh."""
    final = settings.archive.final_after_hours
    return settings.model_copy(update={"refresh_tiers": ((final, final * 3600.0),)})


class ArchiveIngest(Ingest):
    """Ingest's loops over the archive: a tracked post is due once it is final-after-hours old,
    and asked for once."""

    async def due(self, now: float) -> list[str]:
        final = self.s.archive.final_after_hours * 3600.0
        gone = [pid for pid, t in self.tracked.items() if now - t.created_utc >= final + STALE_HOURS * 3600]
        for pid in gone:
            del self.tracked[pid]
        if gone:
            await self.store.untrack(gone)
        ready = [pid for pid, t in self.tracked.items() if now - t.created_utc >= final]
        return sorted(ready, key=lambda pid: self.tracked[pid].created_utc)

    async def _emit_refresh(self, post: Any, observed_at: float, round_at: float) -> int:
        emitted = await super()._emit_refresh(post, observed_at, round_at)
        self.tracked.pop(post.id, None)
        await self.store.untrack([post.id])
        return emitted


def _token(second: int, ids: set[str]) -> str:
    return f"{second}:{','.join(sorted(ids))}"


def _untoken(token: str) -> tuple[int, set[str]]:
    second, _, ids = token.partition(":")
    return int(second), {i for i in ids.split(",") if i}


class ArchiveLiveClient:
    """The archive behind the interface of streams.ingest.reddit.RedditClient."""

    def __init__(self, settings: Settings) -> None:
        self.client = ArchiveClient(settings.archive.model_copy(update={"retry_attempts": 1}))

    async def new_page(self, subreddit: str, after: str | None, limit: int = 100) -> Page:
        return await self._page("posts", subreddit, after, limit)

    async def comments_page(self, subreddit: str, after: str | None, limit: int = 100) -> Page:
        return await self._page("comments", subreddit, after, limit)

    async def _page(self, kind: str, subreddit: str, after: str | None, limit: int) -> Page:
        """The newest `kind` of the subreddit, newest first; `after` continues below the oldest
        second of the page before (its ids there skipped)."""
        before, last = None, None
        skip: set[str] = set()
        if after:
            last, skip = _untoken(after)
            before = last + 1
        posts = await self.client.search(kind, subreddit, before=before, sort="desc", limit=limit)
        fresh = []
        for post in posts:
            second = second_of(post)
            if last is not None and second is not None and (second > last or (second == last and post["id"] in skip)):
                continue
            fresh.append(post)
        token = None
        if len(posts) >= limit and posts:
            oldest = second_of(posts[-1])
            if oldest is not None:
                ids = {p["id"] for p in posts if second_of(p) == oldest} | (skip if oldest == last else set())
                token = _token(oldest, ids)
        return Page([SimpleNamespace(**p) for p in fresh], token, time.time())

    async def info(self, ids: list[str]) -> Page:
        return Page([SimpleNamespace(**p) for p in await self.client.ids("posts", ids)], None, time.time())

    async def close(self) -> None:
        await self.client.close()
