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
from web.params import POST_ID, Query, dlq_id, post_id, subreddit_name
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


@pytest.mark.parametrize(
    "raw", ["0", "201", "abc", "1.5", "1e3", " ", "9" * 20, "-1", "\uff15", "1\uff10", "\u0665", " 5", "5\n", "+5", "²"]
)
def test_bad_limits_name_the_parameter(raw):
    with pytest.raises(BadRequest, match="limit"):
        Query(Req(limit=raw), ("limit",)).integer("limit", 50, 1, 200)


@pytest.mark.parametrize("name", ["subreddit", "limit", "cursor", "source_topic", "replayed"])
def test_an_empty_value_is_a_400_not_the_default(name):
    with pytest.raises(BadRequest, match=f"query parameter '{name}' is empty"):
        Query(Req(**{name: ""}), (name,))


@pytest.mark.parametrize("raw", ["TRUE", "yes", "1", "0", " true", "false\n"])
def test_booleans_are_spelled_as_json(raw):
    with pytest.raises(BadRequest, match="replayed"):
        Query(Req(replayed=raw), ("replayed",)).boolean("replayed")


@pytest.mark.parametrize("raw", ["0", "-1", "01", "\uff11", "1\uff12", "\u0661", "²", "1\n", "9" * 19, "1e3", "abc"])
def test_a_dead_letter_id_is_a_positive_ascii_integer(raw):
    with pytest.raises(BadRequest, match="id must be"):
        dlq_id(raw)


def test_good_ids():
    assert dlq_id("1") == 1 and dlq_id(str(2**63 - 1)) == 2**63 - 1
    assert subreddit_name("Python_3") == "Python_3"


@pytest.mark.parametrize("raw", ["abc\n", "\uff41bc", "ABC", "", "a" * 14])
def test_post_ids_and_subreddits_match_whole_and_ascii(raw):
    with pytest.raises(BadRequest, match="post_id"):
        post_id(raw)
    with pytest.raises(BadRequest, match="name"):
        subreddit_name(raw + "_\n" if raw else "\uff41bc")


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
        cursor.encode("posts", 1.5, "a"),
        cursor.encode("posts", 2**63, "a"),
        cursor.encode("posts", 1, "a\u0000b"),  # PostgreSQL refuses a NUL in text: refused here first
        cursor.encode("posts", 1, "ABC"),
        "WyJwb3N0cyIsMSwiYSJd\uff41",
        "[1]",
        "W10",  # []
        "bnVsbA",  # null
    ],
)
def test_foreign_or_tampered_cursors_are_a_400(bad):
    with pytest.raises(BadRequest, match="cursor"):
        cursor.decode(bad, "posts", (int, str), text_ok=lambda v: POST_ID.fullmatch(v) is not None)


@pytest.mark.parametrize("us", [253402300800000000, -62135596800000001, 2**63 - 1, -(2**63 - 1)])
def test_a_cursor_time_outside_the_calendar_is_a_400_not_an_overflow(us):
    # issue 21: WyJwb3N0cyIsMjUzNDAyMzAwODAwMDAwMDAwLCJhIl0 is ["posts",253402300800000000,"a"]
    assert cursor.encode("posts", 253402300800000000, "a") == "WyJwb3N0cyIsMjUzNDAyMzAwODAwMDAwMDAwLCJhIl0"
    (got,) = cursor.decode(cursor.encode("dlq", us), "dlq", (int,))
    with pytest.raises(BadRequest, match="cursor"):
        cursor.from_micros(got)
    assert cursor.from_micros(253402300799999999) == datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


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
