"""The simulated world's parameters: a plain typed value (this module reads no environment).

The one definition of each default, bound and meaning: `streams.settings.Settings.simulator` is
this model, read from the `SIMULATOR_<FIELD>` variables (docs/configuration.md's table)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class WorldConfig(BaseModel):
    model_config = ConfigDict(frozen=True, allow_inf_nan=False, extra="ignore")

    seed: int = Field(42, ge=0, description="Seed of the synthetic posts: same seed, same posts.")
    history_posts: int = Field(
        150, ge=0, le=100_000, description="Posts each subreddit already has when the simulator starts."
    )
    posts_per_hour: float = Field(60.0, gt=0, le=1e6, description="New posts per subreddit per simulated hour.")
    speed: float = Field(
        1.0,
        ge=0,
        le=1e6,
        description="Simulated seconds per real second (0 freezes the clocks; `/_sim/advance` moves them).",
    )
    ratelimit_budget: int = Field(
        1000, ge=1, description="Requests per rate-limit window the simulator allows (then 429)."
    )
    burst: int = Field(
        1, ge=1, le=10_000, description="The archive simulator: consecutive posts created in the same second."
    )
    ratelimit_window: float = Field(600.0, gt=0, le=86400, description="Seconds of the simulator's rate-limit window.")
