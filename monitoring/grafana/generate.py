"""Writes the Grafana dashboards of monitoring/grafana/dashboards/ (provisioned by Grafana, see
provisioning/dashboards/redditstream.yml). The JSON files are generated: change this file and run

    python monitoring/grafana/generate.py          (writes the files)
    python monitoring/grafana/generate.py --check  (exit 1 if a file is not what this writes)

tests/unit/test_deploy_files.py checks that the files are up to date, that every panel has
targets on the provisioned datasource, and (with a real worker and ingest) that every metric
an expression names is one the processes expose. Standard library only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "redditstream-prometheus"}  # provisioning/datasources/prometheus.yml
RATE = "$__rate_interval"
W = 'instance=~"$instance"'  # the worker filter of the worker dashboards
CPU = f'process_cpu_seconds_total{{job="redditstream-worker",{W}}}'  # a worker process's CPU seconds


def target(expr: str, legend: str = "", ref: str = "A") -> dict:
    return {
        "refId": ref,
        "datasource": DATASOURCE,
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": True,
        "editorMode": "code",
    }


def timeseries(
    title: str,
    description: str,
    targets: list[dict],
    unit: str = "short",
    *,
    stack: bool = False,
    max_: float | None = None,
    right: dict[str, str] | None = None,
) -> dict:
    """`right`: {refId: unit} of the queries drawn against a right-hand axis of their own."""
    defaults: dict = {
        "unit": unit,
        "min": 0,
        "custom": {
            "fillOpacity": 10 if not stack else 40,
            "lineWidth": 1,
            "showPoints": "never",
            "spanNulls": True,
            "stacking": {"mode": "normal" if stack else "none", "group": "A"},
        },
    }
    if max_ is not None:
        defaults["max"] = max_
    overrides = [
        {
            "matcher": {"id": "byFrameRefID", "options": ref},
            "properties": [{"id": "custom.axisPlacement", "value": "right"}, {"id": "unit", "value": u}],
        }
        for ref, u in (right or {}).items()
    ]
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": _refs(targets),
        "fieldConfig": {"defaults": defaults, "overrides": overrides},
        "options": {
            "legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
    }


def stat(
    title: str,
    description: str,
    targets: list[dict],
    unit: str = "short",
    thresholds: list[tuple[float | None, str]] | None = None,
) -> dict:
    steps = [{"color": color, "value": value} for value, color in (thresholds or [(None, "green")])]
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": _refs(targets),
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "area",
            "textMode": "auto",
        },
    }


def row(title: str) -> dict:
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def _refs(targets: list[dict]) -> list[dict]:
    return [{**t, "refId": chr(ord("A") + i)} for i, t in enumerate(targets)]


def quantiles(metric: str, by: str = "", matchers: str = "", qs=(0.5, 0.95, 0.99)) -> list[dict]:
    group = f"le, {by}" if by else "le"
    sel = f"{{{matchers}}}" if matchers else ""
    legend = f"p{{q}} {{{{{by}}}}}" if by else "p{q}"
    return [
        target(
            f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket{sel}[{RATE}])))",
            legend.format(q=round(q * 100)),
        )
        for q in qs
    ]


def layout(panels: list[dict]) -> list[dict]:
    """Grid positions: rows full width, stats 6 wide, the rest 12 wide, two a line."""
    x = y = 0
    line_h = 0
    out = []
    for n, p in enumerate(panels, start=1):
        p = {"id": n, **p}
        if p["type"] == "row":
            if x:
                y += line_h
            p["gridPos"] = {"h": 1, "w": 24, "x": 0, "y": y}
            y += 1
            x = line_h = 0
        else:
            w, h = (6, 4) if p["type"] == "stat" else (12, 8)
            if x + w > 24:
                y += line_h
                x = line_h = 0
            p["gridPos"] = {"h": h, "w": w, "x": x, "y": y}
            x += w
            line_h = max(line_h, h)
        out.append(p)
    return out


def instance_variable(metric: str) -> dict:
    query = f"label_values({metric}, instance)"
    return {
        "name": "instance",
        "label": "worker",
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": query, "refId": "instance"},
        "definition": query,
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "sort": 1,
        "hide": 0,
        "regex": "",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
    }


def dashboard(uid: str, title: str, description: str, panels: list[dict], variables: list[dict]) -> dict:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["redditstream"],
        "editable": True,
        "graphTooltip": 1,
        "id": None,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-3h", "to": "now"},
        "timepicker": {},
        "timezone": "browser",
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "links": [
            {
                "type": "dashboards",
                "tags": ["redditstream"],
                "asDropdown": False,
                "includeVars": False,
                "keepTime": True,
                "title": "redditstream",
                "icon": "external link",
            }
        ],
        "templating": {"list": variables},
        "panels": layout(panels),
    }


# ------------------------------------------------------------------------------- the dashboards


def pipeline() -> dict:
    panels = [
        row("Throughput"),
        stat(
            "Workers up",
            "Workers whose /metrics Prometheus scrapes successfully (job redditstream-worker).",
            [target('count(up{job="redditstream-worker"} == 1)', "workers")],
            thresholds=[(None, "red"), (1, "green")],
        ),
        stat(
            "Events/s",
            "Events consumed by the enrich agents (all topics, all outcomes).",
            [target(f"sum(rate(redditstream_events_total{{{W}}}[{RATE}]))", "events/s")],
            "ops",
        ),
        stat(
            "Total consumer lag",
            "Messages of the source topics the group has not committed yet.",
            [target(f"sum(redditstream_consumer_lag{{{W}}})", "lag")],
            thresholds=[(None, "green"), (10000, "orange"), (100000, "red")],
        ),
        stat(
            "Dead letters/s",
            "Dead letters published by the enrich agents plus rows the sink dead-lettered.",
            [
                target(
                    f"(sum(rate(redditstream_dead_letters_total{{{W}}}[{RATE}])) or vector(0)) + "
                    f'(sum(rate(redditstream_sink_rows_total{{outcome="dead_letter",{W}}}[{RATE}])) or vector(0))',
                    "dead letters/s",
                )
            ],
            "ops",
            thresholds=[(None, "green"), (0.1, "orange"), (1, "red")],
        ),
        timeseries(
            "Events/s by topic and outcome",
            "redditstream_events_total: messages consumed by the enrich agents; outcome ok or the "
            "reason it became a dead letter.",
            [
                target(
                    f"sum by (topic, outcome) (rate(redditstream_events_total{{{W}}}[{RATE}]))", "{{topic}} {{outcome}}"
                )
            ],
            "ops",
        ),
        timeseries(
            "Comments/s: new and seen again",
            "redditstream_comments_total: comments scored and counted for the first time (new), and those "
            "whose id their post's entry already held (seen: a redelivery after a crash or a re-poll, not "
            "counted again).",
            [target(f"sum by (outcome) (rate(redditstream_comments_total{{{W}}}[{RATE}]))", "{{outcome}}")],
            "ops",
        ),
        timeseries(
            "Processing time per source message (p50 / p99)",
            "redditstream_process_seconds: decode, sentiment, velocity and trending of one source message "
            "(a batch of snapshots from ingest or the backfill, or one snapshot).",
            quantiles("redditstream_process_seconds", "topic", W, (0.5, 0.99)),
            "s",
        ),
        timeseries(
            "Worker CPU (cores)",
            "process_cpu_seconds_total of each worker process: a worker is one process, so it uses at "
            "most about one core (docs/deploy.md, sizing).",
            [target(f"sum by (instance) (rate({CPU}[{RATE}]))", "{{instance}}")],
        ),
        timeseries(
            "Worker CPU per event",
            "CPU seconds over events consumed, per worker: what one event costs (sizing: docs/deploy.md).",
            [
                target(
                    f"sum by (instance) (rate({CPU}[{RATE}])) / "
                    f"sum by (instance) (rate(redditstream_events_total{{{W}}}[{RATE}]))",
                    "{{instance}}",
                )
            ],
            "s",
        ),
        row("Consumer lag"),
        timeseries(
            "Consumer lag per partition",
            "redditstream_consumer_lag{topic,partition}: end offset minus the group's committed offset, "
            "reported by the worker that owns the partition (a moving partition moves its series).",
            [target(f"sum by (topic, partition) (redditstream_consumer_lag{{{W}}})", "{{topic}} [{{partition}}]")],
        ),
        timeseries(
            "Consumer lag per topic",
            "The group's lag, summed over partitions and workers.",
            [target(f"sum by (topic) (redditstream_consumer_lag{{{W}}})", "{{topic}}")],
        ),
        row("Sink (PostgreSQL)"),
        timeseries(
            "Batch flush latency (p50 / p95 / p99)",
            "redditstream_sink_flush_seconds: one sink batch committed, retries included.",
            quantiles("redditstream_sink_flush_seconds", "", W),
            "s",
        ),
        timeseries(
            "Sink rows/s by outcome",
            "redditstream_sink_rows_total: observations committed (written) or dead-lettered by the sink.",
            [target(f"sum by (outcome) (rate(redditstream_sink_rows_total{{{W}}}[{RATE}]))", "{{outcome}}")],
            "ops",
        ),
        timeseries(
            "Sink retries/s by agent",
            "redditstream_sink_retries_total: failed database writes being retried (sink, dlq). "
            "Sustained retries: PostgreSQL is unreachable or failing; the partitions wait.",
            [target(f"sum by (agent) (rate(redditstream_sink_retries_total{{{W}}}[{RATE}]))", "{{agent}}")],
            "ops",
        ),
        timeseries(
            "Events buffered by the sinks",
            "redditstream_sink_buffered: events held by a sink, not committed yet.",
            [target(f"sum by (agent) (redditstream_sink_buffered{{{W}}})", "{{agent}}")],
        ),
        row("Dead letters"),
        timeseries(
            "Dead letters/s by error type",
            "redditstream_dead_letters_total by error_type, and the rows PostgreSQL refused "
            '(redditstream_sink_rows_total{outcome="dead_letter"}). Triage: GET /dlq/stats/.',
            [
                target(f"sum by (error_type) (rate(redditstream_dead_letters_total{{{W}}}[{RATE}]))", "{{error_type}}"),
                target(
                    f'sum(rate(redditstream_sink_rows_total{{outcome="dead_letter",{W}}}[{RATE}]))',
                    "rows refused by PostgreSQL",
                ),
            ],
            "ops",
            stack=True,
        ),
        timeseries(
            "Dead letters/s by source topic, and stored",
            "Published by source topic; redditstream_dlq_persisted_total: stored in dlq_events.",
            [
                target(
                    f"sum by (source_topic) (rate(redditstream_dead_letters_total{{{W}}}[{RATE}]))", "{{source_topic}}"
                ),
                target(f"sum(rate(redditstream_dlq_persisted_total{{{W}}}[{RATE}]))", "stored in dlq_events"),
            ],
            "ops",
        ),
        row("State and rebalances"),
        timeseries(
            "Redis mirror pending",
            "redditstream_redis_mirror_pending: velocity entries not yet mirrored to Redis "
            "(grows while Redis is down; processing goes on).",
            [target(f"sum by (instance) (redditstream_redis_mirror_pending{{{W}}})", "{{instance}}")],
        ),
        timeseries(
            "Redis mirror writes/s and round trips/s",
            "redditstream_redis_mirror_written_total and redditstream_redis_mirror_round_trips_total.",
            [
                target(f"sum(rate(redditstream_redis_mirror_written_total{{{W}}}[{RATE}]))", "entries/s"),
                target(f"sum(rate(redditstream_redis_mirror_round_trips_total{{{W}}}[{RATE}]))", "round trips/s"),
            ],
            "ops",
            right={"B": "ops"},
        ),
        timeseries(
            "Velocity table keys by worker",
            "redditstream_velocity_table_keys: RocksDB's estimate for the partitions a worker owns.",
            [target(f"sum by (instance) (redditstream_velocity_table_keys{{{W}}})", "{{instance}}")],
        ),
        timeseries(
            "Re-seeks and metadata refreshes",
            "Rebalance safety nets: records past the expected offset "
            "(redditstream_consumer_gap_reseeks_total), stalled partitions re-seeked "
            "(redditstream_stall_reseeks_total), forced metadata refreshes.",
            [
                target(
                    f"sum by (topic) (increase(redditstream_consumer_gap_reseeks_total{{{W}}}[{RATE}]))",
                    "gap {{topic}}",
                ),
                target(
                    f"sum by (topic) (increase(redditstream_stall_reseeks_total{{{W}}}[{RATE}]))", "stall {{topic}}"
                ),
                target(
                    f"sum(increase(redditstream_topic_metadata_refreshes_total{{{W}}}[{RATE}]))", "metadata refreshes"
                ),
            ],
        ),
        timeseries(
            "Table partitions restored from the changelog",
            "redditstream_table_partitions_discarded_total: local RocksDB partitions that were ahead of "
            "their changelog topic (deleted or recreated) and were discarded and restored at assignment.",
            [
                target(
                    f"sum by (table) (increase(redditstream_table_partitions_discarded_total{{{W}}}[{RATE}]))",
                    "{{table}}",
                )
            ],
        ),
    ]
    return dashboard(
        "redditstream-pipeline",
        "redditstream · pipeline",
        "Events through the workers: throughput, consumer lag, the sink, dead letters, state.",
        panels,
        [instance_variable("redditstream_events_total")],
    )


def ingest() -> dict:
    panels = [
        row("Reddit API"),
        stat(
            "Ingest up",
            "Ingest's metrics endpoint answers (job redditstream-ingest).",
            [target('sum(up{job="redditstream-ingest"})', "up")],
            thresholds=[(None, "red"), (1, "green")],
        ),
        stat(
            "Rate-limit budget left",
            "redditstream_ingest_ratelimit_remaining: the last "
            "x-ratelimit-remaining Reddit sent (requests left in the window).",
            [target("min(redditstream_ingest_ratelimit_remaining)", "requests left")],
            thresholds=[(None, "red"), (20, "orange"), (100, "green")],
        ),
        stat(
            "429s in the last hour",
            "Answers 429 (rate limited) from Reddit.",
            [target('sum(increase(redditstream_ingest_api_requests_total{outcome="rate_limited"}[1h]))', "429s")],
            thresholds=[(None, "green"), (1, "red")],
        ),
        stat(
            "Tracked posts",
            "redditstream_ingest_tracked_posts: posts re-polled for refreshes.",
            [target("sum(redditstream_ingest_tracked_posts)", "tracked")],
        ),
        timeseries(
            "API requests/s by endpoint and outcome",
            "redditstream_ingest_api_requests_total: ok, rate_limited (429), not_found, server_error, "
            "timeout, network_error, error.",
            [
                target(
                    f"sum by (endpoint, outcome) (rate(redditstream_ingest_api_requests_total[{RATE}]))",
                    "{{endpoint}} {{outcome}}",
                )
            ],
            "reqps",
        ),
        timeseries(
            "Rate-limit budget and 429s",
            "Requests left in Reddit's window (left axis); 429 answers/s and waits for the window's reset/s "
            "(redditstream_ingest_ratelimit_sleeps_total), right axis.",
            [
                target("min(redditstream_ingest_ratelimit_remaining)", "requests left"),
                target(f'sum(rate(redditstream_ingest_api_requests_total{{outcome="rate_limited"}}[{RATE}]))', "429/s"),
                target(f"sum(rate(redditstream_ingest_ratelimit_sleeps_total[{RATE}]))", "waits for the reset/s"),
            ],
            right={"B": "ops", "C": "ops"},
        ),
        timeseries(
            "Poll round duration p95 by subreddit",
            "redditstream_ingest_round_seconds: one round of a subreddit's new listing.",
            quantiles("redditstream_ingest_round_seconds", "subreddit", "", (0.95,)),
            "s",
        ),
        row("Records"),
        timeseries(
            "New posts/s by subreddit",
            "redditstream_ingest_posts_emitted_total: new posts delivered to the posts topic.",
            [target(f"sum by (subreddit) (rate(redditstream_ingest_posts_emitted_total[{RATE}]))", "{{subreddit}}")],
            "ops",
            stack=True,
        ),
        timeseries(
            "New comments/s by subreddit",
            "redditstream_ingest_comments_emitted_total: new comments delivered to the comments topic.",
            [target(f"sum by (subreddit) (rate(redditstream_ingest_comments_emitted_total[{RATE}]))", "{{subreddit}}")],
            "ops",
            stack=True,
        ),
        timeseries(
            "Refreshes/s",
            "redditstream_ingest_refreshes_emitted_total: refresh snapshots delivered.",
            [target(f"sum(rate(redditstream_ingest_refreshes_emitted_total[{RATE}]))", "refreshes/s")],
            "ops",
        ),
        timeseries(
            "Tracked posts and buffered records",
            "redditstream_ingest_tracked_posts; redditstream_ingest_buffered_records: records waiting for "
            "the broker (at INGEST_BUFFER_RECORDS the pollers pause).",
            [
                target("sum(redditstream_ingest_tracked_posts)", "tracked posts"),
                target("sum(redditstream_ingest_buffered_records)", "buffered records"),
            ],
        ),
    ]
    return dashboard(
        "redditstream-ingest",
        "redditstream · ingest",
        "faust -A streams ingest: Reddit API requests, the rate-limit budget, records produced.",
        panels,
        [],
    )


def storage() -> dict:
    pool = "redditstream_db_pool_connections"
    panels = [
        row("Database pools"),
        timeseries(
            "Database pool saturation (in use / max)",
            "Connections in use (size - available) over the pool's max, per worker and pool (sink, web). "
            "At 100 % requests wait (DB_POOL_MAX).",
            [
                target(
                    f'(sum by (instance, pool) ({pool}{{state="size",{W}}}) - '
                    f'sum by (instance, pool) ({pool}{{state="available",{W}}})) / '
                    f'sum by (instance, pool) ({pool}{{state="max",{W}}})',
                    "{{instance}} {{pool}}",
                )
            ],
            "percentunit",
            max_=1,
        ),
        timeseries(
            "Pool connections by state",
            "redditstream_db_pool_connections{pool,state}: size, available, waiting requests, max.",
            [target(f"sum by (pool, state) ({pool}{{{W}}})", "{{pool}} {{state}}")],
        ),
        timeseries(
            "Requests waiting for a connection",
            'redditstream_db_pool_connections{state="waiting"}.',
            [target(f'sum by (instance, pool) ({pool}{{state="waiting",{W}}})', "{{instance}} {{pool}}")],
        ),
        row("Writes"),
        timeseries(
            "Rows/s into PostgreSQL",
            'redditstream_sink_rows_total{outcome="written"}: observations committed (posts and history).',
            [
                target(f'sum(rate(redditstream_sink_rows_total{{outcome="written",{W}}}[{RATE}]))', "rows/s"),
                target(
                    f'sum(rate(redditstream_sink_rows_total{{outcome="dead_letter",{W}}}[{RATE}]))',
                    "dead-lettered rows/s",
                ),
            ],
            "ops",
        ),
        timeseries(
            "Flushes/s and rows per flush",
            "redditstream_sink_flush_seconds_count: committed batches; rows per flush = rows/s over flushes/s.",
            [
                target(f"sum(rate(redditstream_sink_flush_seconds_count{{{W}}}[{RATE}]))", "flushes/s"),
                target(
                    f"sum(rate(redditstream_sink_rows_total{{{W}}}[{RATE}])) / "
                    f"sum(rate(redditstream_sink_flush_seconds_count{{{W}}}[{RATE}]))",
                    "rows per flush",
                ),
            ],
            "ops",
            right={"B": "short"},
        ),
        timeseries(
            "Flush latency p99 by worker",
            "redditstream_sink_flush_seconds, per worker.",
            quantiles("redditstream_sink_flush_seconds", "instance", W, (0.99,)),
            "s",
        ),
        timeseries(
            "Dead letters stored/s",
            "redditstream_dlq_persisted_total: rows written to dlq_events.",
            [target(f"sum(rate(redditstream_dlq_persisted_total{{{W}}}[{RATE}]))", "stored/s")],
            "ops",
        ),
        row("Reads (web views)"),
        timeseries(
            "SQL statements/s by query",
            "redditstream_web_queries_total and redditstream_web_query_errors_total (failed).",
            [
                target(f"sum by (query) (rate(redditstream_web_queries_total{{{W}}}[{RATE}]))", "{{query}}"),
                target(
                    f"sum by (query) (rate(redditstream_web_query_errors_total{{{W}}}[{RATE}]))", "errors {{query}}"
                ),
            ],
            "ops",
        ),
        timeseries(
            "Stats cache by outcome",
            "redditstream_web_cache_total: hit, computed, waited (single flight), redis_down.",
            [
                target(
                    f"sum by (cache, outcome) (rate(redditstream_web_cache_total{{{W}}}[{RATE}]))",
                    "{{cache}} {{outcome}}",
                )
            ],
            "ops",
        ),
    ]
    return dashboard(
        "redditstream-storage",
        "redditstream · storage",
        "PostgreSQL / TimescaleDB: pool saturation, rows written, flushes, the web views' queries.",
        panels,
        [instance_variable("redditstream_db_pool_connections")],
    )


def web() -> dict:
    h = "redditstream_http_request_seconds"
    panels = [
        row("Requests"),
        timeseries(
            "Requests/s by route",
            f"{h}_count by route template.",
            [target(f"sum by (route) (rate({h}_count{{{W}}}[{RATE}]))", "{{route}}")],
            "reqps",
        ),
        timeseries(
            "Requests/s by status",
            f"{h}_count by status code.",
            [target(f"sum by (status) (rate({h}_count{{{W}}}[{RATE}]))", "{{status}}")],
            "reqps",
            stack=True,
        ),
        timeseries(
            "Errors/s by route and status (4xx, 5xx)",
            "Answers with an error status; 503 means the database (or a key's owner) does not answer.",
            [
                target(
                    f'sum by (route, status) (rate({h}_count{{status=~"[45]..",{W}}}[{RATE}]))', "{{route}} {{status}}"
                )
            ],
            "reqps",
        ),
        timeseries(
            "Mean latency by route",
            f"{h}_sum over {h}_count.",
            [
                target(
                    f"sum by (route) (rate({h}_sum{{{W}}}[{RATE}])) / sum by (route) (rate({h}_count{{{W}}}[{RATE}]))",
                    "{{route}}",
                )
            ],
            "s",
        ),
        row("Latency quantiles by route"),
        timeseries("Latency p50 by route", f"{h} (histogram).", quantiles(h, "route", W, (0.5,)), "s"),
        timeseries("Latency p95 by route", f"{h} (histogram).", quantiles(h, "route", W, (0.95,)), "s"),
        timeseries("Latency p99 by route", f"{h} (histogram).", quantiles(h, "route", W, (0.99,)), "s"),
    ]
    return dashboard(
        "redditstream-web",
        "redditstream · web",
        "The workers' web server: request rate, errors and latency by route.",
        panels,
        [instance_variable(f"{h}_count")],
    )


DASHBOARDS = {"pipeline.json": pipeline, "ingest.json": ingest, "storage.json": storage, "web.json": web}


def render() -> dict[str, str]:
    return {name: json.dumps(build(), indent=2, ensure_ascii=False) + "\n" for name, build in DASHBOARDS.items()}


def main(argv: list[str]) -> int:
    files = render()
    if "--check" in argv:
        stale = [
            n for n, text in files.items() if not (OUT / n).is_file() or (OUT / n).read_text(encoding="utf-8") != text
        ]
        if stale:
            print(f"out of date: {', '.join(stale)} (run python monitoring/grafana/generate.py)", file=sys.stderr)
            return 1
        return 0
    OUT.mkdir(exist_ok=True)
    for name, text in files.items():
        (OUT / name).write_text(text, encoding="utf-8")
        print(f"wrote {OUT / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
