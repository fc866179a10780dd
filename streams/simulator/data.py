"""Deterministic synthetic posts: a pure function of (seed, subreddit, index, age).

Post ``k`` of a subreddit is created at ``anchor + k * gap`` plus a seeded jitter below one
gap (so creation times are strictly increasing in ``k``). Its final score is heavy-tailed
(log-normal); score and comments grow towards their final values over the first day
(``1 - exp(-age / 4h)``). Titles mix positive, negative and neutral wording.
"""

from __future__ import annotations

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
