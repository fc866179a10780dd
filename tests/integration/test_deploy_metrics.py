"""Every metric the Grafana dashboards and the alert rules name is one that a real worker's
`/metrics` or a real ingest's metrics endpoint (INGEST_METRICS_PORT) exposes — and every label
they filter or group on is one those series carry. Conversely every redditstream metric the two
processes expose is on some dashboard.

The worker is fed by ingest polling the simulator, plus one undecodable message (a dead
letter) and a few API requests, so that most families have samples whose labels can be read.
"""

from __future__ import annotations

from urllib.request import urlopen

import pytest

from tests import deploy_support as ds
from tests import harness
from tests.ingest_support import ingest_env, procs  # noqa: F401 - fixtures
from tests.kafka_tools import produce

pytestmark = pytest.mark.integration


def test_dashboards_and_alerts_use_only_exposed_metrics(start_worker, worker_env, ingest_env, procs):
    worker = start_worker()
    metrics_port = harness.free_port()
    env = {
        **ingest_env,
        "INGEST_METRICS_PORT": str(metrics_port),
        "SUBREDDITS": "python,rust",
        "SIMULATOR_HISTORY_POSTS": "20",
        "INGEST_POLL_SECONDS": "1",
        "INGEST_COMMENTS_SECONDS": "1",
    }
    procs("simulate", env)
    ingest = procs("ingest", env)
    produce(worker_env, worker_env["TOPIC_POSTS"], [("bad1", b"{not json")])
    for path in ("/api/stats/", "/api/posts/?limit=5", "/api/trending/", "/dlq/stats/", "/no-such-route"):
        worker.request(path)

    def ingest_metrics() -> str:
        with urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as resp:
            return resp.read().decode()

    harness.wait_for(
        lambda: worker.metric("redditstream_sink_rows_total", outcome="written") >= 10
        and worker.metric("redditstream_dead_letters_total") >= 1,
        60,
        f"the worker to store the simulator's posts and one dead letter\n{ingest.tail()}",
    )
    harness.wait_for(
        lambda: "redditstream_ingest_api_requests_total{endpoint=" in ingest_metrics(),
        30,
        "ingest's first API requests",
    )

    names, labels = ds.exposition(worker.get_text("/metrics"))
    i_names, i_labels = ds.exposition(ingest_metrics())
    names |= i_names | ds.PROMETHEUS_SERIES
    labels.update(i_labels)
    added_by_prometheus = {"instance", "job", "le"}

    missing, bad_labels = [], []
    for where, expr in ds.expressions():
        used = ds.metric_names(expr)
        missing += [f"{where}: {n}" for n in sorted(used - names)]
        matchers, grouping = ds.label_uses(expr)
        seen = set().union(*(labels.get(n, set()) for n in used)) | added_by_prometheus
        if all(n in labels for n in used if n not in ds.PROMETHEUS_SERIES):  # every series has samples
            bad_labels += [f"{where}: by/on ({label})" for label in sorted(grouping - seen)]
        for metric, wanted in matchers.items():
            if metric in labels:
                bad_labels += [
                    f"{where}: {metric}{{{label}}}" for label in sorted(wanted - labels[metric] - added_by_prometheus)
                ]
    assert not missing, "metrics no process exposes:\n" + "\n".join(missing)
    assert not bad_labels, "labels the series do not carry:\n" + "\n".join(bad_labels)

    # the families the label check relied on had samples (the test fed them)
    for family in (
        "redditstream_events_total",
        "redditstream_consumer_lag",
        "redditstream_sink_flush_seconds_bucket",
        "redditstream_db_pool_connections",
        "redditstream_http_request_seconds_bucket",
        "redditstream_dead_letters_total",
        "redditstream_sink_rows_total",
        "redditstream_ingest_api_requests_total",
        "redditstream_ingest_posts_emitted_total",
    ):
        assert family in labels, f"{family} has no sample"

    # and the other way round: every redditstream series the processes expose is on a dashboard
    on_dashboards = set().union(*(ds.metric_names(e) for w, e in ds.expressions() if not w.startswith("alerts")))
    families = {n for n in names if n.startswith("redditstream_") and not n.endswith("_created")}
    histograms = {n[: -len("_bucket")] for n in families if n.endswith("_bucket")}
    unused = sorted(
        n
        for n in families
        if n not in on_dashboards
        and not any(
            n in (h + "_bucket", h + "_sum", h + "_count", h)
            and ({h + "_bucket", h + "_sum", h + "_count"} & on_dashboards)
            for h in histograms
        )
    )
    assert not unused, f"exposed but on no dashboard: {unused}"
