"""The sink end to end: a worker consumes Observation records and commits them to PostgreSQL."""

from __future__ import annotations

import asyncio
import json

import psycopg

from tests import harness
from tests.integration.sinkutil import BASE_T, history_counts, observation, produce, scalar


def test_sink_writes_history_and_newest_post_state(start_worker, worker_env, database):
    w = start_worker(DATABASE_URL=database)
    topic = worker_env["TOPIC_OBSERVATIONS"]
    newer = observation("abc1", BASE_T + 100, score=50)
    older = observation("abc1", BASE_T + 10, score=5)  # arrives after the newer one
    items = [
        ("abc1", newer),
        ("abc1", older),
        ("abc1", newer),  # a duplicate
        ("abc2", observation("abc2", BASE_T, score=7)),
    ]
    asyncio.run(produce(worker_env, topic, items))
    harness.wait_for(lambda: history_counts(database)[0] >= 3, 60, "rows in post_metrics_history")
    harness.wait_for(lambda: w.metric("redditstream_sink_rows_total", outcome="written") >= 4, 30, "the flush")
    assert history_counts(database) == (3, 3)
    with psycopg.connect(database) as conn:
        score, last = conn.execute(
            "SELECT score, extract(epoch FROM last_observed_at) FROM posts WHERE post_id = 'abc1'"
        ).fetchone()
    assert (score, float(last)) == (50, BASE_T + 100)  # the older observation did not overwrite it
    assert scalar(database, "SELECT count(*) FROM posts") == 2


def test_constraint_violation_is_dead_lettered_rest_committed(start_worker, worker_env, database):
    start_worker(DATABASE_URL=database, SINK_BATCH_SIZE="50", SINK_FLUSH_SECONDS="2")
    topic = worker_env["TOPIC_OBSERVATIONS"]
    good = [(f"g{i}", observation(f"g{i}", BASE_T + i)) for i in range(40)]
    bad = ("bad1", observation("bad1", BASE_T, upvote_ratio=1.5))  # violates CHECK upvote_ratio BETWEEN 0 AND 1
    garbage = ("junk", b"\xff not json")
    asyncio.run(produce(worker_env, topic, good[:20] + [bad, garbage] + good[20:]))
    harness.wait_for(lambda: scalar(database, "SELECT count(*) FROM dlq_events") >= 2, 60, "the dead letters")
    mine = "SELECT count(*) FROM post_metrics_history WHERE post_id ~ '^(g|bad)'"
    harness.wait_for(lambda: scalar(database, mine) >= 40, 30, "the good rows")
    assert scalar(database, mine) == 40
    assert scalar(database, "SELECT count(*) FROM posts WHERE post_id ~ '^g'") == 40
    assert scalar(database, "SELECT count(*) FROM posts WHERE post_id = 'bad1'") == 0
    with psycopg.connect(database) as conn:
        rows = conn.execute(
            'SELECT key, error_type, payload, payload_encoding, source_topic FROM dlq_events ORDER BY "offset"'
        ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [("bad1", "CheckViolation"), ("junk", "BadObservation")]
    assert json.loads(rows[0][2])["snapshot"]["upvote_ratio"] == 1.5  # the original bytes are kept
    assert rows[1][3] == "base64" and all(r[4] == topic for r in rows)


def test_a_batch_message_is_written_row_by_row_and_its_bad_elements_dead_lettered(start_worker, worker_env, database):
    """The enrich agents send observations as JSON arrays (streams.checkpoint): each element is a row;
    an element that is not an Observation, or that PostgreSQL rejects, is a dead letter of its own
    (its JSON, its index as `item`) and the rest of the batch is committed."""
    start_worker(DATABASE_URL=database)
    topic = worker_env["TOPIC_OBSERVATIONS"]
    from streams.records import encode

    elements = [json.loads(encode(observation(f"b{i}", BASE_T + i))) for i in range(6)]
    elements[2] = {"snapshot": "not an object"}
    elements[4] = json.loads(encode(observation("b4", BASE_T + 4, upvote_ratio=2.0)))  # CHECK violation
    batch = json.dumps(elements).encode()
    asyncio.run(produce(worker_env, topic, [("batch", batch)]))
    mine_dead = "SELECT count(*) FROM dlq_events WHERE key = 'batch'"
    mine = "SELECT count(*) FROM post_metrics_history WHERE post_id ~ '^b[0-9]'"
    harness.wait_for(lambda: scalar(database, mine_dead) >= 2, 60, "the dead letters")
    harness.wait_for(lambda: scalar(database, mine) >= 4, 30, "the rows")
    assert scalar(database, mine) == 4
    assert (
        scalar(database, "SELECT string_agg(post_id, ',' ORDER BY post_id) FROM posts WHERE post_id ~ '^b[0-9]'")
        == "b0,b1,b3,b5"
    )
    with psycopg.connect(database) as conn:
        rows = conn.execute(
            "SELECT item, error_type, payload FROM dlq_events WHERE key = 'batch' ORDER BY item"
        ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [(2, "BadObservation"), (4, "CheckViolation")]
    assert json.loads(rows[0][2]) == {"snapshot": "not an object"}
    assert json.loads(rows[1][2])["snapshot"]["upvote_ratio"] == 2.0


async def test_write_batch_stores_every_column_exactly(database):
    """The rows reach PostgreSQL as one JSON document (streams.db.writer): text with quotes, a
    backslash and non-ASCII, a null author, float timestamps and velocities arrive unchanged;
    the history of an observation without a velocity of its own has NULL velocities."""
    from streams.db.rows import row_from_json
    from streams.db.writer import Item, write_batch
    from streams.records import Observation, PostSnapshot, encode

    snap = PostSnapshot(
        id="exact1",
        subreddit="python",
        title='a "quoted" \\ title — ünïcode ✓',
        created_utc=BASE_T - 60.125,
        observed_at=BASE_T + 0.375,
        score=-3,
        num_comments=7,
        upvote_ratio=0.5,
        author=None,
        url="https://example.org/?a=1&b='2'",
        permalink="/r/python/comments/exact1/",
        over_18=True,
        source="refresh",
    )
    first = Observation(
        snapshot=snap,
        sentiment=-0.6249,
        score_velocity=0.0,
        comment_velocity=0.0,
        trending_score=0.1,
        is_trending=False,
        has_velocity=False,
    )
    later = Observation(
        snapshot=PostSnapshot(**{**snap.asdict(), "observed_at": BASE_T + 60.5, "score": 9}),
        sentiment=-0.6249,
        score_velocity=11.764705882352942,
        comment_velocity=0.0,
        trending_score=0.7000000000000001,
        is_trending=True,
        has_velocity=True,
    )
    items = [Item(row_from_json(encode(o)), None) for o in (first, later)]
    async with await psycopg.AsyncConnection.connect(database) as conn:
        result = await write_batch(conn, items)
    assert result.rows == 2 and not result.dead
    with psycopg.connect(database) as conn:
        post = conn.execute(
            "SELECT title, author, extract(epoch FROM created_utc)::float8, "
            "extract(epoch FROM last_observed_at)::float8, score, num_comments, upvote_ratio, url, "
            "over_18, sentiment, score_velocity, trending_score, is_trending "
            "FROM posts WHERE post_id = 'exact1'"
        ).fetchone()
        history = conn.execute(
            "SELECT extract(epoch FROM observed_at)::float8, score, score_velocity, "
            "comment_velocity FROM post_metrics_history WHERE post_id = 'exact1' "
            "ORDER BY observed_at"
        ).fetchall()
    assert post == (
        snap.title,
        None,
        BASE_T - 60.125,
        BASE_T + 60.5,
        9,
        7,
        0.5,
        snap.url,
        True,
        -0.6249,
        11.764705882352942,
        0.7000000000000001,
        True,
    )
    assert history == [(BASE_T + 0.375, -3, None, None), (BASE_T + 60.5, 9, 11.764705882352942, 0.0)]


async def test_history_older_than_the_retention_is_not_written(database):
    """An observation older than RETENTION_DAYS (e.g. a backfilled one) updates `posts` but not
    `post_metrics_history`, where the retention would delete it at once (plain path; the
    TimescaleDB path: test_migrations_timescale.py)."""
    import time

    from streams.db.rows import ObservationRow
    from streams.db.writer import Item, write_batch

    now = time.time()

    def row(pid: str, observed_at: float) -> ObservationRow:
        return ObservationRow(
            pid,
            "python",
            "t",
            None,
            observed_at - 60,
            observed_at,
            1,
            0,
            0.9,
            "",
            "",
            False,
            0.0,
            0.0,
            0.0,
            0.0,
            False,
            False,
        )

    items = [Item(row("ret1", now - 40 * 86400), None), Item(row("ret2", now - 20 * 86400), None)]
    async with await psycopg.AsyncConnection.connect(database) as conn:
        assert (await write_batch(conn, items, retention_days=30)).rows == 2
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT post_id FROM posts WHERE post_id LIKE 'ret%' ORDER BY 1").fetchall() == [
            ("ret1",),
            ("ret2",),
        ]
        assert conn.execute("SELECT post_id FROM post_metrics_history WHERE post_id LIKE 'ret%'").fetchall() == [
            ("ret2",)
        ]
