"""The pipeline's Prometheus metrics, declared once: the agents count, the views read them.

(The web server's own and ingest's metrics live with them: web/middleware.py, streams/ingest/metrics.py.)
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter(
    "redditstream_events_total", "Events (posts, comments) consumed, by topic and outcome", ["topic", "outcome"]
)
COMMENTS = Counter(
    "redditstream_comments_total",
    "Comments processed: new (scored and counted) or seen (an id its post's entry already held: a "
    "redelivery or a re-poll, counted once)",
    ["outcome"],
)
DEAD_LETTERS = Counter(
    "redditstream_dead_letters_total",
    "Dead letters published, by source topic and error type",
    ["source_topic", "error_type"],
)
PROCESS_SECONDS = Histogram(
    "redditstream_process_seconds",
    "Time to enrich one source message (a batch of events, or one)",
    ["topic"],
    buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0),
)
SINK_ROWS = Counter(
    "redditstream_sink_rows_total",
    "Observations committed by the sink, by outcome (written | dead_letter)",
    ["outcome"],
)
SINK_FLUSH_SECONDS = Histogram(
    "redditstream_sink_flush_seconds",
    "Time to commit one sink batch (including retries)",
    buckets=(0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 120.0),
)
SINK_RETRIES = Counter("redditstream_sink_retries_total", "Failed database writes that are being retried", ["agent"])
SINK_BUFFERED = Gauge("redditstream_sink_buffered", "Events buffered by a sink, not yet committed", ["agent"])
DLQ_PERSISTED = Counter("redditstream_dlq_persisted_total", "Dead letters stored in dlq_events")
