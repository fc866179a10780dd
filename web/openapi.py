"""`GET /openapi.json`: the OpenAPI 3.1 document of every route the worker serves.

The schemas are strict (every property required, no others), and tests/integration/
test_openapi.py checks the real responses against them and the worker's routes against the
paths, so this document cannot drift from the code. The parameters carry the server's own rules
(the patterns and bounds of web.params and web.dlq), every operation its `operationId`, `tags`
and `servers`, and tests/integration/test_schemathesis.py fuzzes a live worker against it.
"""

from __future__ import annotations

from typing import Any

from streams.app import app
from web.dlq import ERROR_TYPE, TOPIC_NAME
from web.params import POST_ID as POST_ID_RE
from web.params import SUBREDDIT as SUBREDDIT_RE
from web.params import schema_pattern

NUM = {"type": "number"}
INT = {"type": "integer"}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
TS = {"type": "string", "format": "date-time", "description": "ISO 8601, UTC (`Z`)"}


def nullable(schema: dict) -> dict:
    return {**schema, "type": [schema["type"], "null"]}


def obj(props: dict[str, Any], *, optional: tuple[str, ...] = (), extra: bool = False, description: str = "") -> dict:
    out: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "required": [k for k in props if k not in optional],
        "additionalProperties": extra,
    }
    if description:
        out["description"] = description
    return out


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


POST = obj(
    {
        "post_id": STR,
        "subreddit": STR,
        "title": STR,
        "author": nullable(STR),
        "created_utc": TS,
        "score": INT,
        "num_comments": INT,
        "upvote_ratio": NUM,
        "sentiment": NUM,
        "score_velocity": NUM,
        "comment_velocity": NUM,
        "trending_score": NUM,
        "is_trending": BOOL,
        "url": STR,
        "permalink": STR,
        "last_observed_at": TS,
        "comments_seen": {"type": "integer", "description": "Its comments stored (a count of `comments`)"},
        "comment_sentiment": {
            "type": ["number", "null"],
            "description": "Their mean VADER sentiment (removed and deleted bodies left out); null without any",
        },
    },
    description="The latest observation of a post; velocities per minute",
)
COMMENT = obj(
    {
        "comment_id": STR,
        "post_id": STR,
        "parent_id": {"type": "string", "description": "Full name of the parent: `t3_…` (the post) or `t1_…`"},
        "subreddit": STR,
        "author": nullable(STR),
        "body": {"type": ["string", "null"], "description": "null when [deleted] or [removed]"},
        "score": INT,
        "created_utc": TS,
        "sentiment": {"type": ["number", "null"], "description": "VADER compound; null when the body is gone"},
    },
    description="One comment",
)
HISTORY = obj(
    {
        "observed_at": TS,
        "score": INT,
        "num_comments": INT,
        "upvote_ratio": NUM,
        "score_velocity": nullable(NUM),
        "comment_velocity": nullable(NUM),
    },
    description="One observation; velocities null for a first or out-of-order one",
)
DEAD_LETTER = obj(
    {
        "id": INT,
        "source_topic": STR,
        "partition": INT,
        "offset": INT,
        "key": nullable(STR),
        "payload": STR,
        "payload_encoding": {"type": "string", "enum": ["utf-8", "base64"]},
        "error_type": STR,
        "error": STR,
        "failed_at": TS,
        "attempt": INT,
        "replayed_at": nullable(TS),
    }
)
WINDOW = obj(
    {
        "posts": INT,
        "observations": INT,
        "mean_sentiment": nullable(NUM),
        "score_velocity_sum": NUM,
        "comments": INT,
        "comments_per_minute": NUM,
        "mean_comment_sentiment": nullable(NUM),
    },
    description="One window's figures; the comments' mean leaves out removed and deleted bodies",
)
COUNTS = {"type": "object", "additionalProperties": INT}

SCHEMAS: dict[str, Any] = {
    "Error": obj({"error": STR}, description="Every 4xx/5xx answer"),
    "Post": POST,
    "PostDetail": obj(
        {
            **POST["properties"],
            "history": array(ref("HistoryPoint")),
            "comment_history": array(
                obj(
                    {"minute": TS, "comments": INT, "sentiment": nullable(NUM)},
                    description="The post's comments created in one minute, and their mean sentiment",
                )
            ),
        },
        description="A post, its observations and its comments per minute, oldest first",
    ),
    "Comment": COMMENT,
    "CommentsPage": obj({"comments": array(ref("Comment")), "next_cursor": nullable(STR)}),
    "HistoryPoint": HISTORY,
    "PostsPage": obj({"posts": array(ref("Post")), "next_cursor": nullable(STR)}),
    "Trending": obj({"posts": array(ref("Post"))}),
    "Stats": obj(
        {
            "total_posts": INT,
            "posts_last_24h": INT,
            "observations_last_24h": INT,
            "avg_sentiment_24h": nullable(NUM),
            "comments_last_24h": INT,
            "avg_comment_sentiment_24h": nullable(NUM),
            "trending_now": INT,
            "top_subreddits": array(obj({"subreddit": STR, "posts": INT})),
            "top_authors": array(obj({"author": STR, "posts": INT})),
            "generated_at": TS,
            "cached": {"type": "boolean", "description": "true when served from the Redis cache"},
        }
    ),
    "Subreddit": obj(
        {
            "subreddit": STR,
            "posts_24h": INT,
            "avg_sentiment_24h": nullable(NUM),
            "trending_now": INT,
            "hourly": array(
                obj(
                    {
                        "hour": TS,
                        "observations": INT,
                        "avg_score": nullable(NUM),
                        "avg_score_velocity": nullable(NUM),
                        "comments": INT,
                        "avg_comment_sentiment": nullable(NUM),
                    }
                )
            ),
        }
    ),
    "Rates": obj(
        {
            "minutes": array(obj({"minute": TS, "observations": INT, "dead_letters": INT})),
            "generated_at": TS,
            "cached": {"type": "boolean", "description": "true when served from the Redis cache"},
        },
        description="Rows per minute in the database (every worker's), oldest first; the last minute is partial",
    ),
    "SubredditWindows": obj({"subreddit": STR, "minute": WINDOW, "hour": WINDOW}),
    "Velocity": obj(
        {
            "post_id": STR,
            "score": INT,
            "comments": INT,
            "observed_at": TS,
            "score_velocity": NUM,
            "comment_velocity": NUM,
            "sentiment": NUM,
        },
        optional=("sentiment",),
        description="Live from the velocity table",
    ),
    "LiveComments": obj(
        {
            "post_id": STR,
            "comments_seen": INT,
            "mean_sentiment": nullable(NUM),
            "comments_per_minute": {
                "type": "number",
                "description": "Comments created in the 10 minutes up to the newest one, per minute",
            },
            "last_comment_at": nullable(TS),
        },
        description="Live from the post_comments table",
    ),
    "DeadLetter": DEAD_LETTER,
    "DeadLettersPage": obj({"dead_letters": array(ref("DeadLetter")), "next_cursor": nullable(STR)}),
    "DlqStats": obj({"total": INT, "not_replayed": INT, "by_topic": COUNTS, "by_error_type": COUNTS}),
    "ReplayResult": obj({"replayed": INT}, extra=True),
    "Health": obj({"status": STR, "app": STR, "uptime_s": NUM}),
    "Ready": obj({"ready": BOOL, "kafka": {"type": "object"}, "database": STR, "redis": STR}),
}


def param(name: str, schema: dict, description: str, where: str = "query", required: bool = False) -> dict:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "schema": schema,
        "description": description,
    }


LIMIT = param("limit", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}, "Page size")
SUBREDDIT = param(
    "subreddit", {"type": "string", "pattern": schema_pattern(SUBREDDIT_RE)}, "Only this subreddit (exact name)"
)
CURSOR = param(
    "cursor",
    {"type": "string", "minLength": 1, "maxLength": 512},
    "`next_cursor` of the previous page (opaque; any other value is a 400)",
)
POST_ID = param("post_id", {"type": "string", "pattern": schema_pattern(POST_ID_RE)}, "Base-36 post id", "path")
SOURCE_TOPIC = param(
    "source_topic", {"type": "string", "pattern": schema_pattern(TOPIC_NAME)}, "Only this source topic (a topic name)"
)
ERROR_TYPE_PARAM = param(
    "error_type", {"type": "string", "pattern": schema_pattern(ERROR_TYPE)}, "Only this error type (an exception name)"
)
DLQ_ID = param("id", {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}, "dlq_events.id", "path")
ADMIN: list[dict[str, list[str]]] = [{"admin": []}]


def json_response(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*codes: int) -> dict:
    text = {
        400: "A bad parameter (the reason names it)",
        401: "Missing or wrong admin token",
        403: "Admin actions are off (no ADMIN_TOKEN)",
        404: "Unknown id",
        503: "A dependency is down (the reason names it)",
    }
    return {str(c): json_response(ref("Error"), text[c]) for c in codes}


def get(summary: str, schema: dict, *params: dict, codes: tuple[int, ...] = (400, 503), **extra: Any) -> dict:
    return {
        "get": {
            "summary": summary,
            "parameters": list(params),
            "responses": {"200": json_response(schema), **errors(*codes)},
            **extra,
        }
    }


PATHS: dict[str, Any] = {
    "/api/stats/": get("Figures of the last 24 hours (one SQL statement, cached STATS_CACHE_TTL s)", ref("Stats")),
    "/api/posts/": get(
        "Posts newest first, keyset-paginated on (created_utc, post_id)", ref("PostsPage"), SUBREDDIT, LIMIT, CURSOR
    ),
    "/api/posts/{post_id}/": get("A post and its observations", ref("PostDetail"), POST_ID, codes=(400, 404, 503)),
    "/api/posts/{post_id}/comments/": get(
        "A post's comments newest first, keyset-paginated on (created_utc, comment_id); also those of a post "
        "not seen (yet)",
        ref("CommentsPage"),
        POST_ID,
        LIMIT,
        CURSOR,
    ),
    "/api/posts/{post_id}/comments/live/": get(
        "A post's comment figures live from the table (served by the key's owner)",
        ref("LiveComments"),
        POST_ID,
        codes=(400, 404, 503),
    ),
    "/api/posts/{post_id}/velocity/": get(
        "Live velocity from the table (served by the key's owner)", ref("Velocity"), POST_ID, codes=(400, 404, 503)
    ),
    "/api/trending/": get(
        "Trending posts observed within the velocity TTL, highest trending_score first",
        ref("Trending"),
        SUBREDDIT,
        LIMIT,
    ),
    "/api/subreddits/": get("Per subreddit: 24-hour figures and the hourly series", array(ref("Subreddit"))),
    "/api/rates/": get(
        "The whole group's throughput: observations and dead letters per minute, last 60 min", ref("Rates")
    ),
    "/api/subreddits/{name}/stats/": get(
        "The current 1-minute and 1-hour windows (served by the key's owner)",
        ref("SubredditWindows"),
        param("name", SUBREDDIT["schema"], "Subreddit", "path"),
    ),
    "/dlq/": get(
        "Dead letters newest first, keyset-paginated",
        ref("DeadLettersPage"),
        SOURCE_TOPIC,
        ERROR_TYPE_PARAM,
        param("replayed", BOOL, "Only replayed (`true`) or not yet replayed (`false`) ones"),
        LIMIT,
        CURSOR,
    ),
    "/dlq/stats/": get("Dead-letter counts", ref("DlqStats")),
    "/dlq/replay/": {
        "post": {
            "summary": "Replay every not-yet-replayed dead letter that matches (original key and bytes to the source)",
            "security": ADMIN,
            "parameters": [SOURCE_TOPIC, ERROR_TYPE_PARAM],
            "responses": {"200": json_response(ref("ReplayResult")), **errors(400, 401, 403, 503)},
        }
    },
    "/dlq/replay/{id}/": {
        "post": {
            "summary": "Replay one dead letter (idempotent: published once)",
            "security": ADMIN,
            "parameters": [DLQ_ID],
            "responses": {"200": json_response(ref("ReplayResult")), **errors(400, 401, 403, 404, 503)},
        }
    },
    "/": {
        "get": {
            "summary": "The live dashboard page",
            "responses": {"200": {"description": "OK", "content": {"text/html": {"schema": STR}}}, **errors(400)},
        }
    },
    "/static/{name}": {
        "get": {
            "summary": "The dashboard's own files",
            "parameters": [param("name", STR, "File name", "path")],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {
                        "application/javascript": {"schema": STR},
                        "text/css": {"schema": STR},
                        "text/html": {"schema": STR},
                    },
                },
                **errors(404),
            },
        }
    },
    "/vendor/{name}": {
        "get": {
            "summary": "uPlot, as installed by `make install`",
            "parameters": [
                param("name", {"type": "string", "enum": ["uPlot.iife.min.js", "uPlot.min.css"]}, "File name", "path")
            ],
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {"application/javascript": {"schema": STR}, "text/css": {"schema": STR}},
                },
                **errors(404),
            },
        }
    },
    "/api/live/": {
        "get": {
            "summary": "Server-sent events: this worker's rates every 2 s (`data: {at, "
            "events_per_s, dead_letters_per_s, rows_per_s, events, dead_letters, rows}`)",
            "responses": {
                "200": {"description": "An event stream", "content": {"text/event-stream": {"schema": STR}}},
                **errors(400),
            },
        }
    },
    "/health/": get("Liveness", ref("Health"), codes=()),
    "/ready/": {
        "get": {
            "summary": "Readiness: broker assignment and recovery, database, Redis",
            "responses": {
                "200": json_response(ref("Ready")),
                "503": json_response(ref("Ready"), "Not ready: the body says which"),
            },
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus exposition",
            "responses": {"200": {"description": "OK", "content": {"text/plain": {"schema": STR}}}},
        }
    },
    "/openapi.json": {"get": {"summary": "This document", "responses": {"200": json_response({"type": "object"})}}},
    "/debug/partitions/": get(
        "The consumer's partitions (admin)", {"type": "object"}, codes=(401, 403), security=ADMIN
    ),
    "/debug/tasks/": get(
        "Where every asyncio task waits (admin)", {"type": "object"}, codes=(401, 403), security=ADMIN
    ),
    "/debug/rebalance/": {
        "post": {
            "summary": "Rejoin the group: a rebalance on demand (admin)",
            "security": ADMIN,
            "responses": {"202": json_response({"type": "object"}), **errors(401, 403)},
        }
    },
}


# Every operation's `operationId` (what a client generator names its method) and tag.
OPERATIONS: dict[tuple[str, str], tuple[str, str]] = {
    ("/api/stats/", "get"): ("getStats", "analytics"),
    ("/api/rates/", "get"): ("getThroughput", "dashboard"),
    ("/api/posts/", "get"): ("listPosts", "analytics"),
    ("/api/posts/{post_id}/", "get"): ("getPost", "analytics"),
    ("/api/posts/{post_id}/comments/", "get"): ("listPostComments", "analytics"),
    ("/api/posts/{post_id}/comments/live/", "get"): ("getPostCommentsLive", "analytics"),
    ("/api/posts/{post_id}/velocity/", "get"): ("getPostVelocity", "analytics"),
    ("/api/trending/", "get"): ("listTrending", "analytics"),
    ("/api/subreddits/", "get"): ("listSubreddits", "analytics"),
    ("/api/subreddits/{name}/stats/", "get"): ("getSubredditWindows", "analytics"),
    ("/dlq/", "get"): ("listDeadLetters", "dead letters"),
    ("/dlq/stats/", "get"): ("getDeadLetterStats", "dead letters"),
    ("/dlq/replay/", "post"): ("replayDeadLetters", "dead letters"),
    ("/dlq/replay/{id}/", "post"): ("replayDeadLetter", "dead letters"),
    ("/", "get"): ("getDashboard", "dashboard"),
    ("/static/{name}", "get"): ("getStaticFile", "dashboard"),
    ("/vendor/{name}", "get"): ("getVendorFile", "dashboard"),
    ("/api/live/", "get"): ("streamLiveRates", "dashboard"),
    ("/health/", "get"): ("getHealth", "operations"),
    ("/ready/", "get"): ("getReadiness", "operations"),
    ("/metrics", "get"): ("getMetrics", "operations"),
    ("/openapi.json", "get"): ("getOpenApiDocument", "operations"),
    ("/debug/partitions/", "get"): ("getDebugPartitions", "debug"),
    ("/debug/tasks/", "get"): ("getDebugTasks", "debug"),
    ("/debug/rebalance/", "post"): ("requestRebalance", "debug"),
}
TAGS = [
    {"name": "analytics", "description": "Posts, trending, stats and subreddits (PostgreSQL and the live tables)"},
    {"name": "dead letters", "description": "Records that failed, and their replay (admin token)"},
    {"name": "dashboard", "description": "The live dashboard page, its files and its event stream"},
    {"name": "operations", "description": "Liveness, readiness, metrics and this document"},
    {"name": "debug", "description": "For operators chasing a stall (admin token)"},
]
# Every worker serves the whole API on its own address: the document's base is the server it came from.
SERVERS = [{"url": "/", "description": "The worker that served this document (any worker of the group)"}]


def link(operation_id: str, parameter: str, pointer: str) -> dict:
    return {"operationId": operation_id, "parameters": {parameter: f"$response.body#{pointer}"}}


# Where a 200 leads (OpenAPI links: what a client, or a fuzzer's stateful phase, follows next).
LINKS: dict[tuple[str, str], dict[str, Any]] = {
    ("/api/posts/", "get"): {
        "GetFirstPost": link("getPost", "path.post_id", "/posts/0/post_id"),
        "GetFirstPostVelocity": link("getPostVelocity", "path.post_id", "/posts/0/post_id"),
        "ListFirstPostComments": link("listPostComments", "path.post_id", "/posts/0/post_id"),
        "GetFirstPostCommentsLive": link("getPostCommentsLive", "path.post_id", "/posts/0/post_id"),
    },
    ("/api/trending/", "get"): {"GetFirstTrendingPost": link("getPost", "path.post_id", "/posts/0/post_id")},
    ("/api/subreddits/", "get"): {"GetFirstSubredditWindows": link("getSubredditWindows", "path.name", "/0/subreddit")},
    ("/dlq/", "get"): {"ReplayFirstDeadLetter": link("replayDeadLetter", "path.id", "/dead_letters/0/id")},
}


def paths() -> dict[str, Any]:
    """`PATHS` with each operation's `operationId`, `tags`, `servers` and its 200's links."""
    out: dict[str, Any] = {}
    for path, methods in PATHS.items():
        out[path] = {}
        for method, op in methods.items():
            operation_id, tag = OPERATIONS[(path, method)]
            operation = {"operationId": operation_id, "tags": [tag], "servers": SERVERS, **op}
            if (path, method) in LINKS:
                ok = {**operation["responses"]["200"], "links": LINKS[(path, method)]}
                operation["responses"] = {**operation["responses"], "200": ok}
            out[path][method] = operation
    return out


def document() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "redditstream",
            "version": "1",
            "description": "Real-time Reddit analytics: the API of every worker (docs/design.md §6). Errors are "
            '`{"error": reason}` (`application/json; charset=utf-8`, as every JSON answer), also for a request '
            "the server cannot parse; a parameter given empty, with non-ASCII digits, or outside the rules "
            "written here is a 400; timestamps ISO 8601 UTC.",
        },
        "servers": SERVERS,
        "tags": TAGS,
        "paths": paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"admin": {"type": "http", "scheme": "bearer", "description": "ADMIN_TOKEN"}},
        },
    }


@app.page("/openapi.json")
async def openapi(web, request):
    return web.json(document())
