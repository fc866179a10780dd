"""The JSON API against a real worker with data that went through the pipeline into real
PostgreSQL and Redis: every route's shape and figures, every bad-input case, keyset pagination
over 1,000 posts sharing 10 timestamps, and the stats cache's single flight across two workers.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import psycopg
import pytest
import redis as redis_lib

from tests import harness
from tests.kafka_tools import produce
from tests.scenario import snapshot

NOW = time.time()
SUBS = ("python", "rust", "golang")
N_POSTS = 1000
TIMESTAMPS = [NOW - 3600 - k * 60 for k in range(10)]  # 10 created_utc values, 100 posts each
N_TRENDING = 30
OLD_TRENDING = "oldhot1"  # trending, but last observed beyond the velocity TTL
POST_FIELDS = {
    "post_id",
    "subreddit",
    "title",
    "author",
    "created_utc",
    "score",
    "num_comments",
    "upvote_ratio",
    "sentiment",
    "score_velocity",
    "comment_velocity",
    "trending_score",
    "is_trending",
    "url",
    "permalink",
    "last_observed_at",
    "comments_seen",
    "comment_sentiment",
}


def pid(i: int) -> str:
    return f"a{i:04x}"


def iso_ok(value: str) -> bool:
    return isinstance(value, str) and value.endswith("Z") and datetime.fromisoformat(value[:-1] + "+00:00") is not None


q = harness.query


@pytest.fixture(scope="module")
def env(stack, database, redis_url, tmp_path_factory) -> dict[str, str]:
    uid = harness.unique("")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TOPIC_", "APP_ID", "WEB_"))}
    return {
        **base,
        **stack,
        "DATABASE_URL": database,
        "REDIS_URL": redis_url,
        "APP_ID": f"rs-test-{uid}",
        "TOPIC_POSTS": f"test.{uid}.posts",
        "TOPIC_REFRESH": f"test.{uid}.refresh",
        "TOPIC_DLQ": f"test.{uid}.dlq",
        "TOPIC_OBSERVATIONS": f"test.{uid}.observations",
        "TOPIC_BACKFILL": f"test.{uid}.backfill",
        "TOPIC_COMMENTS": f"test.{uid}.comments",
        "TOPIC_PARTITIONS": "8",
        "SINK_FLUSH_SECONDS": "0.5",
        "MAINTENANCE_INTERVAL_SECONDS": "2",
        "STATS_CACHE_TTL": "300",
        "ADMIN_TOKEN": harness.ADMIN_TOKEN,
        "PYTHONUNBUFFERED": "1",
        "WORKDIR": str(tmp_path_factory.mktemp("api")),
    }


@pytest.fixture(scope="module")
def workers(env):
    started: list[harness.Worker] = []

    def start(name: str, **over: str) -> harness.Worker:
        wenv = {**env, "WEB_PORT": str(harness.free_port()), "DATA_DIR": os.path.join(env["WORKDIR"], name), **over}
        w = harness.Worker(env=wenv, name=name, workdir=__import__("pathlib").Path(env["WORKDIR"]))
        started.append(w)
        return w.start()

    yield start
    for w in started:
        w.kill()


@pytest.fixture(scope="module")
def api(env, workers) -> harness.Worker:
    """One worker, fed 1,000 posts (10 created_utc values), refreshes that make 30 of them trend,
    and one trending post last observed beyond the velocity TTL."""
    w = workers("api")
    firsts, refreshes = [], []
    for i in range(N_POSTS):
        snap = snapshot(
            pid(i),
            NOW - 600,
            5 + i % 7,
            i % 5,
            sub=SUBS[i % 3],
            created=TIMESTAMPS[i % 10],
            title=["What a wonderful, great release", "This is terrible and awful", "A post"][i % 3],
        )
        snap["author"] = None if i % 50 == 0 else f"user{i % 13}"
        firsts.append(snap)
    for i in range(N_TRENDING):  # +600 points and 150 comments in a minute: trending
        refreshes.append(
            snapshot(pid(i), NOW - 540, 605, 150, sub=SUBS[i % 3], created=TIMESTAMPS[i % 10], source="refresh")
        )
    old = NOW - 30 * 3600
    firsts.append(snapshot(OLD_TRENDING, old, 1, 0, created=old - 60))
    refreshes.append(snapshot(OLD_TRENDING, old + 60, 900, 200, created=old - 60, source="refresh"))
    url = env["DATABASE_URL"]
    produce(env, env["TOPIC_POSTS"], [(s["id"], json.dumps(s).encode()) for s in firsts])
    # the two topics are consumed independently: refreshes go once their posts' firsts are in
    harness.wait_for(
        lambda: q(url, "SELECT count(*) FROM post_metrics_history")[0][0] == len(firsts),
        120,
        "every first observation in post_metrics_history",
    )
    produce(env, env["TOPIC_REFRESH"], [(s["id"], json.dumps(s).encode()) for s in refreshes])
    harness.wait_for(
        lambda: q(url, "SELECT count(*) FROM post_metrics_history")[0][0] == len(firsts) + len(refreshes),
        120,
        "every observation in post_metrics_history",
    )
    harness.wait_for(
        lambda: q(
            url,
            "SELECT coalesce(sum(observations), 0) FROM post_metrics_hourly WHERE bucket >= now() - interval '2 hours'",
        )[0][0]
        == N_POSTS + N_TRENDING,
        60,
        "post_metrics_hourly rolled up by the maintenance timer",
    )
    return w


def get(w: harness.Worker, path: str) -> tuple[int, object]:
    status, headers, body = w.request(path)
    assert headers.get("Content-Type") == "application/json; charset=utf-8", (path, headers)  # one, on every route
    return status, json.loads(body)


# ------------------------------------------------------------------ shapes and figures


def test_stats_figures_match_the_database(api, env):
    url = env["DATABASE_URL"]
    redis_lib.Redis.from_url(env["REDIS_URL"]).delete(f"{env['APP_ID']}:api:stats")
    status, body = get(api, "/api/stats/")
    assert status == 200
    assert set(body) == {
        "total_posts",
        "posts_last_24h",
        "observations_last_24h",
        "avg_sentiment_24h",
        "comments_last_24h",
        "avg_comment_sentiment_24h",
        "trending_now",
        "top_subreddits",
        "top_authors",
        "generated_at",
        "cached",
    }
    assert body["comments_last_24h"] == 0 and body["avg_comment_sentiment_24h"] is None
    assert body["cached"] is False and iso_ok(body["generated_at"])
    assert body["total_posts"] == N_POSTS + 1
    assert body["posts_last_24h"] == N_POSTS  # the old post was created 30 h ago
    assert body["observations_last_24h"] == N_POSTS + N_TRENDING
    assert body["trending_now"] == N_TRENDING
    (avg,) = q(url, "SELECT avg(sentiment) FROM posts WHERE created_utc >= now() - interval '24 hours'")[0]
    assert abs(body["avg_sentiment_24h"] - avg) < 1e-9
    assert body["top_subreddits"] == [
        {"subreddit": s, "posts": n}
        for s, n in sorted(
            ((s, sum(1 for i in range(N_POSTS) if SUBS[i % 3] == s)) for s in SUBS), key=lambda x: (-x[1], x[0])
        )
    ]
    want_authors = q(
        url,
        "SELECT author, count(*) FROM posts WHERE author IS NOT NULL AND created_utc >= "
        "now() - interval '24 hours' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
    )
    assert body["top_authors"] == [{"author": a, "posts": n} for a, n in want_authors]
    status, again = get(api, "/api/stats/")
    assert again["cached"] is True and again["generated_at"] == body["generated_at"]


def test_posts_walk_every_page_once_with_ties(api, env):
    seen: list[str] = []
    cursor, pages = None, 0
    while True:
        status, body = get(api, "/api/posts/?limit=37" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200, body
        assert all(set(p) == POST_FIELDS for p in body["posts"])
        seen += [p["post_id"] for p in body["posts"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert len(body["posts"]) == 37
    assert len(seen) == len(set(seen)) == N_POSTS + 1
    want = [r[0] for r in q(env["DATABASE_URL"], "SELECT post_id FROM posts ORDER BY created_utc DESC, post_id DESC")]
    assert seen == want and pages == -(-(N_POSTS + 1) // 37)
    # per subreddit, with the default limit
    for sub in SUBS:
        got, cursor = [], None
        while True:
            _, body = get(api, f"/api/posts/?subreddit={sub}" + (f"&cursor={cursor}" if cursor else ""))
            assert all(p["subreddit"] == sub for p in body["posts"])
            got += [p["post_id"] for p in body["posts"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert len(got) == len(set(got)) == sum(1 for i in range(N_POSTS) if SUBS[i % 3] == sub) + (sub == "python")
    # exactly one page: no cursor
    _, body = get(api, "/api/posts/?limit=200&subreddit=nosuchsub")
    assert body == {"posts": [], "next_cursor": None}


def test_post_pages_use_the_keyset_indexes(api, env):
    from web.queries import PAGE, POST_COLUMNS, _page_sql  # noqa: F401 - the statements the API runs

    url = env["DATABASE_URL"]
    ts = datetime.fromtimestamp(TIMESTAMPS[4], UTC)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE posts")
        for sql, params, index in (
            (_page_sql(None, True), {"limit": 51, "after_ts": ts, "after_id": "a0100"}, "ix_posts_keyset"),
            (
                _page_sql("rust", True),
                {"limit": 51, "after_ts": ts, "after_id": "a0100", "subreddit": "rust"},
                "ix_posts_subreddit_keyset",
            ),
            (_page_sql(None, False), {"limit": 51}, "ix_posts_keyset"),
        ):
            plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, params).fetchall())
            assert f"Index Scan using {index}" in plan, plan
            assert "Sort" not in plan, plan
            if "after_ts" in params:
                cond = [line for line in plan.splitlines() if "Index Cond:" in line]
                assert cond and "ROW(created_utc, post_id) < ROW(" in cond[0], plan  # the keyset is the index's


def test_post_detail_has_its_history(api, env):
    status, body = get(api, f"/api/posts/{pid(3)}/")
    assert status == 200
    assert set(body) == POST_FIELDS | {"history", "comment_history"}
    assert body["score"] == 605 and body["num_comments"] == 150 and body["is_trending"] is True
    assert body["score_velocity"] == pytest.approx(605 - (5 + 3 % 7)) and body["comment_velocity"] == pytest.approx(
        150 - 3
    )
    assert iso_ok(body["created_utc"]) and iso_ok(body["last_observed_at"])
    assert datetime.fromisoformat(body["created_utc"][:-1] + "+00:00").timestamp() == pytest.approx(
        TIMESTAMPS[3], abs=1e-6
    )
    hist = body["history"]
    assert [h["score"] for h in hist] == [5 + 3 % 7, 605]
    assert set(hist[0]) == {
        "observed_at",
        "score",
        "num_comments",
        "upvote_ratio",
        "score_velocity",
        "comment_velocity",
    }
    assert hist[0]["score_velocity"] is None and hist[1]["score_velocity"] == pytest.approx(605 - (5 + 3 % 7))
    assert all(iso_ok(h["observed_at"]) for h in hist)
    assert datetime.fromisoformat(hist[1]["observed_at"][:-1] + "+00:00").timestamp() == pytest.approx(
        NOW - 540, abs=1e-5
    )
    assert get(api, "/api/posts/zzzzzz/") == (404, {"error": "no post zzzzzz"})


def test_trending_now(api, env):
    status, body = get(api, "/api/trending/?limit=200")
    assert status == 200
    posts = body["posts"]
    assert len(posts) == N_TRENDING and OLD_TRENDING not in {p["post_id"] for p in posts}
    assert all(p["is_trending"] and set(p) == POST_FIELDS for p in posts)
    scores = [p["trending_score"] for p in posts]
    assert scores == sorted(scores, reverse=True)
    _, body = get(api, "/api/trending/?subreddit=rust&limit=5")
    assert len(body["posts"]) == 5 and {p["subreddit"] for p in body["posts"]} == {"rust"}
    old = q(env["DATABASE_URL"], "SELECT is_trending FROM posts WHERE post_id = %s", (OLD_TRENDING,))
    assert old == [(True,)]  # trending when last seen, but not now


def test_subreddits_with_hourly_series(api, env):
    status, body = get(api, "/api/subreddits/")
    assert status == 200
    by = {s["subreddit"]: s for s in body}
    assert set(by) == set(SUBS)  # the old post's subreddit has nothing in the last 24 h but is in SUBS
    url = env["DATABASE_URL"]
    for sub in SUBS:
        s = by[sub]
        assert set(s) == {"subreddit", "posts_24h", "avg_sentiment_24h", "trending_now", "hourly"}
        assert s["posts_24h"] == sum(1 for i in range(N_POSTS) if SUBS[i % 3] == sub)
        assert s["trending_now"] == sum(1 for i in range(N_TRENDING) if SUBS[i % 3] == sub)
        want = q(
            url,
            "SELECT bucket, observations, avg_score FROM post_metrics_hourly WHERE subreddit = %s "
            "AND bucket >= date_trunc('hour', now()) - interval '23 hours' ORDER BY bucket",
            (sub,),
        )
        assert [(h["observations"], pytest.approx(h["avg_score"])) for h in s["hourly"]] == [
            (n, pytest.approx(a)) for _, n, a in want
        ]
        assert sum(h["observations"] for h in s["hourly"]) == s["posts_24h"] + s["trending_now"]
        assert all(
            set(h) == {"hour", "observations", "avg_score", "avg_score_velocity", "comments", "avg_comment_sentiment"}
            and iso_ok(h["hour"])
            and h["comments"] == 0
            for h in s["hourly"]
        )


# ------------------------------------------------------------------ bad input: 400/404, never 500

BAD = [
    ("/api/stats/?x=1", 400, "'x'"),
    ("/api/posts/abc/comments/?limit=0", 400, "limit"),
    ("/api/posts/abc/comments/?limit=", 400, "limit"),
    ("/api/posts/abc/comments/?cursor=eyJ4Ijo1fQ", 400, "cursor"),
    ("/api/posts/abc/comments/?subreddit=python", 400, "'subreddit'"),
    ("/api/posts/ABC!/comments/", 400, "post"),
    ("/api/posts/ABC!/comments/live/", 400, "post"),
    ("/api/posts/zzz9/comments/live/", 404, "zzz9"),
    ("/api/posts/?limit=0", 400, "limit"),
    ("/api/posts/?limit=201", 400, "limit"),
    ("/api/posts/?limit=abc", 400, "limit"),
    ("/api/posts/?limit=1e3", 400, "limit"),
    ("/api/posts/?limit=5&limit=6", 400, "limit"),
    ("/api/posts/?limt=5", 400, "'limt'"),
    ("/api/posts/?cursor=notacursor", 400, "cursor"),
    ("/api/posts/?cursor=WyJwb3N0cyIsInRlbiIsImEiXQ", 400, "cursor"),  # ["posts","ten","a"]: wrong types
    ("/api/posts/?cursor=WyJkbHEiLDEsMl0", 400, "cursor"),  # another route's cursor
    ("/api/posts/?subreddit=no%20spaces", 400, "subreddit"),
    ("/api/posts/?subreddit=" + "x" * 40, 400, "subreddit"),
    ("/api/posts/NOT-AN-ID/", 400, "post_id"),
    ("/api/posts/" + "a" * 14 + "/", 400, "post_id"),
    ("/api/posts/abc/?history=1", 400, "'history'"),
    ("/api/posts/zz9zz/", 404, "zz9zz"),
    ("/api/trending/?limit=-1", 400, "limit"),
    ("/api/trending/?subreddit=%00", 400, "subreddit"),
    ("/api/subreddits/?limit=3", 400, "'limit'"),
    ("/api/nothing/", 404, "/api/nothing/"),
    # issue 21: a tampered cursor (["posts",253402300800000000,"a"]: year 10000) was an OverflowError
    ("/api/posts/?cursor=WyJwb3N0cyIsMjUzNDAyMzAwODAwMDAwMDAwLCJhIl0", 400, "cursor"),
    ("/api/posts/?cursor=WyJwb3N0cyIsMSwiYVx1MDAwMGIiXQ", 400, "cursor"),  # a NUL in the post id
    ("/api/posts/?cursor=W10", 400, "cursor"),  # []
    ("/api/posts/?cursor=%EF%BC%A1", 400, "cursor"),  # a fullwidth letter
    # empty values are a mistake, not the default
    ("/api/posts/?subreddit=", 400, "'subreddit' is empty"),
    ("/api/posts/?limit=", 400, "'limit' is empty"),
    ("/api/posts/?cursor=", 400, "'cursor' is empty"),
    ("/api/trending/?subreddit=", 400, "'subreddit' is empty"),
    # digits are ASCII digits; patterns match the whole value
    ("/api/posts/?limit=%EF%BC%95", 400, "limit"),  # fullwidth 5
    ("/api/posts/?limit=%D9%A5", 400, "limit"),  # Arabic-Indic 5
    ("/api/posts/?limit=%2B5", 400, "limit"),  # +5
    ("/api/trending/?limit=%205", 400, "limit"),  # " 5"
    ("/api/posts/%EF%BC%91%EF%BC%92/", 400, "post_id"),  # fullwidth 12
    ("/api/posts/abc%0A/", 400, "post_id"),  # a trailing newline
    ("/api/posts/%EF%BC%91/velocity/", 400, "post_id"),
    ("/api/subreddits/%EF%BD%90ython/stats/", 400, "name"),
    ("/api/subreddits/python%0A/stats/", 400, "name"),
    ("/api/posts/?subreddit=python%0A", 400, "subreddit"),
]


@pytest.mark.parametrize("path,status,names", BAD)
def test_bad_input_is_a_json_error_naming_the_parameter(api, path, status, names):
    got, body = get(api, path)
    assert got == status, body
    assert set(body) == {"error"} and names in body["error"], body


def test_nothing_a_client_sends_is_a_500(api):
    weird = [
        "/api/posts/?cursor=" + "%FF" * 20,
        "/api/posts/?cursor=" + "A" * 5000,
        "/api/posts/?limit=99999999999999",
        "/api/posts/%E2%82%AC/",
        "/api/trending/?limit=",
        "/api/posts/?subreddit=",
        "/api/stats/?=",
        "/api/posts/?cursor=W10",
        "/api/posts/?cursor=bnVsbA",
    ]
    for path in weird:
        status, _, body = api.request(path)
        assert status < 500, (path, status, body)
        if status >= 400:
            assert set(json.loads(body)) == {"error"}
    status, _, body = api.request("/api/posts/", method="DELETE")
    assert status == 405 and "DELETE" in json.loads(body)["error"]
    assert "Traceback" not in api.log_path.read_text(errors="replace")


def test_velocity_times_are_iso_like_every_other(api):
    status, body = get(api, f"/api/posts/{pid(3)}/velocity/")
    assert status == 200 and iso_ok(body["observed_at"]), body
    at = datetime.fromisoformat(body["observed_at"][:-1] + "+00:00").timestamp()
    assert at == pytest.approx(NOW - 540, abs=1e-6)  # the refresh's observed_at, to the microsecond


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /api/posts/\x01secret-input HTTP/1.1\r\nHost: x\r\n\r\n",  # a control character in the target
        b"GET /api/stats/ HTTP/1.1\r\nHost: x\r\nsecret-input without a colon\r\n\r\n",  # a broken header
        b"GET /api/stats/ HTTP/1.1\r\nHost: x\r\nX-Secret-Input: " + b"s" * 9000 + b"\r\n\r\n",  # too long
        b"secret-input\r\n\r\n",  # not HTTP
    ],
)
def test_a_malformed_request_is_the_same_json_400_and_one_log_line(api, raw):
    """aiohttp's own parse errors: the API's error shape, one log line without the input or a
    traceback (a client sending these cannot fill the log with tracebacks)."""
    import socket

    before = api.log_text().count("malformed HTTP request")
    with socket.create_connection(("127.0.0.1", api.port), timeout=5) as sock:
        sock.sendall(raw)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ", 2)[1] == b"400", answer[:300]
    assert b"\r\nContent-Type: application/json; charset=utf-8\r\n" in head, head
    reason = json.loads(body)["error"]
    assert reason.startswith("malformed HTTP request (") and "secret-input" not in reason.lower()
    harness.wait_for(
        lambda: api.log_text().count("malformed HTTP request") == before + 1, 10, "the one log line of the 400"
    )
    log = api.log_text()
    assert "secret-input" not in log.lower() and "Traceback" not in log
    assert get(api, "/api/stats/")[0] == 200  # the worker serves on


def test_builtin_faust_views_are_off_and_debug_needs_the_token(api):
    assert api.request("/table/velocity/")[0] == 404
    assert api.request("/router/")[0] == 404
    for path in ("/debug/tasks/", "/debug/partitions/"):
        assert api.request(path, admin=False)[0] == 401
        assert api.request(path, admin=True)[0] == 200
    _, headers, _ = api.request("/api/stats/")
    assert "Access-Control-Allow-Origin" not in headers  # CORS is off unless CORS_ORIGINS is set


def test_metrics_of_the_web_and_the_worker(api, env):
    get(api, "/api/stats/")
    text = api.get_text("/metrics")
    assert 'redditstream_http_request_seconds_count{method="GET",route="/api/stats/",status="200"}' in text
    assert 'route="/api/posts/{post_id}/",status="404"' in text  # route templates, not raw paths
    # every event was processed: the lag is 0 once faust has committed (every 2.8 s)
    harness.wait_for(
        lambda: api.metric("redditstream_consumer_lag", topic=env["TOPIC_POSTS"]) == 0,
        30,
        "the consumer lag of the posts topic to be 0",
    )
    assert 'redditstream_consumer_lag{partition="0",topic="' + env["TOPIC_POSTS"] + '"}' in text
    assert api.metric("redditstream_db_pool_connections", pool="web", state="max") == 5
    assert api.metric("redditstream_db_pool_connections", pool="sink", state="size") >= 1
    assert api.metric("redditstream_velocity_table_keys") >= N_POSTS


# ------------------------------------------------------------------ the stats cache


def stats_queries(*workers: harness.Worker) -> float:
    return sum(w.metric("redditstream_web_queries_total", query="stats") for w in workers)


def test_stats_cold_cache_runs_one_query_across_two_workers(api, env, workers):
    second = workers("api2")  # same app id and Redis: the group's second worker
    cache = redis_lib.Redis.from_url(env["REDIS_URL"])
    key = f"{env['APP_ID']}:api:stats"
    for _ in range(3):  # cold three times, 50 concurrent requests split over both workers
        cache.delete(key)
        before = stats_queries(api, second)
        with ThreadPoolExecutor(50) as pool:
            answers = list(pool.map(lambda i: get((api, second)[i % 2], "/api/stats/"), range(50)))
        assert all(s == 200 for s, _ in answers)
        assert stats_queries(api, second) - before == 1
        assert len({b["generated_at"] for _, b in answers}) == 1
        # computed once: the requests that shared that computation say cached: false, the rest true
        fresh = [i % 2 for i, (_, b) in enumerate(answers) if b["cached"] is False]
        assert fresh and len(set(fresh)) == 1
    before = stats_queries(api, second)
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda i: get((api, second)[i % 2], "/api/stats/")[0], range(1000)))
    assert answers == [200] * 1000
    assert stats_queries(api, second) - before <= 1


def test_stats_without_redis_come_from_the_database(api, env, workers):
    dead = f"redis://127.0.0.1:{harness.free_port()}/0"
    uid = harness.unique("")  # a group and topics of its own: it only serves the API
    w = workers(
        "noredis",
        REDIS_URL=dead,
        APP_ID=f"rs-test-{uid}",
        TOPIC_POSTS=f"test.{uid}.posts",
        TOPIC_REFRESH=f"test.{uid}.refresh",
        TOPIC_DLQ=f"test.{uid}.dlq",
        TOPIC_OBSERVATIONS=f"test.{uid}.observations",
        TOPIC_BACKFILL=f"test.{uid}.backfill",
        TOPIC_COMMENTS=f"test.{uid}.comments",
    )
    status, body = get(w, "/api/stats/")
    assert status == 200 and body["cached"] is False and body["total_posts"] == N_POSTS + 1
    status, body = get(w, "/api/stats/")
    assert body["cached"] is False
