"""The archive client's parameters: a plain typed value (this module reads no environment).

`streams.settings.Settings.archive` is this model, read from the `ARCHIVE_<FIELD>` variables
(docs/configuration.md's table). The API is documented in api/README.md of the GitHub repository
ArthurHeitmann/arctic_shift; docs/archive.md says how the project uses it."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

PUBLIC_API = "https://arctic-shift.photon-reddit.com"


class ArchiveConfig(BaseModel):
    model_config = ConfigDict(frozen=True, allow_inf_nan=False, extra="ignore", str_strip_whitespace=True)

    api_url: str = Field(
        PUBLIC_API, description="Base URL of the Arctic Shift API (`backfill --archive`, `REDDIT_SOURCE=archive`)."
    )
    requests_per_second: float = Field(
        1.0, gt=0, le=1000, description="Most requests per second to the archive (it is a free service: be polite)."
    )
    page_limit: int = Field(
        100, ge=1, le=100, description="Posts or comments asked per search request (the API's `limit`, 1–100)."
    )
    timeout_seconds: float = Field(30.0, gt=0, le=600, description="Seconds before one archive request times out.")
    retry_attempts: int = Field(
        8,
        ge=1,
        le=100,
        description="Attempts of one request (429, 5xx, timeouts, the throttle's 422) before the subreddit is "
        "reported and skipped.",
    )
    retry_base_seconds: float = Field(
        1.0, gt=0, le=60, description="First backoff after a failed archive request; doubles per attempt, jittered."
    )
    retry_max_seconds: float = Field(60.0, gt=0, le=3600, description="Longest backoff between two archive requests.")
    ratelimit_reserve: int = Field(
        1,
        ge=0,
        le=1000,
        description="When `X-RateLimit-Remaining` falls to this, requests wait for `X-RateLimit-Reset`.",
    )
    checkpoint: str = Field(
        "./.backfill/archive.json",
        description="Where `backfill --archive --resume` keeps, per subreddit, the last second and ids on the broker.",
    )
    final_after_hours: float = Field(
        36.0,
        gt=0,
        le=24 * 30,
        description="`REDDIT_SOURCE=archive`: age at which a tracked post is asked for again (the archive's final "
        "score and comments).",
    )

    @field_validator("api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL with a host")
        return value.rstrip("/")
