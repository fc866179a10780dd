"""`/openapi.json` against the real worker: a valid OpenAPI 3.1 document, every route the worker
serves documented (and nothing else), and every real response — successes and errors — valid
against its documented schema (strict: every property present, no undocumented one)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import jsonschema
from openapi_spec_validator import validate

from tests import harness
from tests.kafka_tools import produce
from tests.scenario import send, snapshot

ROUTES = """
import json
from streams.app import app
app.discover()
app.web.init_server()
out = set()
for route in app.web.web_app.router.routes():
    if route.method == "HEAD":
        continue
    out.add((route.resource.canonical, route.method))
print(json.dumps(sorted(out)))
"""


def served_routes(env: dict[str, str]) -> set[tuple[str, str]]:
    proc = subprocess.run(
        [sys.executable, "-c", ROUTES], cwd=harness.ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return {tuple(r) for r in json.loads(proc.stdout.strip().splitlines()[-1])}


def check(
    doc: dict,
    w: harness.Worker,
    path: str,
    template: str,
    method: str = "get",
    *,
    admin: bool = False,
    want: int | None = None,
) -> dict | None:
    status, headers, body = w.request(path, method.upper(), admin=admin, body=b"" if method == "post" else None)
    if want is not None:
        assert status == want, (path, status, body[:300])
    responses = doc["paths"][template][method]["responses"]
    assert str(status) in responses, f"{method.upper()} {path} answered {status}, undocumented: {body[:300]!r}"
    content = responses[str(status)]["content"]
    ctype = headers.get("Content-Type", "").split(";")[0]
    assert ctype in content, (path, ctype)
    if ctype != "application/json":
        return None
    value = json.loads(body)
    schema = {**content[ctype]["schema"], "components": doc["components"]}
    jsonschema.Draft202012Validator(schema).validate(value)
    return value


def test_openapi_documents_every_route_and_every_response(start_worker, worker_env):
    w = start_worker()
    now = time.time()
    posts = [snapshot("oa1", now - 120, 5, 1), snapshot("oa2", now - 120, 7, 2, sub="rust")]
    send(worker_env, worker_env["TOPIC_POSTS"], posts)
    send(worker_env, worker_env["TOPIC_REFRESH"], [snapshot("oa1", now - 60, 500, 150, source="refresh")])
    produce(worker_env, worker_env["TOPIC_POSTS"], [("bad1", b"{not json")])  # a dead letter
    harness.wait_for(
        lambda: w.request("/dlq/stats/")[0] == 200
        and json.loads(w.request("/dlq/stats/")[2])["total"] == 1
        and len(json.loads(w.request("/api/posts/")[2])["posts"]) == 2
        and json.loads(w.request("/api/posts/oa1/")[2]).get("score") == 500,
        90,
        "the posts, the refresh and the dead letter in PostgreSQL",
    )

    status, _, body = w.request("/openapi.json")
    assert status == 200
    doc = json.loads(body)
    validate(doc)  # a valid OpenAPI 3.1 document
    assert doc["openapi"].startswith("3.1")

    documented = {(p, m.upper()) for p, ops in doc["paths"].items() for m in ops}
    assert served_routes(w.env) == documented

    # what client generators need, on every operation, and the server's own rules as parameters
    operations = [op for ops in doc["paths"].values() for op in ops.values()]
    assert all(op["operationId"] and op["tags"] and [s["url"] for s in op["servers"]] == ["/"] for op in operations)
    assert len({op["operationId"] for op in operations}) == len(operations)
    assert {t for op in operations for t in op["tags"]} == {t["name"] for t in doc["tags"]} and doc["servers"]
    params = {
        (path, p["name"]): p["schema"]
        for path, ops in doc["paths"].items()
        for op in ops.values()
        for p in op.get("parameters", [])
    }
    assert params[("/dlq/", "source_topic")]["pattern"] == "^[A-Za-z0-9._-]{1,249}$"
    assert params[("/dlq/replay/", "error_type")]["pattern"] == "^[A-Za-z_][A-Za-z0-9_.]{0,199}$"
    assert params[("/dlq/replay/{id}/", "id")] == {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    assert params[("/api/posts/{post_id}/", "post_id")]["pattern"] == "^[0-9a-z]{1,13}$"
    assert params[("/api/posts/", "cursor")] == {"type": "string", "minLength": 1, "maxLength": 512}
    assert doc["components"]["schemas"]["Velocity"]["properties"]["observed_at"]["format"] == "date-time"

    ok = [
        ("/api/stats/", "/api/stats/"),
        ("/api/posts/?limit=1", "/api/posts/"),
        ("/api/posts/", "/api/posts/"),
        ("/api/posts/oa1/", "/api/posts/{post_id}/"),
        ("/api/posts/oa1/velocity/", "/api/posts/{post_id}/velocity/"),
        ("/api/trending/", "/api/trending/"),
        ("/api/subreddits/", "/api/subreddits/"),
        ("/api/subreddits/python/stats/", "/api/subreddits/{name}/stats/"),
        ("/dlq/", "/dlq/"),
        ("/dlq/?limit=1&replayed=false", "/dlq/"),
        ("/dlq/stats/", "/dlq/stats/"),
        ("/health/", "/health/"),
        ("/ready/", "/ready/"),
        ("/metrics", "/metrics"),
        ("/openapi.json", "/openapi.json"),
        ("/", "/"),
        ("/static/dashboard.js", "/static/{name}"),
        ("/static/dashboard.css", "/static/{name}"),
        ("/vendor/uPlot.iife.min.js", "/vendor/{name}"),
        ("/vendor/uPlot.min.css", "/vendor/{name}"),
    ]
    for path, template in ok:
        check(doc, w, path, template, want=200)
    assert check(doc, w, "/api/trending/", "/api/trending/")["posts"][0]["post_id"] == "oa1"
    assert check(doc, w, "/api/posts/?limit=1", "/api/posts/")["next_cursor"] is not None
    for path, template in [("/debug/partitions/", "/debug/partitions/"), ("/debug/tasks/", "/debug/tasks/")]:
        check(doc, w, path, template, admin=True, want=200)
        check(doc, w, path, template, admin=False, want=401)

    errors = [
        ("/api/posts/?limit=0", "/api/posts/", 400),
        ("/api/posts/zz/", "/api/posts/{post_id}/", 404),
        ("/api/posts/A!/", "/api/posts/{post_id}/", 400),
        ("/api/posts/zz/velocity/", "/api/posts/{post_id}/velocity/", 404),
        ("/api/posts/A!/velocity/", "/api/posts/{post_id}/velocity/", 400),
        ("/api/subreddits/x!/stats/", "/api/subreddits/{name}/stats/", 400),
        ("/api/trending/?limit=x", "/api/trending/", 400),
        ("/api/stats/?q=1", "/api/stats/", 400),
        ("/api/subreddits/?q=1", "/api/subreddits/", 400),
        ("/dlq/?limit=0", "/dlq/", 400),
        ("/dlq/stats/?x=1", "/dlq/stats/", 400),
        ("/?x=1", "/", 400),
        ("/api/live/?x=1", "/api/live/", 400),
        ("/static/nothing.js", "/static/{name}", 404),
        ("/static/..%2Fdashboard.py", "/static/{name}", 404),
        ("/vendor/uPlot.cjs.js", "/vendor/{name}", 404),
    ]
    for path, template, code in errors:
        check(doc, w, path, template, want=code)

    (letter,) = check(doc, w, "/dlq/", "/dlq/")["dead_letters"]
    check(doc, w, "/dlq/replay/", "/dlq/replay/", "post", want=401)
    check(doc, w, f"/dlq/replay/{letter['id']}/", "/dlq/replay/{id}/", "post", want=401)
    check(doc, w, "/dlq/replay/abc/", "/dlq/replay/{id}/", "post", admin=True, want=400)
    check(doc, w, "/dlq/replay/999999/", "/dlq/replay/{id}/", "post", admin=True, want=404)
    check(doc, w, f"/dlq/replay/{letter['id']}/", "/dlq/replay/{id}/", "post", admin=True, want=200)
    check(doc, w, "/dlq/replay/?source_topic=nothing", "/dlq/replay/", "post", admin=True, want=200)
    check(doc, w, "/debug/rebalance/", "/debug/rebalance/", "post", want=401)
