"""Trending score in [0, 1] (docs/design.md §4).

    trending_score = W_VELOCITY  * min(max(score_velocity, 0) / VELOCITY_HIGH, 1)
                   + W_COMMENTS  * min(num_comments / COMMENTS_HIGH, 1)
                   + W_SENTIMENT * min(|sentiment| / SENTIMENT_HIGH, 1)

Each term is saturated at 1 and the weights sum to 1 (checked when settings load), so the
score spans the whole [0, 1] range. `is_trending = trending_score >= THRESHOLD`.
Velocity is in upvotes per minute, the unit the thresholds are written in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrendingConfig:
    velocity_high: float = 10.0
    comments_high: float = 100.0
    sentiment_high: float = 0.5
    weight_velocity: float = 0.6
    weight_comments: float = 0.3
    weight_sentiment: float = 0.1
    threshold: float = 0.5

    @classmethod
    def from_settings(cls, s: Any) -> TrendingConfig:
        return cls(
            s.trending_velocity_high,
            s.trending_comments_high,
            s.trending_sentiment_high,
            s.trending_weight_velocity,
            s.trending_weight_comments,
            s.trending_weight_sentiment,
            s.trending_threshold,
        )


def _saturate(value: float, high: float) -> float:
    return min(max(value, 0.0) / high, 1.0)


def trending_score(score_velocity: float, num_comments: int, sentiment: float, cfg: TrendingConfig) -> float:
    score = (
        cfg.weight_velocity * _saturate(score_velocity, cfg.velocity_high)
        + cfg.weight_comments * _saturate(float(num_comments), cfg.comments_high)
        + cfg.weight_sentiment * _saturate(abs(sentiment), cfg.sentiment_high)
    )
    return min(max(score, 0.0), 1.0)


def is_trending(score: float, cfg: TrendingConfig) -> bool:
    return score >= cfg.threshold
