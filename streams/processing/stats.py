"""Per-subreddit stats: the sums each worker keeps and their fold into the windowed tables.

Each window (tables.subreddit_stats: tumbling 1 minute and 1 hour, event time = observed_at)
holds the count of new posts, the sum of their sentiment (mean = sum / count), the summed score
velocity and the number of observations. The enrichment sums its observations per (subreddit,
minute) in a `StatsAccumulator`; the sums go once a second to a repartition topic keyed by
subreddit as `StatsDelta`s, and agents/stats.py folds them into both tables (`fold`).
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


EMPTY = {"posts": 0, "sentiment_sum": 0.0, "score_velocity_sum": 0.0, "observations": 0}


class StatsAccumulator:
    """Sums per (subreddit, minute) between two drains. Pure; no I/O."""

    def __init__(self) -> None:
        self._sums: dict[tuple[str, float], list] = {}

    def add(
        self, subreddit: str, observed_at: float, *, new_post: bool, sentiment: float, score_velocity: float
    ) -> None:
        bucket = (subreddit, observed_at - observed_at % 60.0)
        s = self._sums.get(bucket)
        if s is None:
            s = self._sums[bucket] = [0, 0.0, 0.0, 0]
        if new_post:
            s[0] += 1
            s[1] += sentiment
        s[2] += score_velocity
        s[3] += 1

    def drain(self) -> list[StatsDelta]:
        sums, self._sums = self._sums, {}
        return [
            StatsDelta(
                subreddit=sub,
                observed_at=minute,
                posts=s[0],
                sentiment_sum=s[1],
                score_velocity_sum=s[2],
                observations=s[3],
            )
            for (sub, minute), s in sums.items()
        ]

    def __len__(self) -> int:
        return len(self._sums)


def fold(current: dict, delta: StatsDelta) -> dict:
    return {
        "posts": current["posts"] + delta.posts,
        "sentiment_sum": current["sentiment_sum"] + delta.sentiment_sum,
        "score_velocity_sum": current["score_velocity_sum"] + delta.score_velocity_sum,
        "observations": current["observations"] + delta.observations,
    }


def summary(value: dict) -> dict:
    posts = value["posts"]
    return {
        "posts": posts,
        "observations": value["observations"],
        "mean_sentiment": (value["sentiment_sum"] / posts) if posts else None,
        "score_velocity_sum": value["score_velocity_sum"],
    }
