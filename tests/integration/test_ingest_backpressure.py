"""Broker unreachable: ingest keeps retrying, its buffer stays bounded (polling pauses when it
is full), and once the broker answers every fetched post is delivered, once.

The "broker" is the shared one behind a TCP forwarder on a port of the test's own: closed
at first, opened later (the shared broker itself is never stopped). Only the bootstrap goes
through the forwarder, so this covers a broker down at start-up, not one that dies later.
"""
from __future__ import annotations

import asyncio
import threading
import time
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


def test_broker_down_buffer_bounded_then_everything_delivered(ingest_env, procs):
    host, port = harness.bootstrap(ingest_env).split(",")[0].rsplit(":", 1)
    fwd = Forwarder((host, int(port)))
    env = {**ingest_env, "SUBREDDITS": "down1,down2", "SIMULATOR_HISTORY_POSTS": "100",
           "INGEST_POLL_SECONDS": "0.3", "INGEST_BUFFER_RECORDS": "50", "REFRESH_TIERS": "48:3600",
           "KAFKA_BROKER_URL": f"kafka://127.0.0.1:{fwd.port}"}
    sim = procs("simulate", env)
    ingest = procs("ingest", env)
    try:
        harness.wait_for(lambda: "broker unreachable" in ingest.log_path.read_text(), 60, "a failed connect")
        time.sleep(2)
        n1 = len([r for r in sim.requests() if r["kind"] == "new"])
        time.sleep(3)
        n2 = len([r for r in sim.requests() if r["kind"] == "new"])
        assert ingest.alive(), ingest.tail()
        assert n1 == n2, "polling should pause while the buffer is full"
        assert not ingest.events("poll round")  # the rounds wait in put(): nothing dropped

        fwd.open()  # the broker is back
        harness.wait_for(lambda: len(read_topic(ingest_env, env["TOPIC_POSTS"])) >= 200, 90,
                         f"every post delivered\n{ingest.tail()}")
        assert ingest.stop() == 0, ingest.tail()
    finally:
        fwd.close()
    keys = Counter(k for k, _ in read_topic(ingest_env, env["TOPIC_POSTS"]))
    assert set(keys) == set(sim.post_ids("down1")) | set(sim.post_ids("down2"))
    assert max(keys.values()) == 1
