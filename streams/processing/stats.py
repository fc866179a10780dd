"""Per-subreddit stats: the sums each worker keeps and their fold into the windowed tables.

Each window (tables.subreddit_stats: tumbling 1 minute and 1 hour, event time = observed_at)
holds the count of new posts, the sum of their sentiment (mean = sum / count), the summed score
velocity and the number of observations; and for the comments: how many new ones, and the sum
and count of their sentiments (a removed or deleted body has none and is left out of the mean).
The enrichment sums its observations per (subreddit, minute) in a `StatsAccumulator`; the sums
go once a second to a repartition topic keyed by subreddit as `StatsDelta`s, and
agents/stats.py folds them into both tables (`fold`).
"""

from __future__ import annotations

import faust


class StatsDelta(faust.Record, serializer="json", include_metadata=False):
    subreddit: str
    observed_at: float  # the start of the minute the sums belong to
    posts: int
    sentiment_sum: float
    score_velocity_sum: float
    observations: int
    comments: int = 0
    comment_sentiment_sum: float = 0.0
    comment_sentiments: int = 0  # the comments with a sentiment (a body)


EMPTY = {
    "posts": 0,
    "sentiment_sum": 0.0,
    "score_velocity_sum": 0.0,
    "observations": 0,
    "comments": 0,
    "comment_sentiment_sum": 0.0,
    "comment_sentiments": 0,
}
_FIELDS = tuple(EMPTY)


class StatsAccumulator:
    """Sums per (subreddit, minute) between two drains. Pure; no I/O."""

    def __init__(self) -> None:
        self._sums: dict[tuple[str, float], list] = {}

    def _bucket(self, subreddit: str, observed_at: float) -> list:
        bucket = (subreddit, observed_at - observed_at % 60.0)
        s = self._sums.get(bucket)
        if s is None:
            s = self._sums[bucket] = [0, 0.0, 0.0, 0, 0, 0.0, 0]
        return s

    def add(
        self, subreddit: str, observed_at: float, *, new_post: bool, sentiment: float, score_velocity: float
    ) -> None:
        s = self._bucket(subreddit, observed_at)
        if new_post:
            s[0] += 1
            s[1] += sentiment
        s[2] += score_velocity
        s[3] += 1

    def add_comment(self, subreddit: str, observed_at: float, sentiment: float | None) -> None:
        """One comment seen for the first time (`sentiment` None: its body is gone)."""
        s = self._bucket(subreddit, observed_at)
        s[4] += 1
        if sentiment is not None:
            s[5] += sentiment
            s[6] += 1

    def drain(self) -> list[StatsDelta]:
        sums, self._sums = self._sums, {}
        return [
            StatsDelta(subreddit=sub, observed_at=minute, **dict(zip(_FIELDS, s, strict=True)))
            for (sub, minute), s in sums.items()
        ]

    def __len__(self) -> int:
        return len(self._sums)


def fold(current: dict, delta: StatsDelta) -> dict:
    # a window written before the comments' fields existed lacks them: they count from 0
    return {name: current.get(name, 0) + getattr(delta, name) for name in _FIELDS}


def summary(value: dict, minutes: float) -> dict:
    """A window's figures (`minutes`: its length, for the comments per minute)."""
    posts = value["posts"]
    comments = value.get("comments", 0)
    with_sentiment = value.get("comment_sentiments", 0)
    return {
        "posts": posts,
        "observations": value["observations"],
        "mean_sentiment": (value["sentiment_sum"] / posts) if posts else None,
        "score_velocity_sum": value["score_velocity_sum"],
        "comments": comments,
        "comments_per_minute": comments / minutes,
        "mean_comment_sentiment": (value["comment_sentiment_sum"] / with_sentiment) if with_sentiment else None,
    }
