"""`GET /api/posts/{post_id}/velocity/`: live velocity from the table, served by the key's owner.

The table keeps `observed_at` in epoch seconds (what the velocity fold computes with); the API
gives it as ISO 8601 UTC like every other timestamp it serves."""

from __future__ import annotations

from datetime import UTC, datetime

from streams.app import app
from tables.state import velocity_table
from web.errors import NotFound
from web.params import Query
from web.params import post_id as valid_post_id
from web.queries import iso
from web.routing import routed


@app.page("/api/posts/{post_id}/velocity/")
@routed(velocity_table, "post_id")
async def post_velocity(web, request, post_id: str):
    Query(request, ())
    state = velocity_table.get(valid_post_id(post_id))
    if state is None:
        raise NotFound(f"no velocity state for post {post_id}")
    return web.json(
        {"post_id": post_id, **state, "observed_at": iso(datetime.fromtimestamp(state["observed_at"], UTC))}
    )
