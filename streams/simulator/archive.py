"""A simulator of the Arctic Shift archive's API (api/README.md of ArthurHeitmann/arctic_shift).

Archive API:  GET /api/posts/search · GET /api/comments/search
                  subreddit (any case, `r/` ignored), after, before (a Date: epoch seconds or
                  milliseconds, ISO 8601), sort=asc|desc (by created_utc), limit 1–100 or `auto`
                  (`auto_limit` results), fields (comma-separated) → {"data": [...]}
              GET /api/posts/ids · GET /api/comments/ids   ids=a,t3_b,… (at most 500) → {"data": [...]}
              Every answer carries X-RateLimit-Remaining and X-RateLimit-Reset (seconds); an exhausted
              budget answers 429. A bad parameter answers 400 {"data": null, "error": "…"}.
Control:      POST /_sim/archive/records {"kind": "posts"|"comments", "records": [...]} adds records as given
                  (a record without a numeric `created_utc` or a `subreddit` cannot be found by search)
              POST /_sim/archive/config {"after_inclusive": bool, "auto_limit": n (100–1000)}
              POST /_sim/faults {"target": sub|"ids"|"*", "faults": [429, 503, "throttle", "query_timeout",
                  "client_error", "ok", …], "latency": s, "reset": s}   (DELETE clears them): the next
                  requests to `target` answer the listed faults, one each, in order ("ok": as
                  if none); `latency` delays
                  every request to it until cleared
              POST /_sim/advance {"seconds": s}   GET /_sim/requests?since=n   GET /_sim/posts?subreddit=s

The generated world: the simulator's subreddits, each with `history_posts` posts before start and
`posts_per_hour` after, `burst` of them created in the same second (the archive keeps whole
seconds). The archive stores a post the moment it is posted (score 1, no comments) and updates
it once it is `FINAL_AFTER` old (its final score and comments, `retrieved_on` then). Whether
`after` is inclusive is not documented: `after_inclusive` chooses (default exclusive).
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from streams.simulator import data
from streams.simulator.config import WorldConfig

log = logging.getLogger("streams.simulator")
FINAL_AFTER = 36 * 3600.0
MAX_IDS = 500
KINDS = ("posts", "comments")
ERRORS: dict[str, tuple[int, str]] = {
    "throttle": (422, "Timeout. Maybe slow down a bit"),
    "query_timeout": (422, "Query timed out"),
    "client_error": (422, "Invalid value for parameter 'subreddit'"),
}


class BadParameter(ValueError):
    pass


def parse_date(raw: str) -> float:
    """The API's Date: epoch seconds or milliseconds, or (partial) ISO 8601 (UTC)."""
    try:
        value = float(raw)
    except ValueError:
        try:
            when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise BadParameter(f"invalid date {raw!r}") from None
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    return value / 1000.0 if value > 1e11 else value


@dataclass
class Store:
    """One kind of one subreddit: records in created_utc order (ties in insertion order).
    An entry is a generated post's index (rendered when served) or a record as it was given."""

    keys: list[float] = field(default_factory=list)
    entries: list[int | dict] = field(default_factory=list)

    def add(self, created: float, entry: int | dict) -> None:
        at = bisect.bisect_right(self.keys, created)
        self.keys.insert(at, created)
        self.entries.insert(at, entry)


@dataclass
class ArchiveWorld:
    subreddits: tuple[str, ...]
    config: WorldConfig = WorldConfig()
    anchor: float = field(default_factory=lambda: float(math.floor(time.time())))
    started: float = field(default_factory=time.monotonic)
    after_inclusive: bool = False
    auto_limit: int = 1000
    advanced: float = 0.0
    faults: dict[str, dict] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    window_start: float = field(default_factory=time.monotonic)
    used: int = 0

    def __post_init__(self) -> None:
        self.names = {s.lower(): s for s in self.subreddits}
        self.stores: dict[tuple[str, str], Store] = {}
        self.by_id: dict[tuple[str, str], tuple[str, int | dict]] = {}
        self.generated: dict[str, int] = {}  # subreddit → the next index to generate
        for sub in self.subreddits:
            self.generated[sub.lower()] = -self.config.history_posts
        self.grow()

    # -- time and the generated posts
    def now(self) -> float:
        return self.anchor + (time.monotonic() - self.started) * self.config.speed + self.advanced

    def created(self, k: int) -> float:
        """Whole seconds; `burst` consecutive posts share one."""
        burst = max(self.config.burst, 1)
        return float(math.floor(self.anchor + (k // burst) * burst * 3600.0 / self.config.posts_per_hour))

    def grow(self) -> None:
        """Generate every post created up to now."""
        now = self.now()
        for sub in self.subreddits:
            k = self.generated[sub.lower()]
            store = self.store("posts", sub)
            while self.created(k) <= now:
                store.add(self.created(k), k)
                self.by_id[("posts", data.post_id(self.config.seed, sub, k))] = (sub, k)
                k += 1
            self.generated[sub.lower()] = k

    def store(self, kind: str, sub: str) -> Store:
        return self.stores.setdefault((kind, sub.lower()), Store())

    def render(self, sub: str, entry: int | dict) -> dict:
        if isinstance(entry, dict):
            return entry
        k, now = entry, self.now()
        created = self.created(k)
        post = data.post_json(self.config.seed, sub, k, self.anchor, 3600.0 / self.config.posts_per_hour, now)
        final = now - created >= FINAL_AFTER
        post.pop("ups", None)
        post.pop("is_self", None)
        post.update(
            created_utc=int(created),
            retrieved_on=int(created + (FINAL_AFTER if final else min(2.0, max(now - created, 0.0)))),
            score=post["score"] if final else 1,
            num_comments=post["num_comments"] if final else 0,
            upvote_ratio=post["upvote_ratio"] if final else 1.0,
        )
        return post

    def add_records(self, kind: str, records: list[Any]) -> int:
        added = 0
        for rec in records:
            if not isinstance(rec, dict):
                continue
            sub, created = rec.get("subreddit"), rec.get("created_utc")
            if not isinstance(sub, str) or isinstance(created, bool) or not isinstance(created, (int, float)):
                continue
            self.store(kind, sub).add(float(created), rec)
            if isinstance(rec.get("id"), str):
                self.by_id[(kind, rec["id"].removeprefix("t3_").removeprefix("t1_"))] = (sub, rec)
            added += 1
        return added

    # -- the API
    def search(self, kind: str, query: dict[str, str]) -> list[dict]:
        self.grow()
        sub = query.get("subreddit", "").strip()
        sub = sub[2:] if sub.lower().startswith("r/") else sub
        if not sub:
            raise BadParameter("subreddit is required by this simulator")
        limit_raw = query.get("limit", "25")
        if limit_raw == "auto":
            limit = self.auto_limit
        else:
            try:
                limit = int(limit_raw)
            except ValueError:
                raise BadParameter(f"invalid limit {limit_raw!r}") from None
            if not 1 <= limit <= 100:
                raise BadParameter("limit must be between 1 and 100, or auto")
        sort = query.get("sort", "desc")  # the API's order when none is asked: newest first
        if sort not in ("asc", "desc"):
            raise BadParameter(f"invalid sort {sort!r}")
        after = parse_date(query["after"]) if query.get("after") else None
        before = parse_date(query["before"]) if query.get("before") else None
        store = self.stores.get((kind, sub.lower()))
        if store is None:
            return []
        lo = 0
        if after is not None:
            lo = (bisect.bisect_left if self.after_inclusive else bisect.bisect_right)(store.keys, after)
        hi = len(store.keys) if before is None else bisect.bisect_left(store.keys, before)
        picked = range(lo, hi)
        chosen = list(picked[:limit]) if sort == "asc" else list(reversed(picked))[:limit]
        name = self.names.get(sub.lower(), sub)
        return [_select(self.render(name, store.entries[i]), query.get("fields")) for i in chosen]

    def by_ids(self, kind: str, query: dict[str, str]) -> list[dict]:
        self.grow()
        ids = [i.strip() for i in query.get("ids", "").split(",") if i.strip()]
        if not ids:
            raise BadParameter("ids is required")
        if len(ids) > MAX_IDS:
            raise BadParameter(f"at most {MAX_IDS} ids")
        out = []
        for raw in ids:
            hit = self.by_id.get((kind, raw.removeprefix("t3_").removeprefix("t1_")))
            if hit is not None:
                out.append(_select(self.render(*hit), query.get("fields")))
        return out

    # -- rate limit and faults
    def spend(self) -> tuple[bool, dict[str, str]]:
        now = time.monotonic()
        if now - self.window_start >= self.config.ratelimit_window:
            self.window_start, self.used = now, 0
        ok = self.used < self.config.ratelimit_budget
        self.used += ok
        reset = max(0, math.ceil(self.config.ratelimit_window - (now - self.window_start)))
        return ok, {
            "X-RateLimit-Remaining": str(self.config.ratelimit_budget - self.used),
            "X-RateLimit-Reset": str(reset),
        }

    def take_fault(self, target: str) -> tuple[float, Any, int]:
        """(latency, the next fault or None, the reset of an injected 429) for a request to `target`."""
        for key in (target.lower(), "*"):
            f = self.faults.get(key)
            if f is not None and (f["faults"] or f["latency"]):
                return f["latency"], (f["faults"].pop(0) if f["faults"] else None), f["reset"]
        return 0.0, None, 1


def _select(record: dict, fields: str | None) -> dict:
    if not fields:
        return record
    wanted = {f.strip() for f in fields.split(",")}
    return {k: v for k, v in record.items() if k in wanted}


def _answer(payload: dict, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(payload, status=status, headers=headers)


def build_app(world: ArchiveWorld) -> web.Application:
    routes = web.RouteTableDef()

    async def api(request: web.Request, *, kind: str, what: str) -> web.Response:
        query = dict(request.query)
        target = "ids" if what == "ids" else query.get("subreddit", "").lower().removeprefix("r/")
        latency, fault, reset = world.take_fault(target)
        fault = None if fault == "ok" else fault
        if latency:
            await asyncio.sleep(latency)
        ok, headers = world.spend()
        n = 0
        if fault in ERRORS:
            status, message = ERRORS[fault]
            resp = _answer({"data": None, "error": message}, status, headers)
        elif fault is not None:
            if int(fault) == 429:
                headers.update({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)})
            resp = _answer(
                {"data": None, "error": "Too Many Requests" if int(fault) == 429 else "Server Error"},
                int(fault),
                headers,
            )
        elif not ok:
            resp = _answer({"data": None, "error": "Too Many Requests"}, 429, headers)
        else:
            try:
                found = world.search(kind, query) if what == "search" else world.by_ids(kind, query)
            except BadParameter as exc:
                resp = _answer({"data": None, "error": str(exc)}, 400, headers)
            else:
                n = len(found)
                resp = _answer({"data": found}, 200, headers)
        world.requests.append(
            {
                "seq": len(world.requests),
                "t": time.time(),
                "kind": f"{kind}/{what}",
                "target": target,
                "status": resp.status,
                "ids": n,
                "query": query,
            }
        )
        return resp

    for kind in KINDS:
        for what in ("search", "ids"):
            routes.get(f"/api/{kind}/{what}")(functools.partial(api, kind=kind, what=what))

    @routes.post("/_sim/archive/records")
    async def records(request: web.Request) -> web.Response:
        body = await request.json()
        kind = body.get("kind", "posts")
        if kind not in KINDS:
            return _answer({"error": f"kind must be one of {KINDS}"}, 400)
        return _answer({"added": world.add_records(kind, list(body.get("records", [])))})

    @routes.post("/_sim/archive/config")
    async def config(request: web.Request) -> web.Response:
        body = await request.json()
        world.after_inclusive = bool(body.get("after_inclusive", world.after_inclusive))
        world.auto_limit = min(max(int(body.get("auto_limit", world.auto_limit)), 100), 1000)  # the documented range
        return _answer({"after_inclusive": world.after_inclusive, "auto_limit": world.auto_limit})

    @routes.post("/_sim/faults")
    async def set_fault(request: web.Request) -> web.Response:
        body = await request.json()
        target = str(body.get("target", "*")).lower()
        world.faults[target] = {
            "faults": [f if f in ERRORS or f == "ok" else int(f) for f in body.get("faults", [])],
            "latency": float(body.get("latency", 0.0)),
            "reset": int(body.get("reset", 1)),
        }
        return _answer({"ok": True})

    @routes.delete("/_sim/faults")
    async def clear_faults(request: web.Request) -> web.Response:
        world.faults.clear()
        return _answer({"ok": True})

    @routes.post("/_sim/advance")
    async def advance(request: web.Request) -> web.Response:
        world.advanced += float((await request.json())["seconds"])
        world.grow()
        return _answer({"ok": True, "now": world.now()})

    @routes.get("/_sim/requests")
    async def requests(request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        return _answer({"requests": world.requests[since:], "next": len(world.requests)})

    @routes.get("/_sim/posts")
    async def posts(request: web.Request) -> web.Response:
        world.grow()
        store = world.stores.get(("posts", request.query.get("subreddit", "").lower()))
        entries = store.entries if store else []
        sub = request.query.get("subreddit", "")
        return _answer({"ids": [world.render(sub, e).get("id") for e in entries]})

    app = web.Application(client_max_size=256 * 1024 * 1024)  # the control endpoint takes whole data sets
    app.add_routes(routes)
    app["world"] = world
    return app
