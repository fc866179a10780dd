"""Comments in Reddit's real shapes, for the tests: the `t1` children of a Listing as the API
answers `/r/{sub}/comments` (what the simulator serves), and the CommentSnapshot fields made of them."""

from __future__ import annotations

import random


def t1(i: int, post: str, *, sub: str = "python", created: float = 1_800_000_000.0, parent: str | None = None) -> dict:
    """The `data` of a `t1` child: a live comment, a deleted one (i % 11 == 3), a removed one (i % 11 == 7)."""
    rnd = random.Random(i)
    body = rnd.choice(["I love this, great work!", "This is awful and broken.", "Interesting, thanks.", "ok"])
    author = f"u_{i % 37}"
    if i % 11 == 3:
        body, author = "[deleted]", "[deleted]"
    elif i % 11 == 7:
        body, author = "[removed]", "[deleted]"
    cid = f"k{i:x}"
    return {
        "id": cid,
        "name": f"t1_{cid}",
        "link_id": f"t3_{post}",
        "parent_id": parent or f"t3_{post}",
        "subreddit": sub,
        "subreddit_name_prefixed": f"r/{sub}",
        "body": body,
        "author": author,
        "score": rnd.randint(-3, 40),
        "created_utc": created,
        "permalink": f"/r/{sub}/comments/{post}/x/{cid}/",
        "replies": "",
        "depth": 0 if parent is None else 1,
    }


def snapshot(
    i: int,
    post: str,
    *,
    sub: str = "python",
    created: float = 1_800_000_000.0,
    observed: float = 0.0,
    parent: str | None = None,
    source: str = "new",
) -> dict:
    """The CommentSnapshot JSON of `t1(i, post)` as ingest sends it (ids without prefixes)."""
    d = t1(i, post, sub=sub, created=created, parent=parent)
    return {
        "id": d["id"],
        "post_id": post,
        "parent_id": d["parent_id"],
        "subreddit": sub,
        "author": d["author"],
        "body": d["body"],
        "score": d["score"],
        "created_utc": created,
        "observed_at": observed or created + 5.0,
        "source": source,
    }


POST_AGGREGATES = "SELECT post_id, comments_seen, comment_sentiment FROM posts WHERE post_id = ANY(%s) ORDER BY 1"
RECOMPUTED = "SELECT post_id, count(*)::int, avg(sentiment) FROM comments WHERE post_id = ANY(%s) GROUP BY 1 ORDER BY 1"


def aggregates_differ(query, posts: list[str]) -> list[tuple]:
    """The posts whose `comments_seen` / `comment_sentiment` are not a recomputation from `comments`
    (`query(sql, params)` runs SQL): counts exactly, means to 1e-12 (a float sum's order, the plan's,
    may move their last bits). Empty when they all match."""
    got = {r[0]: r[1:] for r in query(POST_AGGREGATES, (posts,))}
    want = {r[0]: r[1:] for r in query(RECOMPUTED, (posts,))}
    bad = []
    for p in sorted(set(got) | set(want)):
        (n, mean), (m, mean2) = got.get(p, (None, None)), want.get(p, (0, None))
        if n != m or (mean is None) != (mean2 is None) or (mean is not None and abs(mean - mean2) > 1e-12):
            bad.append((p, got.get(p), want.get(p)))
    return bad
