"""The ingest loops: one poller task per subreddit for its new posts, one per subreddit for its
newest comments (INGEST_COMMENTS_SECONDS apart, within INGEST_COMMENTS_SHARE of each rate-limit
window), and one refresh loop.

Every API call goes through :meth:`Ingest.call`: the shared budget first, then on a 429 a
wait for the advertised reset (for every task), on 5xx / timeouts / network errors a
jittered exponential backoff, and on 404/403 the subreddit is dropped (logged once).
A poller only ever waits for its own calls, so a slow or failing subreddit delays no other.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import orjson

from streams.analytics.priority import is_trending, refresh_interval
from streams.ingest import backoff
from streams.ingest.budget import Budget, Share
from streams.ingest.convert import to_comment, to_snapshot
from streams.ingest.known import KnownStore, Tracked
from streams.ingest.metrics import (
    API_REQUESTS,
    COMMENTS_EMITTED,
    POSTS_EMITTED,
    REFRESHES_EMITTED,
    ROUND_SECONDS,
    TRACKED,
)
from streams.ingest.producer import BufferedProducer, Record
from streams.ingest.reddit import Page, Source
from streams.records import InvalidMessage, comment_fields, encode
from streams.retry import Backoff
from streams.settings import Settings

log = logging.getLogger("streams.ingest")
T = TypeVar("T")


class Dropped(Exception):
    """The subreddit does not exist or is closed to us."""


class GaveUp(Exception):
    """A call failed `INGEST_RETRY_ATTEMPTS` times; the round ends and is tried again later."""


def _info(msg: str, **fields) -> None:
    """One log line: readable text, and the same fields as JSON keys with LOG_FORMAT=json."""
    log.info("%s %s", msg, " ".join(f"{k}={v}" for k, v in fields.items()), extra={"fields": {"event": msg, **fields}})


class Ingest:
    def __init__(
        self,
        settings: Settings,
        client: Source,
        store: KnownStore,
        producer: BufferedProducer,
        budget: Budget,
        stop: asyncio.Event,
        comment_store: KnownStore | None = None,
    ) -> None:
        self.s = settings
        self.retry = Backoff(base=settings.ingest_retry_base_seconds, cap=settings.ingest_retry_max_seconds)
        self.client = client
        self.store = store
        self.producer = producer
        self.budget = budget
        self.stop = stop
        self.tracked: dict[str, Tracked] = {}
        self._delivered_new: list[str] = []
        self.dropped: set[str] = set()
        # the comments' own ids already emitted (another key space than the posts')
        self.comment_store = comment_store
        self.comment_share = Share(budget, settings.ingest_comments_share)
        self._delivered_comments: list[str] = []

    # ------------------------------------------------------------------ API calls

    async def call(self, endpoint: str, what: str, fn: Callable[[], Awaitable[T]], share: Share | None = None) -> T:
        for attempt in range(self.s.ingest_retry_attempts):
            try:
                if share is not None:
                    await share.acquire()
                result = await fn()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                API_REQUESTS.labels(endpoint, backoff.outcome(exc)).inc()
                kind = backoff.classify(exc)
                if kind == backoff.DROP:
                    raise Dropped(f"{what}: {type(exc).__name__}") from exc
                if kind == backoff.RATE_LIMITED:
                    wait = backoff.reset_seconds(getattr(getattr(exc, "response", None), "headers", {}) or {})
                    self.budget.block(wait)
                    log.warning("%s: 429, every task waits %.1fs", what, wait)
                    continue  # the budget makes the next attempt wait
                delay = self.retry.delay(attempt)
                log.warning(
                    "%s: %s (%s); retry %d in %.2fs", what, type(exc).__name__, str(exc)[:120], attempt + 1, delay
                )
                if await self._sleep(delay):
                    break
                continue
            API_REQUESTS.labels(endpoint, "ok").inc()
            return result
        raise GaveUp(what)

    async def _sleep(self, seconds: float) -> bool:
        """Sleep, or return True early when ingest is stopping."""
        try:
            await asyncio.wait_for(self.stop.wait(), seconds)
            return True
        except TimeoutError:
            return False

    # ------------------------------------------------------------------ new posts

    async def poll_forever(self, subreddit: str) -> None:
        await self._rounds(subreddit, self.poll_round, self.s.ingest_poll_seconds)

    async def poll_comments_forever(self, subreddit: str) -> None:
        await self._rounds(subreddit, self.poll_comments_round, self.s.ingest_comments_seconds)

    async def _rounds(self, subreddit: str, one_round: Callable[[str, int], Awaitable[int]], interval: float) -> None:
        rounds = 0
        while not self.stop.is_set():
            rounds += 1
            try:
                await one_round(subreddit, rounds)
            except Dropped as exc:
                self.dropped.add(subreddit)
                log.error("subreddit %s dropped: %s (not found or forbidden); it is not polled again", subreddit, exc)
                return
            except GaveUp as exc:
                log.warning("%s of %s gave up (%s); next round in %.1fs", one_round.__name__, subreddit, exc, interval)
            except Exception:
                log.exception("%s of %s failed", one_round.__name__, subreddit)
            if await self._sleep(interval):
                return

    async def _unseen(
        self,
        endpoint: str,
        subreddit: str,
        fetch: Callable[[str, str | None], Awaitable[Page]],
        store: KnownStore,
        share: Share | None = None,
    ) -> tuple[list[tuple[object, float]], int, int]:
        """A listing's items not emitted yet, newest first, paging (`after`) until one already seen
        or the end, at most INGEST_MAX_PAGES pages → (items with their observed_at, pages, seen)."""
        after: str | None = None
        new: list[tuple[object, float]] = []
        pages = seen = 0
        while pages < self.s.ingest_max_pages:
            page = await self.call(
                endpoint, f"r/{subreddit}/{endpoint}", functools.partial(fetch, subreddit, after), share
            )
            pages += 1
            ids = [p.id for p in page.posts]
            fresh = set(await store.unseen(ids))
            seen += len(ids) - len(fresh)
            new.extend((p, page.observed_at) for p in page.posts if p.id in fresh)
            if len(fresh) < len(ids) or not page.after:
                break  # reached items already seen, or the end of the listing
            after = page.after
        return new, pages, seen

    async def poll_round(self, subreddit: str, round_no: int = 0) -> int:
        t0, round_at = time.monotonic(), time.time()
        new, pages, seen = await self._unseen("new", subreddit, self.client.new_page, self.store)
        for post, observed_at in reversed(new):  # oldest first
            await self._emit_new(post, observed_at, round_at)
        duration = time.monotonic() - t0
        ROUND_SECONDS.labels(subreddit).observe(duration)
        _info(
            "poll round",
            subreddit=subreddit,
            round=round_no,
            pages=pages,
            new=len(new),
            seen=seen,
            duration_ms=round(duration * 1000, 1),
            buffered=self.producer.pending,
        )
        return len(new)

    async def _emit_new(self, post, observed_at: float, round_at: float) -> None:
        snap = to_snapshot(post, observed_at, "new", self.s.selftext_max_chars)
        self.store.claim(snap.id)
        interval = refresh_interval(observed_at - snap.created_utc, self.s.refresh_tiers)
        if interval is not None:
            self.tracked[snap.id] = Tracked(snap.created_utc, snap.score, observed_at, next_due=round_at + interval)
        await self.producer.put(Record(self.s.topic_posts, snap.id, encode(snap), self._on_new_delivered))

    # ------------------------------------------------------------------ new comments

    async def poll_comments_round(self, subreddit: str, round_no: int = 0) -> int:
        """The subreddit's comments not emitted yet, oldest first, to the comments topic keyed by
        their post id."""
        assert self.comment_store is not None, "comments are polled with a comment store"
        t0 = time.monotonic()
        new, pages, seen = await self._unseen(
            "comments", subreddit, self.client.comments_page, self.comment_store, self.comment_share
        )
        emitted = 0
        for comment, observed_at in reversed(new):
            emitted += await self._emit_comment(comment, observed_at)
        _info(
            "comments round",
            subreddit=subreddit,
            round=round_no,
            pages=pages,
            new=emitted,
            seen=seen,
            duration_ms=round((time.monotonic() - t0) * 1000, 1),
            buffered=self.producer.pending,
        )
        return emitted

    async def _emit_comment(self, comment, observed_at: float) -> int:
        assert self.comment_store is not None
        try:
            fields = comment_fields(to_comment(comment, observed_at, self.s.comment_body_max_chars))
        except (InvalidMessage, TypeError, ValueError) as exc:
            log.warning("comment %s skipped: %s", getattr(comment, "id", "?"), exc)
            return 0
        self.comment_store.claim(fields["id"])
        await self.producer.put(
            Record(self.s.topic_comments, fields["post_id"], orjson.dumps(fields), self._on_comment_delivered)
        )
        return 1

    def _on_comment_delivered(self, rec: Record) -> None:
        fields = orjson.loads(rec.value)
        self._delivered_comments.append(fields["id"])
        COMMENTS_EMITTED.labels(fields["subreddit"]).inc()

    def _on_new_delivered(self, rec: Record) -> None:
        self._delivered_new.append(rec.key)
        POSTS_EMITTED.labels(_subreddit_of(rec.value)).inc()

    async def persist_forever(self) -> None:
        """Write delivered ids and tracking state to Redis every half second (and at the end)."""
        n = 0
        while True:
            stopping = await self._sleep(0.5)
            try:
                await self.persist()
                n += 1
                if n % 600 == 0:
                    await self.store.prune()
                    if self.comment_store is not None:
                        await self.comment_store.prune()
            except Exception:
                log.exception("saving ingest state to Redis failed; retrying")
            if stopping:
                return

    async def persist(self) -> None:
        await _mark_seen(self.store, self._delivered_new)
        if self.comment_store is not None:
            await _mark_seen(self.comment_store, self._delivered_comments)
        await self.store.save_tracked(self.tracked)
        TRACKED.set(len(self.tracked))

    # ------------------------------------------------------------------ refreshes

    async def due(self, now: float) -> list[str]:
        """The tracked posts due now, most overdue first; posts past the last tier are untracked."""
        gone = [
            pid
            for pid, t in self.tracked.items()
            if refresh_interval(now - t.created_utc, self.s.refresh_tiers) is None
        ]
        for pid in gone:
            del self.tracked[pid]
        if gone:
            await self.store.untrack(gone)
        return sorted(
            (pid for pid, t in self.tracked.items() if t.next_due <= now), key=lambda pid: self.tracked[pid].next_due
        )

    async def refresh_forever(self) -> None:
        while not self.stop.is_set():
            try:
                await self.refresh_round()
            except Exception:
                log.exception("refresh round failed")
            if await self._sleep(self.s.ingest_refresh_check_seconds):
                return

    async def refresh_round(self) -> int:
        now = time.time()
        due = await self.due(now)
        if not due:
            return 0
        t0 = time.monotonic()
        ok_requests = refreshed = 0
        missing: list[str] = []
        for i in range(0, len(due), 100):
            chunk = due[i : i + 100]
            try:
                page = await self.call(
                    "info", f"/api/info ({len(chunk)} ids)", functools.partial(self.client.info, chunk)
                )
            except GaveUp as exc:
                log.warning("refresh batch gave up (%s); those posts stay due", exc)
                continue
            ok_requests += 1
            answered = set()
            for post in page.posts:
                answered.add(post.id)
                refreshed += await self._emit_refresh(post, page.observed_at, now)
            missing.extend(pid for pid in chunk if pid not in answered)
        for pid in missing:  # deleted or unknown to the API: stop asking
            self.tracked.pop(pid, None)
        if missing:
            await self.store.untrack(missing)
        duration = time.monotonic() - t0
        _info(
            "refresh round",
            posts=len(due),
            refreshed=refreshed,
            requests=ok_requests,
            expected_requests=math.ceil(len(due) / 100),
            missing=len(missing),
            duration_ms=round(duration * 1000, 1),
            tracked=len(self.tracked),
        )
        return refreshed

    async def _emit_refresh(self, post, observed_at: float, round_at: float) -> int:
        snap = to_snapshot(post, observed_at, "refresh", self.s.selftext_max_chars)
        t = self.tracked.get(snap.id)
        if t is None:
            return 0
        trending = is_trending(t.score, t.observed_at, snap.score, observed_at, self.s.refresh_trending_velocity)
        interval = refresh_interval(
            observed_at - snap.created_utc, self.s.refresh_tiers, trending, self.s.refresh_trending_factor
        )
        if interval is None:
            del self.tracked[snap.id]
        else:
            t.prev_score, t.prev_at, t.score, t.observed_at = t.score, t.observed_at, snap.score, observed_at
            t.next_due = round_at + interval  # one round's posts stay due together: full batches
        await self.producer.put(Record(self.s.topic_refresh, snap.id, encode(snap), _on_refresh_delivered))
        return 1


async def _mark_seen(store: KnownStore, delivered: list[str]) -> None:
    """Save the delivered ids (taken from `delivered`; put back when Redis fails)."""
    ids = delivered[:]
    del delivered[:]
    try:
        await store.mark_seen(ids)
    except Exception:
        delivered[:0] = ids
        raise


def _on_refresh_delivered(rec: Record) -> None:
    REFRESHES_EMITTED.inc()


def _subreddit_of(value: bytes) -> str:
    # the subreddit label without decoding the whole record again
    start = value.find(b'"subreddit":"')
    if start < 0:
        return "unknown"
    start += len(b'"subreddit":"')
    return value[start : value.find(b'"', start)].decode(errors="replace")
