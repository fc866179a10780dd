"""Pure parts of the web API: query parameters, keyset cursors, timestamps, the single flight,
and the faust attribute the web driver relies on."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from multidict import MultiDict

from web import cursor
from web.cache import SingleFlight
from web.errors import BadRequest
from web.params import Query, post_id
from web.queries import POST_JSON, iso


class Req:
    def __init__(self, **query: str | list[str]) -> None:
        items = []
        for k, v in query.items():
            items += [(k, x) for x in (v if isinstance(v, list) else [v])]
        self.query = MultiDict(items)


def test_unknown_and_repeated_parameters_are_refused():
    with pytest.raises(BadRequest, match="unknown query parameter 'limt'"):
        Query(Req(limt="5"), ("limit",))
    with pytest.raises(BadRequest, match="'limit' is given 2 times"):
        Query(Req(limit=["1", "2"]), ("limit",))
    assert Query(Req(), ("limit",)).integer("limit", 50, 1, 200) == 50


@pytest.mark.parametrize("raw", ["0", "201", "abc", "1.5", "1e3", " ", "9" * 20, "-1"])
def test_bad_limits_name_the_parameter(raw):
    with pytest.raises(BadRequest, match="limit"):
        Query(Req(limit=raw), ("limit",)).integer("limit", 50, 1, 200)


def test_good_values():
    q = Query(Req(limit="200", replayed="false", subreddit="Python_3"), ("limit", "replayed", "subreddit"))
    assert q.integer("limit", 50, 1, 200) == 200 and q.boolean("replayed") is False and q.subreddit() == "Python_3"
    with pytest.raises(BadRequest, match="replayed"):
        Query(Req(replayed="maybe"), ("replayed",)).boolean("replayed")
    with pytest.raises(BadRequest, match="subreddit"):
        Query(Req(subreddit="a b"), ("subreddit",)).subreddit()
    assert post_id("abc123") == "abc123"
    with pytest.raises(BadRequest, match="post_id"):
        post_id("ABC")


def test_cursor_round_trip_is_exact_to_the_microsecond():
    ts = datetime(2026, 12, 2, 11, 19, 49, 123457, tzinfo=UTC)
    c = cursor.encode("posts", cursor.micros(ts), "abc")
    us, pid = cursor.decode(c, "posts", (int, str))
    assert cursor.from_micros(us) == ts and pid == "abc"
    assert cursor.micros(datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == -1
    assert "=" not in c and "/" not in c and "+" not in c


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "x",
        "!!!",
        cursor.encode("dlq", 1, "a"),
        cursor.encode("posts", "1", "a"),
        cursor.encode("posts", True, "a"),
        cursor.encode("posts", 1),
        "A" * 600,
        cursor.encode("posts", 1, "a", 3),
    ],
)
def test_foreign_or_tampered_cursors_are_a_400(bad):
    with pytest.raises(BadRequest, match="cursor"):
        cursor.decode(bad, "posts", (int, str))


def test_iso_is_utc_with_microseconds():
    ts = datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    assert iso(ts) == "2026-01-01T00:00:00.000000Z" and iso(None) is None
    assert POST_JSON.count("to_char(") == 2  # created_utc and last_observed_at as the same text


async def test_single_flight_shares_one_run_and_forgets_it():
    calls = 0
    gate = asyncio.Event()

    async def work() -> int:
        nonlocal calls
        calls += 1
        await gate.wait()
        return calls

    flight = SingleFlight()
    waiters = [asyncio.ensure_future(flight.run("k", work)) for _ in range(50)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiters) == [1] * 50 and calls == 1
    assert await flight.run("k", work) == 2  # done: the next call runs again


async def test_single_flight_survives_a_cancelled_caller():
    gate = asyncio.Event()

    async def work() -> str:
        await gate.wait()
        return "ok"

    flight = SingleFlight()
    first = asyncio.ensure_future(flight.run("k", work))
    second = asyncio.ensure_future(flight.run("k", work))
    await asyncio.sleep(0)
    first.cancel()
    gate.set()
    assert await second == "ok"


def test_faust_web_driver_contract():
    """web/server.py relies on faust's aiohttp driver reading `production_blueprints` (a class
    attribute) to mount its index at `/`; an upgrade that changes it must fail here."""
    from faust.web.base import Web as BaseWeb
    from faust.web.drivers import by_url

    from web.server import Web

    assert by_url("redditstream://") is Web
    assert ("", "faust.web.apps.production_index:blueprint") in list(BaseWeb.production_blueprints)
    assert Web.production_blueprints == []
    assert "production_blueprints" in BaseWeb._enabled_blueprints.__code__.co_names
