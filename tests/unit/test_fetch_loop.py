"""streams.runtime.fetch_loop.run_eagerly: a coroutine run up to its first suspension, the rest (if any)
driven like a task, with the coroutine's own result, exception and cancellation."""

import asyncio

import pytest

from streams.runtime.fetch_loop import run_eagerly


async def test_a_coroutine_that_does_not_suspend_finishes_at_once():
    done = []

    async def deliver():
        done.append(1)

    assert run_eagerly(deliver()) is None and done == [1]


async def test_a_coroutine_that_suspends_is_finished_by_the_rest():
    fut = asyncio.get_running_loop().create_future()
    steps = []

    async def deliver():
        steps.append("start")
        value = await fut
        await asyncio.sleep(0)
        steps.append(value)
        return "result"

    rest = run_eagerly(deliver())
    assert rest is not None and steps == ["start"]
    task = asyncio.ensure_future(rest)
    await asyncio.sleep(0)
    assert not task.done()
    fut.set_result("put")
    assert await asyncio.wait_for(task, 1) == "result" and steps == ["start", "put"]


async def test_the_futures_exception_is_raised_inside_the_coroutine():
    fut = asyncio.get_running_loop().create_future()
    seen = []

    async def deliver():
        try:
            await fut
        except KeyError as exc:
            seen.append(exc)
            raise ValueError("delivery failed") from exc

    rest = run_eagerly(deliver())
    fut.set_exception(KeyError("k"))
    with pytest.raises(ValueError, match="delivery failed"):
        await rest
    assert len(seen) == 1


async def test_cancelling_the_rest_cancels_the_coroutine_where_it_waits():
    fut = asyncio.get_running_loop().create_future()
    cleaned = []

    async def deliver():
        try:
            await fut
        finally:
            cleaned.append("finally")

    task = asyncio.ensure_future(run_eagerly(deliver()))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned == ["finally"] and fut.cancelled()
