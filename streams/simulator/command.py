"""`faust -A streams simulate`: serve the simulated Reddit API until SIGTERM/SIGINT."""

from __future__ import annotations

import logging

from faust.cli import option

from streams.app import app, settings

log = logging.getLogger("streams.simulator")


@app.command(
    option("--port", type=int, default=None, help="Port (default: SIMULATOR_PORT)."),
    option("--host", type=str, default=None, help="Address (default: SIMULATOR_HOST)."),
)
async def simulate(self, port: int | None, host: str | None) -> None:
    """Run the Reddit API simulator (docs/design.md §8)."""
    from streams.commands import setup_logging, stop_event
    from streams.simulator.server import World, serve

    setup_logging(settings)
    world = World(subreddits=settings.simulator_subreddits or settings.subreddits, config=settings.simulator)
    host, port = host or settings.simulator_host, port or settings.simulator_port
    stop = stop_event()
    runner = await serve(world, host, port)
    log.info(
        "simulator serving %d subreddits on http://%s:%d (seed %d)",
        len(world.subreddits),
        host,
        port,
        world.config.seed,
    )
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        log.info("simulator stopped")
