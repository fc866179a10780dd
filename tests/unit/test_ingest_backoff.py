from types import SimpleNamespace

import pytest
from asyncprawcore import exceptions as exc

from streams.ingest.backoff import DROP, RATE_LIMITED, RETRY, classify, outcome, reset_seconds
from streams.ingest.budget import Budget
from streams.retry import Backoff


def _response(status: int, headers: dict | None = None):
    return SimpleNamespace(status=status, headers=headers or {}, text="")


def test_backoff_doubles_and_is_jittered_within_half():
    assert Backoff(1.0, 60).delay(0, rand=lambda: 0.0) == 0.5
    assert Backoff(1.0, 60).delay(0, rand=lambda: 1.0) == 1.0
    assert Backoff(1.0, 60).delay(3, rand=lambda: 1.0) == 8.0
    assert Backoff(1.0, 60).delay(3, rand=lambda: 0.0) == 4.0


def test_backoff_is_capped():
    assert Backoff(1.0, 60).delay(30, rand=lambda: 1.0) == 60
    assert 30 <= Backoff(1.0, 60).delay(30) <= 60


def test_reset_seconds_prefers_ratelimit_reset():
    assert reset_seconds({"x-ratelimit-reset": "7", "retry-after": "3"}) == 7
    assert reset_seconds({"retry-after": "3"}) == 3
    assert reset_seconds({}, default=2) == 2
    assert reset_seconds({"x-ratelimit-reset": "soon"}, default=2) == 2


@pytest.mark.parametrize(
    "error,kind,label",
    [
        (exc.TooManyRequests(_response(429)), RATE_LIMITED, "rate_limited"),
        (exc.NotFound(_response(404)), DROP, "not_found"),
        (exc.Forbidden(_response(403)), DROP, "not_found"),
        (exc.ServerError(_response(503)), RETRY, "server_error"),
        (exc.RequestException(TimeoutError("read timeout"), (), {}), RETRY, "timeout"),
        (ValueError("bad json"), RETRY, "error"),
    ],
)
def test_classify_errors(error, kind, label):
    assert classify(error) == kind
    assert outcome(error) == label


def test_budget_waits_when_spent_and_after_429():
    now = [100.0]
    b = Budget(reserve=2, clock=lambda: now[0])
    assert b.wait_seconds() == 0
    b.update({"x-ratelimit-remaining": "10.0", "x-ratelimit-used": "590", "x-ratelimit-reset": "30"})
    assert b.wait_seconds() == 0
    b.update({"x-ratelimit-remaining": "2.0", "x-ratelimit-used": "598", "x-ratelimit-reset": "30"})
    assert b.wait_seconds() == 30  # at the reserve: wait for the window's reset
    now[0] += 31
    assert b.wait_seconds() == 0
    b.block(5)
    assert b.wait_seconds() == 5


def test_the_comments_share_of_each_rate_limit_window():
    import asyncio

    from streams.ingest.budget import Budget, Share

    now = [100.0]
    budget = Budget(clock=lambda: now[0])
    share = Share(budget, 0.3, clock=lambda: now[0])
    assert share.wait_seconds() == 0.0  # no headers yet: nothing held back
    budget.update({"x-ratelimit-remaining": "95", "x-ratelimit-used": "5", "x-ratelimit-reset": "60"})
    for _ in range(30):  # 30 % of a 100-request window
        assert share.wait_seconds() == 0.0
        asyncio.run(share.acquire())
    assert share.wait_seconds() == 60.0  # spent: wait for the reset
    now[0] += 30
    assert share.wait_seconds() == 30.0
    now[0] += 31  # a new window
    budget.update({"x-ratelimit-remaining": "99", "x-ratelimit-used": "1", "x-ratelimit-reset": "600"})
    assert share.wait_seconds() == 0.0 and share.spent == 0
