"""`GET /api/posts/{post_id}/velocity/`: live velocity from the table, served by the key's owner."""
from __future__ import annotations

import re

from streams.app import app
from web.routing import routed
from tables.state import velocity_table

_POST_ID = re.compile(r"^[0-9a-z]{1,13}$")


@app.page("/api/posts/{post_id}/velocity/")
@routed(velocity_table, "post_id")
async def post_velocity(web, request, post_id: str):  # noqa: ANN001
    if not _POST_ID.match(post_id):
        return web.json({"error": "post_id must be a base-36 post id"}, status=400)
    state = velocity_table.get(post_id)
    if state is None:
        return web.json({"error": f"no velocity state for post {post_id}"}, status=404)
    return web.json({"post_id": post_id, **state})
