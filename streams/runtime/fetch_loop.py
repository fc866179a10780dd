"""faust's fetch loop without four asyncio tasks per record.

faust's `Consumer._drain_messages` hands every fetched record to the conductor with
`await self.wait_first(callback(message), self.suspend_flow.wait())`: four tasks (the callback,
the suspend-flow wait, and the service's stopped and crashed waits) and an `asyncio.wait` per
record, so that a delivery blocked on a full stream queue is abandoned when a rebalance
suspends the flow. That bookkeeping was the largest single cost of a worker at a few thousand
events/s (a fifth of its event-loop time, measured with py-spy), yet the delivery almost never
blocks: it puts the event on the stream's queue and returns.

`FetchLoop._drain_messages` is faust-streaming 0.15's loop (versions pinned) with one change:
the delivery coroutine is first run eagerly, as Python 3.12's eager tasks do; only when it
suspends is the rest of it handed to `wait_first` as before, with the same semantics.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import Any

from faust.transport.consumer import CONSUMER_FETCHING


def run_eagerly(coro: Coroutine) -> Awaitable | None:
    """Run `coro` up to its first suspension. None if it finished; else an awaitable of the rest
    (its result or exception is the coroutine's)."""
    try:
        yielded = coro.send(None)
    except StopIteration:
        return None
    return _finish(coro, yielded)


async def _finish(coro: Coroutine, yielded: Any) -> Any:
    """Drive a started coroutine the way an asyncio Task would, from the future it yielded."""
    while True:
        try:
            if yielded is None:  # a bare yield (asyncio.sleep(0))
                await asyncio.sleep(0)
            else:  # the future it waits on; it reads the outcome itself when resumed
                yielded._asyncio_future_blocking = False  # taken over, as a Task does
                await yielded
        except asyncio.CancelledError as exc:
            if yielded is None or not yielded.cancelled():  # cancelled here, not its future: pass it on
                try:
                    yielded = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
                continue
        except Exception:  # noqa: BLE001 - the coroutine gets it from the future's result
            pass
        try:
            yielded = coro.send(None)
        except StopIteration as stop:
            return stop.value


class FetchLoop:
    """Mixin for faust's Consumer: `_drain_messages` with eager delivery (see the module doc)."""

    async def _drain_messages(self, fetcher: Any) -> None:  # pragma: no cover - faust's loop
        callback = self.callback
        getmany = self.getmany
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        suspend_flow = self.suspend_flow
        get_read_offset = self._read_offset.__getitem__
        set_read_offset = self._read_offset.__setitem__
        set_flag, unset_flag = self.diag.set_flag, self.diag.unset_flag
        commit_every = self._commit_every
        acks_enabled_for = self.app.topics.acks_enabled_for
        yield_every, num_since_yield = 100, 0
        sleep = asyncio.sleep
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                set_flag(CONSUMER_FETCHING)
                ait = getmany(timeout=1.0)
                await self.sleep(0)
                if not self.should_stop:
                    async for tp, message in ait:
                        num_since_yield += 1
                        if num_since_yield > yield_every:
                            await sleep(0)
                            num_since_yield = 0
                        offset = message.offset
                        r_offset = get_read_offset(tp)
                        if r_offset is None or offset >= r_offset:
                            gap = offset - (r_offset or 0)
                            if gap > 1 and r_offset and acks_enabled_for(message.topic):
                                await self._add_gap(tp, r_offset + 1, offset)
                            if commit_every is not None and self._n_acked >= commit_every:
                                self._n_acked = 0
                                await self.commit()
                            if suspend_flow.is_set():
                                await self.wait_first(callback(message), suspend_flow.wait())
                            else:
                                rest = run_eagerly(callback(message))
                                if rest is not None:
                                    await self.wait_first(rest, suspend_flow.wait())
                            set_read_offset(tp, offset)
                    unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            unset_flag(CONSUMER_FETCHING)
