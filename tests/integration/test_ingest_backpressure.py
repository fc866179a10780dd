"""Broker unreachable: ingest keeps retrying, its buffer stays bounded (polling pauses when it
is full), and once the broker answers every fetched post is delivered, once.

The "broker" is the shared one behind a TCP forwarder on a port of the test's own: closed
at first, opened later (the shared broker itself is never stopped). Only the bootstrap goes
through the forwarder, so this covers a broker down at start-up, not one that dies later.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import Counter

from tests import harness
from tests.ingest_support import ingest_env, procs, read_topic  # noqa: F401 - fixtures


class Forwarder:
    """127.0.0.1:port → target, in a thread of its own, started on demand."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = harness.free_port()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.server = None

    async def _pipe(self, reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def _handle(self, reader, writer) -> None:
        r2, w2 = await asyncio.open_connection(*self.target)
        await asyncio.gather(self._pipe(reader, w2), self._pipe(r2, writer))

    def open(self) -> None:
        self.thread.start()
        fut = asyncio.run_coroutine_threadsafe(asyncio.start_server(self._handle, "127.0.0.1", self.port), self.loop)
        self.server = fut.result(10)

    def close(self) -> None:
        if self.server:
            self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


def _buffered(ingest) -> list[int]:
    """The records buffered at each failed connect so far, from ingest's warnings."""
    return [
        int(m.group(1))
        for m in re.finditer(
            r"broker unreachable \(.*?\); retrying in [\d.]+s, (\d+) records buffered", ingest.log_text()
        )
    ]


def _new_requests(sim) -> list[dict]:
    return [r for r in sim.requests() if r["kind"] == "new"]


def test_broker_down_buffer_bounded_then_everything_delivered(ingest_env, procs):
    host, port = harness.bootstrap(ingest_env).split(",")[0].rsplit(":", 1)
    fwd = Forwarder((host, int(port)))
    env = {
        **ingest_env,
        "SUBREDDITS": "down1,down2",
        "SIMULATOR_HISTORY_POSTS": "100",
        "INGEST_POLL_SECONDS": "0.3",
        "INGEST_BUFFER_RECORDS": "50",
        "REFRESH_TIERS": "48:3600",
        "KAFKA_BROKER_URL": f"kafka://127.0.0.1:{fwd.port}",
    }
    sim = procs("simulate", env)
    ingest = procs("ingest", env)
    try:
        # the buffer fills: a failed connect reports all 50 records buffered, and both
        # subreddits have asked for their listing (each poller is now blocked in put())
        harness.wait_for(
            lambda: any(n >= 50 for n in _buffered(ingest)),
            60,
            f"a failed connect with the buffer full\n{ingest.tail()}",
        )
        harness.wait_for(
            lambda: {r["target"] for r in _new_requests(sim)} == {"down1", "down2"},
            30,
            "a listing request of each subreddit",
        )
        n1 = len(_new_requests(sim))
        # polling stays paused: while ingest retries its connect 3 more times (≥ 2 s at the
        # test's 0.2-2 s backoff, ~7 poll intervals), the simulator sees no new request
        tries = len(_buffered(ingest))
        harness.wait_for(lambda: len(_buffered(ingest)) >= tries + 3, 30, "3 more connect attempts")
        n2 = len(_new_requests(sim))
        assert ingest.alive(), ingest.tail()
        assert n1 == n2, "polling should pause while the buffer is full"
        assert not ingest.events("poll round")  # the rounds wait in put(): nothing dropped

        fwd.open()  # the broker is back
        harness.wait_for(
            lambda: len(read_topic(ingest_env, env["TOPIC_POSTS"])) >= 200, 90, f"every post delivered\n{ingest.tail()}"
        )
        assert ingest.stop() == 0, ingest.tail()
    finally:
        fwd.close()
    keys = Counter(k for k, _ in read_topic(ingest_env, env["TOPIC_POSTS"]))
    assert set(keys) == set(sim.post_ids("down1")) | set(sim.post_ids("down2"))
    assert max(keys.values()) == 1
