"""Ingest benchmarks (printed, never asserted; `make bench` or `.venv/bin/python bench/ingest_bench.py`).

1. Refresh cost: API requests per refreshed post, batched `/api/info` (100 ids a request)
   against one request per post, with the real client (asyncpraw) against an in-process
   simulator; requests are counted at the simulator.
2. Producer: the ingest producer settings (linger 500 ms, 64 KiB batches, acks=all,
   idempotent) with snappy against no compression, on the real broker (KAFKA_BROKER_URL,
   from .env.local). Bytes on the wire are measured by wrapping aiokafka's connection:
   every Produce request is counted and its encoded size (request header + body, plus the
   4-byte length prefix) summed, exactly the bytes written to the socket for it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("REDDITSTREAM_HOME", str(Path(__file__).resolve().parent.parent))

from aiokafka import AIOKafkaProducer
from aiokafka import conn as aiokafka_conn

from streams.admin import bootstrap_servers
from streams.ingest.budget import Budget
from streams.ingest.convert import to_snapshot
from streams.ingest.producer import producer_config
from streams.ingest.reddit import RedditClient, open_reddit
from streams.records import encode
from streams.settings import Settings, environment
from streams.simulator import data
from streams.simulator.config import WorldConfig
from streams.simulator.server import World, serve

N_POSTS = int(os.environ.get("BENCH_POSTS", "1000"))
N_RECORDS = int(os.environ.get("BENCH_RECORDS", "20000"))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def refresh_cost() -> None:
    port = free_port()
    world = World(("bench",), WorldConfig(history_posts=N_POSTS, speed=0.0, ratelimit_budget=10**9))
    runner = await serve(world, "127.0.0.1", port)
    env = {**environment(), "REDDIT_API_URL": f"http://127.0.0.1:{port}", "SUBREDDITS": "bench"}
    client = RedditClient(open_reddit(Settings.from_mapping(env), Budget()))
    try:
        ids, after = [], None
        while True:
            page = await client.new_page("bench", after)
            ids += [p.id for p in page.posts]
            after = page.after
            if not after:
                break
        results = {}
        for name, size in (("batched /api/info (100 ids)", 100), ("one request per post", 1)):
            mark = len(world.requests)
            t0 = time.perf_counter()
            refreshed = 0
            for i in range(0, len(ids), size):
                refreshed += len((await client.info(ids[i : i + size])).posts)
            elapsed = time.perf_counter() - t0
            n_req = sum(1 for r in world.requests[mark:] if r["kind"] == "info")
            results[name] = (n_req, refreshed, elapsed)
        print(f"refresh of {len(ids)} tracked posts (asyncpraw → simulator, requests counted at the simulator):")
        for name, (n_req, refreshed, elapsed) in results.items():
            print(f"  {name:30s} {n_req:5d} requests  {n_req / refreshed:.3f} requests/post  {elapsed:6.2f} s")
    finally:
        await client.close()
        await runner.cleanup()


class WireCounter:
    """Counts Produce requests and their bytes as aiokafka writes them to the socket."""

    def __init__(self) -> None:
        self.requests = 0
        self.bytes = 0
        self._orig = aiokafka_conn.AIOKafkaConnection.send

    def __enter__(self) -> WireCounter:
        counter = self

        def send(conn, request, expect_response=True):
            struct = request.prepare(conn._versions)
            if struct.API_KEY == 0:  # Produce
                header = struct.build_request_header(correlation_id=0, client_id=conn._client_id)
                counter.requests += 1
                counter.bytes += 4 + len(header.encode()) + len(struct.encode())
            return counter._orig(conn, request, expect_response)

        aiokafka_conn.AIOKafkaConnection.send = send
        return self

    def __exit__(self, *exc) -> None:
        aiokafka_conn.AIOKafkaConnection.send = self._orig


async def producer_bytes() -> None:
    env = environment()
    now = time.time()
    records = []
    for k in range(N_RECORDS):
        sub = f"sub{k % 20}"
        post = data.post_json(42, sub, -k, anchor=now, gap=60, now=now)
        snap = to_snapshot(post, now, "new", 2000)
        records.append((snap.id, encode(snap)))
    raw_bytes = sum(len(k) + len(v) for k, v in records)
    print(
        f"\nproducer: {N_RECORDS} PostSnapshot records ({raw_bytes / 1e6:.2f} MB of keys+values), "
        "linger 500 ms, 64 KiB batches, acks=all, idempotent, 8 partitions:"
    )
    for compression in ("snappy", "none"):
        settings = Settings.from_mapping({**env, "PRODUCER_COMPRESSION": compression})
        bootstrap = bootstrap_servers(settings.kafka_broker_url)
        topic = f"bench.ingest.{compression}.{uuid.uuid4().hex[:8]}"
        producer = AIOKafkaProducer(**producer_config(settings, bootstrap))
        await producer.start()
        try:
            await producer.client._wait_on_metadata(topic)  # create the topic before counting
            with WireCounter() as wire:
                t0 = time.perf_counter()
                futs = [await producer.send(topic, value=v, key=k.encode()) for k, v in records]
                await producer.flush()
                await asyncio.gather(*futs)
                elapsed = time.perf_counter() - t0
        finally:
            await producer.stop()
        print(
            f"  {compression:6s}  {wire.requests:4d} produce requests  "
            f"{N_RECORDS / wire.requests:7.1f} records/request  {wire.bytes / 1e6:6.2f} MB on the wire  "
            f"({wire.bytes / raw_bytes:.2f} × payload)  {N_RECORDS / elapsed:8.0f} records/s"
        )


async def main() -> None:
    await refresh_cost()
    await producer_bytes()


if __name__ == "__main__":
    asyncio.run(main())
