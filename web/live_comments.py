"""`GET /api/posts/{post_id}/comments/live/`: a post's comment figures live from its entry in the
`post_comments` table (streams.processing.comments), served by the key's owner: comments seen,
their mean sentiment, comments per minute measured from the stream, the newest comment's time."""

from __future__ import annotations

from datetime import UTC, datetime

from streams.app import app
from streams.processing.comments import summary
from tables.state import post_comments_table
from web.errors import NotFound
from web.params import Query
from web.params import post_id as valid_post_id
from web.queries import iso
from web.routing import routed


@app.page("/api/posts/{post_id}/comments/live/")
@routed(post_comments_table, "post_id")
async def post_comments_live(web, request, post_id: str):
    Query(request, ())
    entry = post_comments_table.get(valid_post_id(post_id))
    if entry is None:
        raise NotFound(f"no comment state for post {post_id}")
    figures = summary(entry)
    last = figures["last_comment_at"]
    return web.json(
        {
            "post_id": post_id,
            **figures,
            "last_comment_at": None if last is None else iso(datetime.fromtimestamp(last, UTC)),
        }
    )
