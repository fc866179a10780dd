"""`faust -A streams simulate`: serve the simulated Reddit API until SIGTERM/SIGINT."""

from __future__ import annotations

import logging

from faust.cli import option

from streams.app import app, settings

log = logging.getLogger("streams.simulator")


@app.command(
    option("--port", type=int, default=None, help="Port (default: SIMULATOR_PORT)."),
    option("--host", type=str, default=None, help="Address (default: SIMULATOR_HOST)."),
    option("--archive", is_flag=True, default=False, help="Simulate the Arctic Shift archive's API instead."),
)
async def simulate(self, port: int | None, host: str | None, archive: bool) -> None:
    """Run the Reddit API simulator (docs/design.md §8), or the Arctic Shift archive's (docs/archive.md)."""
    from streams.commands import setup_logging, stop_event
    from streams.simulator import archive as archive_sim
    from streams.simulator import server

    setup_logging(settings)
    subs = settings.simulator_subreddits or settings.subreddits
    host, port = host or settings.simulator_host, port or settings.simulator_port
    world: server.World | archive_sim.ArchiveWorld
    if archive:
        world = archive_sim.ArchiveWorld(subs, config=settings.simulator)
        runner = await server.serve(world, host, port, build=archive_sim.build_app)
    else:
        world = server.World(subreddits=subs, config=settings.simulator)
        runner = await server.serve(world, host, port)
    stop = stop_event()
    log.info(
        "%s simulator serving %d subreddits on http://%s:%d (seed %d)",
        "archive" if archive else "reddit",
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
