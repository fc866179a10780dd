"""Dead letters: `GET /dlq/` (keyset pages), `GET /dlq/stats/`, and replay (admin token).

Replay sends a dead letter's original bytes with its original key back to the topic it failed
on — a sink-stage dead letter (source: the observations topic) back to the sink — with the
headers `redditstream-attempt: <attempt + 1>` and `redditstream-replay-of: <id>`, so a record
that fails again becomes a new dead letter whose `attempt` says how often it was tried.

Idempotent, also when replays race (on one worker or several): the rows are claimed with
`SELECT … FOR UPDATE [SKIP LOCKED] … WHERE replayed_at IS NULL` in one transaction, their
records are produced and their broker acks awaited, then `replayed_at` is set and the
transaction commits. A concurrent replay skips (bulk) or waits for (one id) the claimed rows
and then sees them replayed. If producing fails, the transaction rolls back: nothing is marked,
the answer is a 503, and the replay can be retried. The one window left: the records are on
the broker but the commit fails (the database went away in between) — the rows stay unmarked
and a later replay publishes them again; the sink's upserts and the velocity fold absorb such a
duplicate (same `observed_at`), so it changes no row.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from faust.web import Request, Response, View

from streams.app import app, settings
from streams.deadletter import ATTEMPT_HEADER, REPLAY_OF_HEADER, decode_payload
from web import cursor
from web.auth import require_admin
from web.errors import NotFound, Unavailable
from web.params import Query, dlq_id
from web.queries import iso, iso_sql, keyset_page_sql, page_body
from web.resources import database

log = logging.getLogger(__name__)
CHUNK = 500  # dead letters claimed, produced and marked per transaction
MAX_PER_REQUEST = 10_000  # a bulk replay stops after this many; the answer says whether more are left
# Longest one chunk waits for the broker (sends and acks) before the replay gives up with a 503.
# faust's producer would wait up to its request timeout (20 minutes) while the rows stay locked.
ACK_TIMEOUT_S = 30.0
TOPIC_NAME = r"[A-Za-z0-9._-]{1,249}"
ERROR_TYPE = r"[A-Za-z_][A-Za-z0-9_.]{0,199}"

COLUMNS = (
    'id, source_topic, "partition", "offset", key, payload, payload_encoding, error_type, error, '
    "failed_at, attempt, replayed_at"
)
DEAD_LETTER_JSON = (
    "json_build_object('id', id, 'source_topic', source_topic, 'partition', \"partition\", "
    "'offset', \"offset\", 'key', key, 'payload', payload, 'payload_encoding', payload_encoding, "
    "'error_type', error_type, 'error', error, 'failed_at', " + iso_sql("failed_at") + ", "
    "'attempt', attempt, 'replayed_at', " + iso_sql("replayed_at") + ")"
)

PAGE = keyset_page_sql(
    columns=COLUMNS, table="dlq_events", time_col="failed_at", id_col="id", json_obj=DEAD_LETTER_JSON
)

STATS = """
SELECT (SELECT count(*) FROM dlq_events) AS total,
       (SELECT count(*) FROM dlq_events WHERE replayed_at IS NULL) AS not_replayed,
       (SELECT coalesce(json_object_agg(source_topic, n), '{}') FROM
           (SELECT source_topic, count(*) AS n FROM dlq_events GROUP BY 1) t) AS by_topic,
       (SELECT coalesce(json_object_agg(error_type, n), '{}') FROM
           (SELECT error_type, count(*) AS n FROM dlq_events GROUP BY 1) e) AS by_error_type
"""


def _filters(q: Query, where: list[str], params: dict[str, Any]) -> None:
    topic = q.matching("source_topic", TOPIC_NAME, "a Kafka topic name")
    if topic is not None:
        where.append("source_topic = %(source_topic)s")
        params["source_topic"] = topic
    error_type = q.matching("error_type", ERROR_TYPE, "an error type (a Python exception name)")
    if error_type is not None:
        where.append("error_type = %(error_type)s")
        params["error_type"] = error_type


@app.page("/dlq/")
async def dead_letters(web, request):
    q = Query(request, ("source_topic", "error_type", "replayed", "limit", "cursor"))
    where: list[str] = []
    params: dict[str, Any] = {"limit": q.integer("limit", 50, 1, 200)}
    _filters(q, where, params)
    replayed = q.boolean("replayed")
    if replayed is not None:
        where.append("replayed_at IS NOT NULL" if replayed else "replayed_at IS NULL")
    after = q.text("cursor")
    if after is not None:
        after_ts, after_id = cursor.time_key(after, "dlq", int)
        where.append("(failed_at, id) < (%(after_ts)s, %(after_id)s)")
        params.update(after_ts=after_ts, after_id=after_id)
    row = await database.fetch_one("dlq_page", PAGE.format(where=" AND ".join(where) or "true"), params)
    assert row is not None
    body = page_body("dead_letters", row, "dlq")
    return web.bytes(body, content_type="application/json")


@app.page("/dlq/stats/")
async def dlq_stats(web, request):
    Query(request, ())
    row = await database.fetch_one("dlq_stats", STATS)
    return web.json(row)


# ------------------------------------------------------------------ replay


@functools.cache
def _topic(name: str) -> Any:
    return app.topic(
        name, key_serializer="raw", value_serializer="raw", partitions=settings.topic_partitions, internal=True
    )


def replay_targets() -> set[str]:
    """The topics a dead letter may be replayed to: this app's sources and the sink's."""
    return {
        settings.topic_posts,
        settings.topic_refresh,
        settings.topic_backfill,
        settings.topic_observations,
        settings.topic_dlq,
    }


async def _replay_rows(rows: list[dict]) -> tuple[list[int], dict[str, int]]:
    """Produce the rows' records and wait for every ack; (the ids produced, skipped by reason)."""
    targets = replay_targets()
    skipped: dict[str, int] = {}
    sent: list[tuple[int, Any]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + ACK_TIMEOUT_S
    try:
        async with asyncio.timeout_at(deadline):  # the sends (aiokafka waits for metadata, buffer space)
            for row in rows:
                if row["source_topic"] not in targets:
                    skipped["unknown source topic"] = skipped.get("unknown source topic", 0) + 1
                    continue
                try:
                    value = decode_payload(row["payload"], row["payload_encoding"], strict=True)
                except ValueError:
                    skipped["undecodable payload"] = skipped.get("undecodable payload", 0) + 1
                    continue
                key = row["key"].encode() if row["key"] is not None else None
                headers = [
                    (ATTEMPT_HEADER, str(row["attempt"] + 1).encode()),
                    (REPLAY_OF_HEADER, str(row["id"]).encode()),
                ]
                fut = await _topic(row["source_topic"]).send(key=key, value=value, headers=headers, force=True)
                sent.append((row["id"], fut))
        if sent:
            # the broker's acks; asyncio.wait does not cancel the producer's futures on a timeout
            _, pending = await asyncio.wait([f for _, f in sent], timeout=max(deadline - loop.time(), 0.001))
            if pending:
                raise TimeoutError(f"{len(pending)} of {len(sent)} records not acknowledged in {ACK_TIMEOUT_S:g}s")
            for _, fut in sent:
                fut.result()  # raises the send's error, if any
    except Exception as exc:  # noqa: BLE001 - the transaction rolls back; nothing is marked
        # Records already sent (or sent later by the producer's retries) may reach the broker
        # anyway: a later replay publishes them again, a duplicate the idempotent sink absorbs.
        log.warning("replay: producing failed (%s: %s); nothing marked replayed", type(exc).__name__, exc)
        raise Unavailable("broker", exc) from None
    return [i for i, _ in sent], skipped


CLAIM_ONE = f"SELECT {COLUMNS} FROM dlq_events WHERE id = %(id)s FOR UPDATE"
CLAIM = (
    f"SELECT {COLUMNS} FROM dlq_events WHERE replayed_at IS NULL AND {{where}} ORDER BY id LIMIT %(chunk)s "
    "FOR UPDATE SKIP LOCKED"
)
MARK = "UPDATE dlq_events SET replayed_at = now() WHERE id = ANY(%(ids)s)"


def _merge(total: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        total[k] = total.get(k, 0) + v


@app.page("/dlq/replay/")
class ReplayMatching(View):
    """`POST /dlq/replay/?source_topic=&error_type=`: every dead letter not yet replayed that matches."""

    async def post(self, request: Request) -> Response:
        require_admin(request, settings.admin_token)
        q = Query(request, ("source_topic", "error_type"))
        where: list[str] = []
        params: dict[str, Any] = {"chunk": CHUNK}
        _filters(q, where, params)
        replayed, skipped, claimed_skips = 0, {}, set()  # type: ignore[var-annotated]
        more = True
        while more and replayed + sum(skipped.values()) < MAX_PER_REQUEST:
            async with database.transaction("dlq_replay") as cur:
                await cur.execute(
                    CLAIM.format(where=" AND ".join(where + ["NOT (id = ANY(%(seen)s))"])),
                    {**params, "seen": list(claimed_skips)},
                )
                rows = await cur.fetchall()
                more = len(rows) == CHUNK
                ids, skips = await _replay_rows(rows)
                if ids:
                    await cur.execute(MARK, {"ids": ids})
            replayed += len(ids)
            _merge(skipped, skips)
            done = set(ids)
            claimed_skips.update(r["id"] for r in rows if r["id"] not in done)
        return self.json({"replayed": replayed, "skipped": skipped, "more": more})


@app.page("/dlq/replay/{id}/")
class ReplayOne(View):
    """`POST /dlq/replay/{id}/`: one dead letter (`replayed: 0` when it was replayed already)."""

    async def post(self, request: Request, id: str) -> Response:
        require_admin(request, settings.admin_token)
        Query(request, ())
        dead_letter = dlq_id(id)
        async with database.transaction("dlq_replay") as cur:
            await cur.execute(CLAIM_ONE, {"id": dead_letter})
            row = await cur.fetchone()
            if row is None:
                raise NotFound(f"no dead letter {id}")
            if row["replayed_at"] is not None:
                return self.json(
                    {"replayed": 0, "skipped": {"already replayed": 1}, "replayed_at": iso(row["replayed_at"])}
                )
            ids, skipped = await _replay_rows([row])
            if ids:
                await cur.execute(MARK, {"ids": ids})
        return self.json({"replayed": len(ids), "skipped": skipped})
