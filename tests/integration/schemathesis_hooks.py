"""schemathesis hooks of tests/integration/test_schemathesis.py (loaded through SCHEMATHESIS_HOOKS).

A keyset cursor is opaque: the schema can say it is a string of 1 to 512 characters, not that it
must be a `next_cursor` the route returned, so a random string is schema-valid and the server's
400 for it counts as "a valid request refused" (`positive_data_acceptance`, ST202). This drops
exactly that failure: a 400 whose reason names the cursor, for a cursor that web.cursor itself
refuses. Every other check still runs on those requests (no 5xx, the 400's body and
`Content-Type` as documented), and a 400 for anything else (a good cursor, a good `limit`) still
fails the run.
"""

from __future__ import annotations

import json

import schemathesis

from web import cursor
from web.errors import BadRequest
from web.params import POST_ID

# the cursor of each keyset-paginated operation, as the route decodes it
CURSORS = {
    "/api/posts/": lambda c: cursor.time_key(c, "posts", str, id_ok=lambda v: POST_ID.fullmatch(v) is not None),
    "/api/posts/{post_id}/comments/": lambda c: cursor.time_key(
        c, "comments", str, id_ok=lambda v: POST_ID.fullmatch(v) is not None
    ),
    "/dlq/": lambda c: cursor.time_key(c, "dlq", int),
}


def refused_by_the_server(path: str, value: object) -> bool:
    if path not in CURSORS or not isinstance(value, str):
        return False
    try:
        CURSORS[path](value)
    except BadRequest:
        return True
    return False


@schemathesis.hook
def filter_failure(context, failure, case, response) -> bool:
    """False (drop it) for ST202 on a cursor the route rightly refuses; True for everything else."""
    if failure.code != "ST202" or response.status_code != 400:
        return True
    try:
        reason = json.loads(response.content)["error"]
    except (ValueError, KeyError, TypeError):
        return True
    value = (case.query or {}).get("cursor")
    return not (reason.startswith("cursor is not a cursor") and refused_by_the_server(case.operation.path, value))
