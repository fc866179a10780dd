"""Refresh priority (docs/design.md §4): how often a tracked post is re-polled.

A lookup table of tiers ``(max_age_hours, interval_seconds)`` in increasing age order
(setting ``REFRESH_TIERS``, default ``1:120,6:300,24:900,48:3600``):

| post age      | re-polled every | trending (× ``REFRESH_TRENDING_FACTOR`` = 0.5) |
|---------------|-----------------|------------------------------------------------|
| < 1 h         | 120 s           | 60 s                                            |
| 1 h – 6 h     | 300 s           | 150 s                                           |
| 6 h – 24 h    | 900 s           | 450 s                                           |
| 24 h – 48 h   | 3600 s          | 1800 s                                          |
| ≥ 48 h        | no longer tracked                                                |
"""

from __future__ import annotations

from collections.abc import Sequence

Tiers = Sequence[tuple[float, float]]


def refresh_interval(
    age_seconds: float, tiers: Tiers, trending: bool = False, trending_factor: float = 0.5
) -> float | None:
    """Seconds between two refreshes of a post of this age; None once it is past the last tier."""
    age_hours = max(age_seconds, 0.0) / 3600.0
    for max_age_hours, every in tiers:
        if age_hours < max_age_hours:
            return every * trending_factor if trending else every
    return None


def is_trending(
    prev_score: int | None, prev_at: float | None, score: int, at: float, velocity_threshold: float
) -> bool:
    """Score velocity (upvotes/minute, docs/design.md §4 units) between two observations ≥ the threshold."""
    if prev_score is None or prev_at is None or at <= prev_at:
        return False
    minutes = max((at - prev_at) / 60.0, 1 / 60)
    return (score - prev_score) / minutes >= velocity_threshold
