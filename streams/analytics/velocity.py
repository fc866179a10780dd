"""Engagement velocity between two observations of a post (docs/design.md §4), per minute.

    score_velocity = (score - prev_score) / max(minutes between observed_at, 1/60)

and the same for comments. The first observation stores a baseline and yields 0. A baseline
older than the TTL is treated as absent (the observation becomes the new baseline). An
observation older than the stored one (out of order) does not move the baseline and yields
no new velocity. An observation with the same `observed_at` as the baseline is the same
observation delivered again (at-least-once redelivery): nothing changes and the stored
velocity is returned, so replays are idempotent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

MIN_MINUTES = 1.0 / 60.0


class Outcome(str, Enum):
    FIRST = "first"  # no (fresh) baseline: this observation is the baseline
    EXPIRED = "expired"  # the baseline was older than the TTL: replaced, velocity 0
    UPDATED = "updated"  # a new velocity was computed and the baseline moved
    OUT_OF_ORDER = "out_of_order"  # older than the baseline: ignored
    DUPLICATE = "duplicate"  # the baseline's own observation again: ignored


@dataclass(frozen=True)
class VelocityState:
    """What the velocity table holds per post: the baseline and the last velocity."""

    score: int
    comments: int
    observed_at: float
    score_velocity: float = 0.0
    comment_velocity: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "comments": self.comments,
            "observed_at": self.observed_at,
            "score_velocity": self.score_velocity,
            "comment_velocity": self.comment_velocity,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> VelocityState:
        return cls(
            int(d["score"]),
            int(d["comments"]),
            float(d["observed_at"]),
            float(d.get("score_velocity", 0.0)),
            float(d.get("comment_velocity", 0.0)),
        )


@dataclass(frozen=True)
class VelocityResult:
    state: VelocityState  # the state to keep (unchanged for OUT_OF_ORDER / DUPLICATE)
    outcome: Outcome

    @property
    def changed(self) -> bool:
        return self.outcome in (Outcome.FIRST, Outcome.EXPIRED, Outcome.UPDATED)

    @property
    def has_velocity(self) -> bool:
        """True when this observation produced a velocity of its own."""
        return self.outcome is Outcome.UPDATED

    @property
    def score_velocity(self) -> float:
        return self.state.score_velocity if self.outcome is not Outcome.OUT_OF_ORDER else 0.0

    @property
    def comment_velocity(self) -> float:
        return self.state.comment_velocity if self.outcome is not Outcome.OUT_OF_ORDER else 0.0


def is_expired(state: VelocityState, now: float, ttl_seconds: float) -> bool:
    return now - state.observed_at > ttl_seconds


def update(
    prev: VelocityState | None, score: int, comments: int, observed_at: float, ttl_seconds: float
) -> VelocityResult:
    """Fold one observation into the stored state."""
    if prev is None:
        return VelocityResult(VelocityState(score, comments, observed_at), Outcome.FIRST)
    if observed_at == prev.observed_at:
        return VelocityResult(prev, Outcome.DUPLICATE)
    if observed_at < prev.observed_at:
        return VelocityResult(prev, Outcome.OUT_OF_ORDER)
    if observed_at - prev.observed_at > ttl_seconds:
        return VelocityResult(VelocityState(score, comments, observed_at), Outcome.EXPIRED)
    minutes = max((observed_at - prev.observed_at) / 60.0, MIN_MINUTES)
    return VelocityResult(
        VelocityState(
            score,
            comments,
            observed_at,
            score_velocity=(score - prev.score) / minutes,
            comment_velocity=(comments - prev.comments) / minutes,
        ),
        Outcome.UPDATED,
    )
