"""Deterministic synthetic posts: a pure function of (seed, subreddit, index, age).

Post ``k`` of a subreddit is created at ``anchor + k * gap`` plus a seeded jitter below one
gap (so creation times are strictly increasing in ``k``). Its final score is heavy-tailed
(log-normal); score and comments grow towards their final values over the first day
(``1 - exp(-age / 4h)``). Titles mix positive, negative and neutral wording.

A post's comments (at most MAX_COMMENTS) arrive along the same curve: comment ``j`` of post ``k``
is created when the curve passes ``j + 0.5``; each replies to the post or to an earlier comment,
and a few are deleted or removed, as Reddit shows them.
"""

from __future__ import annotations

import functools
import hashlib
import math
import random
from dataclasses import dataclass

GROWTH_SECONDS = 4 * 3600.0
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"

_TOPICS = (
    "Python 3.13",
    "Kafka",
    "stream processing",
    "my first open-source project",
    "this new GPU",
    "the release notes",
    "type hints",
    "async code",
    "the benchmark",
    "remote work",
)
_POSITIVE = (
    "I love {}: it is brilliant",
    "{} is amazing and makes me happy",
    "Great news about {}!",
    "Thank you, {} is wonderful",
)
_NEGATIVE = (
    "{} is terrible and broke everything",
    "I hate how awful {} is",
    "Worst experience with {}",
    "{} crashed again, so frustrating",
)
_NEUTRAL = ("A question about {}", "Notes on {}", "How does {} work?", "{}: weekly discussion thread")


def base36(n: int) -> str:
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = _B36[r] + out
        if n == 0:
            return out


def _rng(seed: int, subreddit: str, k: int) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{subreddit.lower()}:{k}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def post_id(seed: int, subreddit: str, k: int) -> str:
    digest = hashlib.sha256(f"id:{seed}:{subreddit.lower()}:{k}".encode()).digest()
    return base36(int.from_bytes(digest[:7], "big"))  # 56 bits: at most 11 base-36 digits


@dataclass(frozen=True)
class Traits:
    """What does not change over a post's life."""

    id: str
    title: str
    selftext: str
    author: str | None
    final_score: int
    final_comments: int
    upvote_ratio: float
    over_18: bool
    jitter: float  # fraction of a gap


def traits(seed: int, subreddit: str, k: int) -> Traits:
    rng = _rng(seed, subreddit, k)
    mood = rng.random()
    templates = _POSITIVE if mood < 0.35 else _NEGATIVE if mood < 0.65 else _NEUTRAL
    title = rng.choice(templates).format(rng.choice(_TOPICS))
    final_score = int(rng.lognormvariate(3.0, 1.6))
    return Traits(
        id=post_id(seed, subreddit, k),
        title=title,
        selftext="" if rng.random() < 0.5 else f"Details about {title.lower()} (post {k}).",
        author=None if rng.random() < 0.05 else f"user_{rng.randrange(5000)}",
        final_score=final_score,
        final_comments=int(final_score * rng.uniform(0.02, 0.6)),
        upvote_ratio=round(rng.uniform(0.55, 0.99), 2),
        over_18=rng.random() < 0.02,
        jitter=rng.random() * 0.9,
    )


def created_utc(anchor: float, gap: float, k: int, jitter: float) -> float:
    return round(anchor + (k + jitter) * gap, 3)


def grown(final: int, age: float) -> int:
    return int(final * (1.0 - math.exp(-max(age, 0.0) / GROWTH_SECONDS)))


def post_json(seed: int, subreddit: str, k: int, anchor: float, gap: float, now: float) -> dict:
    """The `data` object of a `t3` child, as the Reddit API shapes it, observed at `now`."""
    t = traits(seed, subreddit, k)
    created = created_utc(anchor, gap, k, t.jitter)
    age = now - created
    score = max(grown(t.final_score, age), 1 if age >= 0 else 0)
    permalink = f"/r/{subreddit}/comments/{t.id}/post_{k}/"
    return {
        "id": t.id,
        "name": f"t3_{t.id}",
        "subreddit": subreddit,
        "subreddit_name_prefixed": f"r/{subreddit}",
        "title": t.title,
        "selftext": t.selftext,
        "author": t.author or "[deleted]",
        "created_utc": created,
        "score": score,
        "ups": score,
        "num_comments": grown(t.final_comments, age),
        "upvote_ratio": t.upvote_ratio,
        "over_18": t.over_18,
        "permalink": permalink,
        "url": f"https://www.reddit.com{permalink}",
        "is_self": bool(t.selftext),
    }


def last_index(anchor: float, gap: float, now: float) -> int:
    """The largest k whose post can exist at `now` (the jitter may still hide it)."""
    return math.floor((now - anchor) / gap)


# ----------------------------------------------------------------------- comments

MAX_COMMENTS = 300  # per post: the simulator's cap (a real megathread has thousands)
_PRAISE = ("Great post, thank you!", "I love this, wonderful work.", "This is brilliant and so helpful.")
_GRIPE = ("This is terrible, it broke my build.", "Awful idea, I hate it.", "So frustrating, worst release yet.")
_PLAIN = ("What version is this?", "Interesting.", "Can you share the code?", "Same here.")


def comment_count(seed: int, subreddit: str, k: int) -> int:
    """How many comments post `k` ends with (they arrive over its life, like its num_comments)."""
    return min(traits(seed, subreddit, k).final_comments, MAX_COMMENTS)


@functools.lru_cache(maxsize=65_536)
def comment_offsets(seed: int, subreddit: str, k: int) -> tuple[float, ...]:
    """Seconds after the post's creation at which each of its comments is created, increasing: the
    j-th when the post's comment curve (`grown`) passes j + 0.5."""
    n = comment_count(seed, subreddit, k)
    return tuple(round(-GROWTH_SECONDS * math.log(1.0 - (j + 0.5) / n), 3) for j in range(n))


def comment_id(seed: int, subreddit: str, k: int, j: int) -> str:
    digest = hashlib.sha256(f"c:{seed}:{subreddit.lower()}:{k}:{j}".encode()).digest()
    return base36(int.from_bytes(digest[:7], "big"))


def comment_json(seed: int, subreddit: str, k: int, j: int, anchor: float, gap: float) -> dict:
    """The `data` object of a `t1` child, as the Reddit API shapes it: a reply to the post or to an
    earlier comment; some deleted (`[deleted]` body and author), some removed (`[removed]` body)."""
    t = traits(seed, subreddit, k)
    rng = _rng(seed, f"{subreddit}:c{j}", k)
    cid = comment_id(seed, subreddit, k, j)
    parent = f"t3_{t.id}" if j == 0 or rng.random() < 0.45 else f"t1_{comment_id(seed, subreddit, k, rng.randrange(j))}"
    fate = rng.random()
    mood = rng.random()
    body = rng.choice(_PRAISE if mood < 0.35 else _GRIPE if mood < 0.65 else _PLAIN)
    author: str = f"user_{rng.randrange(5000)}"
    if fate < 0.04:
        body, author = "[deleted]", "[deleted]"
    elif fate < 0.07:
        body, author = "[removed]", "[deleted]"
    created = round(created_utc(anchor, gap, k, t.jitter) + comment_offsets(seed, subreddit, k)[j], 3)
    return {
        "id": cid,
        "name": f"t1_{cid}",
        "link_id": f"t3_{t.id}",
        "parent_id": parent,
        "subreddit": subreddit,
        "subreddit_name_prefixed": f"r/{subreddit}",
        "body": body,
        "author": author,
        "score": int(rng.lognormvariate(1.0, 1.2)) - (1 if rng.random() < 0.1 else 0),
        "created_utc": created,
        "permalink": f"/r/{subreddit}/comments/{t.id}/post_{k}/{cid}/",
        "replies": "",
        "link_title": t.title,
    }
