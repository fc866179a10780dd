"""The archive's pure parts: what an answer means (retry, client error, data), the pacer, the
paging cursor, the delivered-prefix checkpoint cursor, and the reset header in both forms."""

from __future__ import annotations

import pytest

from streams.archive.checkpoint import Delivered
from streams.archive.client import ClientError, Pacer, Retry, classify
from streams.archive.paging import Cursor, second_of
from streams.backfill.progress import Watermark
from streams.ingest.backoff import reset_seconds


def test_classify_tells_the_throttle_from_real_client_errors():
    assert classify(200, {"data": [{"id": "a"}]}, {}) == [{"id": "a"}]
    for status, body, outcome in (
        (422, {"data": None, "error": "Timeout. Maybe slow down a bit"}, "throttled"),
        (422, {"data": None, "error": "Query timed out"}, "throttled"),
        (200, {"data": None, "error": "Query timed out"}, "throttled"),
        (503, None, "server_error"),
        (500, {"error": "boom"}, "server_error"),
        (200, None, "bad_answer"),
        (200, {"data": None}, "bad_answer"),
    ):
        with pytest.raises(Retry) as exc:
            classify(status, body, {})
        assert exc.value.outcome == outcome and exc.value.wait is None, (status, body)
    with pytest.raises(Retry) as exc:
        classify(429, {"error": "Too Many Requests"}, {"x-ratelimit-reset": "7"})
    assert exc.value.outcome == "rate_limited" and exc.value.wait == 7.0
    for status, body in ((422, {"data": None, "error": "Invalid subreddit"}), (400, None), (404, {"error": "x"})):
        with pytest.raises(ClientError):
            classify(status, body, {})


def test_reset_is_seconds_or_an_epoch_time():
    assert reset_seconds({"x-ratelimit-reset": "12"}) == 12.0
    assert reset_seconds({"x-ratelimit-reset": "1700000030"}, now=1_700_000_000.0) == 30.0
    assert reset_seconds({"x-ratelimit-reset": "1600000000"}, now=1_700_000_000.0) == 0.0
    assert reset_seconds({}, default=3.0) == 3.0


def test_pacer_spaces_requests_and_waits_out_a_block():
    now = [100.0]
    pacer = Pacer(4.0, clock=lambda: now[0])
    assert [pacer.reserve() for _ in range(3)] == [0.0, 0.25, 0.5]
    now[0] = 101.0
    pacer.block(5.0)
    assert pacer.reserve() == 5.0


def test_cursor_takes_each_record_once_and_never_goes_back():
    cur = Cursor()
    assert [cur.take(10, i) for i in ("a", "b", "a")] == [True, True, False]
    assert cur.take(9, "z") is False  # older than the cursor: done before
    assert cur.take(11, "a") is True and cur.ids == {"a"} and cur.second == 11
    assert second_of({"created_utc": 12.9}) == 12 and second_of({"created_utc": "x"}) is None
    assert second_of({"created_utc": True}) is None and second_of({}) is None


def test_delivered_cursor_is_the_acknowledged_prefix():
    d = Delivered(Cursor(5, {"old"}))
    tokens = [d.read(5, "a", True), d.read(6, "b", True), d.read(6, "bad", False), d.read(7, "c", True)]
    assert d.value().second == 5 and d.value().ids == {"old"}
    Watermark.delivered(tokens[1])  # acknowledged out of order: the prefix still stops at "a"
    assert d.value().second == 5
    Watermark.delivered(tokens[0])
    cur = d.value()
    assert (cur.second, cur.ids) == (6, {"b", "bad"})
    Watermark.delivered(tokens[3])
    assert (d.value().second, d.value().ids) == (7, {"c"})
