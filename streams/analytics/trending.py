"""Trending score in [0, 1] (docs/design.md §4).

    trending_score = W_VELOCITY  * min(max(score_velocity, 0) / VELOCITY_HIGH, 1)
                   + W_COMMENTS  * min(num_comments / COMMENTS_HIGH, 1)
                   + W_SENTIMENT * min(|sentiment| / SENTIMENT_HIGH, 1)

Each term is saturated at 1 and the weights sum to 1 (checked when the config is built), so the
score spans the whole [0, 1] range. `is_trending = trending_score >= THRESHOLD`.
Velocity is in upvotes per minute, the unit the thresholds are written in.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError


class TrendingConfig(BaseModel):
    """The formula's constants: a plain typed value (this module reads no environment).

    The one definition of each default, bound and meaning: `streams.settings.Settings.trending`
    is this model, read from the `TRENDING_<FIELD>` variables (docs/configuration.md's table)."""

    model_config = ConfigDict(frozen=True, allow_inf_nan=False, extra="ignore")

    velocity_high: float = Field(
        10.0, gt=0, description="Score velocity (upvotes/minute) that saturates the velocity term."
    )
    comments_high: float = Field(100.0, gt=0, description="Comment count that saturates the comments term.")
    sentiment_high: float = Field(0.5, gt=0, le=1, description="|VADER compound| that saturates the sentiment term.")
    weight_velocity: float = Field(0.6, ge=0, le=1, description="Weight of the velocity term.")
    weight_comments: float = Field(0.3, ge=0, le=1, description="Weight of the comments term.")
    weight_sentiment: float = Field(
        0.1, ge=0, le=1, description="Weight of the sentiment term (the three weights must sum to 1)."
    )
    threshold: float = Field(0.5, ge=0, le=1, description="`is_trending = trending_score >= TRENDING_THRESHOLD`.")

    @model_validator(mode="after")
    def _weights_sum_to_one(self) -> Self:
        total = self.weight_velocity + self.weight_comments + self.weight_sentiment
        if abs(total - 1.0) > 1e-6:
            # `field` names the setting the refusal points at (streams.settings.SettingsError)
            raise PydanticCustomError(
                "weights_sum",
                "the three weights (TRENDING_WEIGHT_*) must sum to 1, they sum to {total}",
                {"field": "weight_velocity", "total": f"{total:g}"},
            )
        return self


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
