"""The simulator's aiohttp app: the Reddit API shapes of docs/design.md §8, plus control endpoints.

Reddit API:  POST /api/v1/access_token · GET /r/{sub}/new · GET /r/{sub}/comments (newest comments
             of the subreddit's posts, `t1` children) · GET /api/info/?id=t3_a,…
Control:     POST /_sim/faults  {"target": sub|"info"|"*", "statuses": [429, 503, …],
                                 "latency": s, "reset": s}   (DELETE clears every fault)
                 the next requests to `target` answer the listed statuses, one each, in order;
                 `latency` delays every request to it until cleared; a 429 advertises `reset`.
             POST /_sim/advance {"subreddit": sub|"*", "seconds": s}
             GET  /_sim/requests?since=n   every API request served (kind, target, status, ids)
             GET  /_sim/posts?subreddit=s  the ids of every post that exists now
             GET  /_sim/comments?subreddit=s  every comment that exists now: {id: post id}
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from streams.simulator import data
from streams.simulator.config import WorldConfig

log = logging.getLogger("streams.simulator")
MAX_LIMIT = 100


@dataclass
class Fault:
    statuses: list[int] = field(default_factory=list)  # one per request, in order; then served
    latency: float = 0.0  # applies to every request until cleared
    reset: int = 1  # x-ratelimit-reset of an injected 429


@dataclass
class World:
    subreddits: tuple[str, ...]
    config: WorldConfig = WorldConfig()
    anchor: float = field(default_factory=time.time)
    started: float = field(default_factory=time.monotonic)
    advanced: dict[str, float] = field(default_factory=dict)
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    index: dict[str, tuple[str, int]] = field(default_factory=dict)
    window_start: float = field(default_factory=time.monotonic)
    used: int = 0

    def __post_init__(self) -> None:
        self.names = {s.lower(): s for s in self.subreddits}

    @property
    def gap(self) -> float:
        return 3600.0 / self.config.posts_per_hour

    def now(self, sub: str) -> float:
        return (
            self.anchor
            + (time.monotonic() - self.started) * self.config.speed
            + self.advanced.get("*", 0.0)
            + self.advanced.get(sub.lower(), 0.0)
        )

    def existing(self, sub: str) -> list[int]:
        """Indexes of the posts that exist now, newest first."""
        now = self.now(sub)
        ks = []
        for k in range(data.last_index(self.anchor, self.gap, now), -self.config.history_posts - 1, -1):
            t = data.traits(self.config.seed, sub, k)
            if data.created_utc(self.anchor, self.gap, k, t.jitter) <= now:
                self.index.setdefault(t.id, (sub, k))
                ks.append(k)
        return ks

    def comments(self, sub: str) -> list[tuple[float, int, int]]:
        """(created_utc, post index, comment index) of every comment that exists now, newest first."""
        now = self.now(sub)
        out = []
        for k in self.existing(sub):
            t = data.traits(self.config.seed, sub, k)
            age = now - data.created_utc(self.anchor, self.gap, k, t.jitter)
            offsets = data.comment_offsets(self.config.seed, sub, k)
            for j in range(bisect.bisect_right(offsets, age)):
                out.append((offsets[j] + now - age, k, j))
        out.sort(reverse=True)
        return out

    def comment(self, sub: str, k: int, j: int) -> dict:
        return {"kind": "t1", "data": data.comment_json(self.config.seed, sub, k, j, self.anchor, self.gap)}

    def post(self, sub: str, k: int) -> dict:
        return {"kind": "t3", "data": data.post_json(self.config.seed, sub, k, self.anchor, self.gap, self.now(sub))}

    # -- rate limit: one budget per window, as Reddit counts it per client
    def spend(self) -> tuple[bool, dict[str, str]]:
        now = time.monotonic()
        if now - self.window_start >= self.config.ratelimit_window:
            self.window_start, self.used = now, 0
        ok = self.used < self.config.ratelimit_budget
        if ok:
            self.used += 1
        reset = max(0, math.ceil(self.config.ratelimit_window - (now - self.window_start)))
        return ok, {
            "x-ratelimit-remaining": f"{float(self.config.ratelimit_budget - self.used):.1f}",
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(reset),
        }

    def take_fault(self, target: str) -> Fault | None:
        for key in (target.lower(), "*"):
            f = self.faults.get(key)
            if f is None:
                continue
            if f.statuses:
                return Fault(statuses=[f.statuses.pop(0)], latency=f.latency, reset=f.reset)
            if f.latency:
                return Fault(latency=f.latency)
        return None


def _listing(children: list[dict], after: str | None) -> dict:
    return {
        "kind": "Listing",
        "data": {"after": after, "before": None, "dist": len(children), "modhash": None, "children": children},
    }


def _error(status: int, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {
            "message": {404: "Not Found", 403: "Forbidden", 429: "Too Many Requests", 400: "Bad Request"}.get(
                status, "Server Error"
            ),
            "error": status,
        },
        status=status,
        headers=headers,
    )


async def _api(request: web.Request, world: World, kind: str, target: str, handler) -> web.Response:
    """Common path of the API endpoints: fault injection, the rate-limit budget, the request log."""
    fault = world.take_fault(target)
    if fault and fault.latency:
        await asyncio.sleep(fault.latency)
    ok, headers = world.spend()
    n_ids = 0
    status = fault.statuses[0] if fault and fault.statuses else 0
    if status == 429 and fault:
        headers.update({"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": str(fault.reset)})
        resp = _error(429, headers)
    elif status:
        resp = _error(status)
    elif not ok:
        resp = _error(429, headers)
    else:
        resp, n_ids = handler()
        resp.headers.update(headers)
    world.requests.append(
        {
            "seq": len(world.requests),
            "t": time.time(),
            "kind": kind,
            "target": target,
            "status": resp.status,
            "ids": n_ids,
        }
    )
    return resp


def build_app(world: World) -> web.Application:
    routes = web.RouteTableDef()

    @routes.post("/api/v1/access_token")
    async def token(request: web.Request) -> web.Response:
        if not request.headers.get("Authorization", "").startswith("Basic "):
            return web.json_response({"error": 401, "message": "Unauthorized"}, status=401)
        world.requests.append(
            {"seq": len(world.requests), "t": time.time(), "kind": "token", "target": "", "status": 200, "ids": 0}
        )
        return web.json_response(
            {"access_token": "simulated-token", "token_type": "bearer", "expires_in": 86400, "scope": "*"}
        )

    async def listing(request: web.Request, kind: str, prefix: str, items, ids, child) -> web.Response:
        """A page of a subreddit's listing, newest first: `items(sub)` all of it, `ids(sub, item)`
        an item's id (for `after=<prefix><id>`), `child(sub, item)` its Listing child."""
        sub_raw = request.match_info["sub"]

        def answer() -> tuple[web.Response, int]:
            sub = world.names.get(sub_raw.lower())
            if sub is None:
                return _error(404), 0
            try:
                limit = max(1, min(MAX_LIMIT, int(request.query.get("limit", "25"))))
            except ValueError:
                return _error(400), 0
            found = items(sub)
            start = 0
            after = request.query.get("after", "").removeprefix(prefix)
            if after:
                pos = {ids(sub, item): i for i, item in enumerate(found)}.get(after)
                start = len(found) if pos is None else pos + 1
            children = [child(sub, item) for item in found[start : start + limit]]
            more = start + limit < len(found)
            return web.json_response(
                _listing(children, children[-1]["data"]["name"] if more and children else None)
            ), len(children)

        return await _api(request, world, kind, sub_raw, answer)

    @routes.get("/r/{sub}/new")
    async def new(request: web.Request) -> web.Response:
        seed = world.config.seed
        return await listing(
            request, "new", "t3_", world.existing, lambda sub, k: data.post_id(seed, sub, k), world.post
        )

    async def comments(request: web.Request) -> web.Response:
        seed = world.config.seed
        return await listing(
            request,
            "comments",
            "t1_",
            world.comments,
            lambda sub, c: data.comment_id(seed, sub, c[1], c[2]),
            lambda sub, c: world.comment(sub, c[1], c[2]),
        )

    routes.get("/r/{sub}/comments")(comments)
    routes.get("/r/{sub}/comments/")(comments)

    async def info(request: web.Request) -> web.Response:
        fullnames = [x for x in request.query.get("id", "").split(",") if x]

        def answer() -> tuple[web.Response, int]:
            if len(fullnames) > MAX_LIMIT:
                return _error(400), 0
            children = []
            for name in fullnames:
                hit = world.index.get(name.removeprefix("t3_"))
                if hit:
                    children.append(world.post(*hit))
            return web.json_response(_listing(children, None)), len(fullnames)

        return await _api(request, world, "info", "info", answer)

    routes.get("/api/info/")(info)
    routes.get("/api/info")(info)

    @routes.post("/_sim/faults")
    async def set_fault(request: web.Request) -> web.Response:
        body = await request.json()
        target = str(body.get("target", "*")).lower()
        world.faults[target] = Fault(
            statuses=[int(x) for x in body.get("statuses", [])],
            latency=float(body.get("latency", 0.0)),
            reset=int(body.get("reset", 1)),
        )
        log.info("sim fault set target=%s %s", target, world.faults[target])
        return web.json_response({"ok": True})

    @routes.delete("/_sim/faults")
    async def clear_faults(request: web.Request) -> web.Response:
        world.faults.clear()
        return web.json_response({"ok": True})

    @routes.post("/_sim/advance")
    async def advance(request: web.Request) -> web.Response:
        body = await request.json()
        key = str(body.get("subreddit", "*")).lower()
        world.advanced[key] = world.advanced.get(key, 0.0) + float(body["seconds"])
        return web.json_response({"ok": True, "advanced": world.advanced})

    @routes.get("/_sim/requests")
    async def requests(request: web.Request) -> web.Response:
        since = int(request.query.get("since", "0"))
        return web.json_response({"requests": world.requests[since:], "next": len(world.requests)})

    @routes.get("/_sim/posts")
    async def posts(request: web.Request) -> web.Response:
        sub = world.names.get(request.query.get("subreddit", "").lower())
        if sub is None:
            return _error(404)
        return web.json_response({"ids": [data.post_id(world.config.seed, sub, k) for k in world.existing(sub)]})

    @routes.get("/_sim/comments")
    async def all_comments(request: web.Request) -> web.Response:
        sub = world.names.get(request.query.get("subreddit", "").lower())
        if sub is None:
            return _error(404)
        seed = world.config.seed
        return web.json_response(
            {data.comment_id(seed, sub, k, j): data.post_id(seed, sub, k) for _, k, j in world.comments(sub)}
        )

    @web.middleware
    async def log_requests(request: web.Request, handler) -> web.StreamResponse:
        t0 = time.monotonic()
        resp = await handler(request)
        log.info(
            "sim %s %s status=%s ms=%.1f",
            request.method,
            request.path_qs[:160],
            resp.status,
            (time.monotonic() - t0) * 1000,
        )
        return resp

    app = web.Application(middlewares=[log_requests])
    app.add_routes(routes)
    app["world"] = world
    return app


async def serve(
    world: Any, host: str, port: int, build: Callable[[Any], web.Application] | None = None
) -> web.AppRunner:
    """Serve `build(world)`: this simulator's app, or another's (streams/simulator/archive.py)."""
    runner = web.AppRunner((build or build_app)(world), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
