"""Prometheus metrics of `faust -A streams ingest` (served on INGEST_METRICS_PORT when set)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

API_REQUESTS = Counter(
    "redditstream_ingest_api_requests_total", "Reddit API requests, by endpoint and outcome", ["endpoint", "outcome"]
)
POSTS_EMITTED = Counter(
    "redditstream_ingest_posts_emitted_total", "New posts delivered to the posts topic", ["subreddit"]
)
COMMENTS_EMITTED = Counter(
    "redditstream_ingest_comments_emitted_total", "New comments delivered to the comments topic", ["subreddit"]
)
REFRESHES_EMITTED = Counter(
    "redditstream_ingest_refreshes_emitted_total", "Refresh snapshots delivered to the refresh topic"
)
RATELIMIT_SLEEPS = Counter(
    "redditstream_ingest_ratelimit_sleeps_total", "Waits for the rate-limit budget to reset (429 or budget spent)"
)
RATELIMIT_REMAINING = Gauge(
    "redditstream_ingest_ratelimit_remaining",
    "Requests left in the current rate-limit window (the last x-ratelimit-remaining)",
)
ROUND_SECONDS = Histogram(
    "redditstream_ingest_round_seconds",
    "Duration of one poll round of a subreddit",
    ["subreddit"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
BUFFERED = Gauge("redditstream_ingest_buffered_records", "Records waiting to be delivered to Kafka")
TRACKED = Gauge("redditstream_ingest_tracked_posts", "Posts tracked for refreshes")
