"""The deployment files, checked with the tools that read them (no Docker daemon needed):
the Dockerfile (structure, hadolint), .dockerignore, the hash-pinned lock, the compose files
(Debian's `docker-compose config`: the resolved model of the base file and of base + cluster
override), the entry points against the app's faust commands, the Prometheus config and rules
(`promtool check config / check rules / test rules`) and the Grafana dashboards' structure.
tools/deploy_tools.sh installs docker-compose, promtool and hadolint when missing.

tests/integration/test_deploy_metrics.py checks the metric names against a real worker and ingest.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from streams.settings import Settings, documented
from tests import deploy_support as ds
from tests.harness import BIN, ROOT

SECRETS = {
    "POSTGRES_PASSWORD": "pg-secret-1",
    "REDIS_PASSWORD": "redis-secret-2",
    "GRAFANA_ADMIN_PASSWORD": "grafana-secret-3",
}
APP_SERVICES = ("migrate", "worker", "ingest", "simulate")
FAUST_SERVICES = ("migrate", "worker", "ingest", "simulate")  # commands of the `redditstream` entrypoint
DATASOURCE_UID = yaml.safe_load((ROOT / "monitoring/grafana/provisioning/datasources/prometheus.yml").read_text())[
    "datasources"
][0]["uid"]
KAFKA_VERSION = re.search(r"<kafka.version>(.+?)</kafka.version>", (ROOT / "tools/kafka/pom.xml").read_text()).group(1)


def run(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, check=False, **kw)


# ------------------------------------------------------------------------------- Dockerfile


def dockerfile() -> list[tuple[int, str, str]]:
    """(stage index, INSTRUCTION, arguments) with continuation lines joined, comments dropped."""
    out, stage, buf = [], -1, ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        buf += line.rstrip()
        if buf.endswith("\\"):
            buf = buf[:-1] + " "
            continue
        instr, _, args = buf.strip().partition(" ")
        buf = ""
        if instr.upper() == "FROM":
            stage += 1
        out.append((stage, instr.upper(), args.strip()))
    return out


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def test_dockerfile_is_multi_stage_slim_python_non_root_with_entrypoint_and_healthcheck():
    lines = dockerfile()
    froms = [a for _, i, a in lines if i == "FROM"]
    args = dict(a.split("=", 1) for _, i, a in lines if i == "ARG" and "=" in a)
    images = [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], f.split()[0]) for f in froms]
    assert len(froms) >= 2, "multi-stage"
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", images[-1]), images
    final = max(s for s, _, _ in lines)
    last = [(i, a) for s, i, a in lines if s == final]
    user = [a for i, a in last if i == "USER"]
    assert user and re.fullmatch(r"[1-9]\d*(:[1-9]\d*)?", user[-1]), f"a numeric, non-root USER: {user}"
    names = [i for i, _ in last]
    assert names.index("USER") < names.index("ENTRYPOINT")
    assert exec_form(dict(last)["ENTRYPOINT"]) == ["redditstream"], "the project's console script (pyproject.toml)"
    assert exec_form(dict(last)["CMD"]) == ["worker", "-l", "info"]
    env = " ".join(a for i, a in last if i == "ENV")
    assert "WEB_HOST=0.0.0.0" in env and "WEB_PORT=6066" in env and "DATA_DIR=/data" in env
    assert exec_form(dict(last)["VOLUME"]) == ["/data"]
    health = dict(last)["HEALTHCHECK"]
    assert "docker/healthcheck.py" in health and "--start-period" in health
    # the healthcheck's default target is the worker's /health/ on WEB_PORT
    script = (ROOT / "docker/healthcheck.py").read_text()
    assert "/health/" in script and "WEB_PORT" in script and "'6066'" in script


def test_dockerfile_installs_the_lock_before_the_source():
    lines = dockerfile()
    build = [(i, a) for _, i, a in lines if i in ("COPY", "RUN")]
    first_source = next(n for n, (i, a) in enumerate(build) if i == "COPY" and a.split()[0] in ("streams", "."))
    lock_install = next(
        n for n, (i, a) in enumerate(build) if i == "RUN" and "requirements.lock" in a and "--require-hashes" in a
    )
    lock_copy = next(n for n, (i, a) in enumerate(build) if i == "COPY" and a.startswith("requirements.lock"))
    assert lock_copy < lock_install < first_source


def test_dockerfile_installs_the_wheel_not_the_source_tree():
    """The image runs the project as `pip install redditstream-*.whl` installs it anywhere
    (tests/integration/test_wheel.py): built in the build stage, installed with no index so that
    the lock meets its requirements; the runtime stage gets the virtualenv and no source."""
    lines = dockerfile()
    final = max(s for s, _, _ in lines)
    runs = " ".join(a for s, i, a in lines if i == "RUN" and s < final)
    assert "pip wheel --no-deps" in runs and "pip install --no-index /tmp/dist/redditstream-*.whl" in runs
    assert "--editable" not in runs and " -e ." not in runs
    runtime_copies = [a for s, i, a in lines if s == final and i == "COPY"]
    assert runtime_copies == ["--from=build /opt/venv /opt/venv", "docker ./docker"], runtime_copies
    built = {a.split()[0] for s, i, a in lines if s < final and i == "COPY"}
    assert {"streams", "agents", "tables", "web", "migrations"} <= built, "the wheel's packages"


def test_dockerfile_passes_hadolint(tmp_path):
    config = tmp_path / "hadolint.yaml"
    config.write_text("{}\n")  # the defaults, whatever config the machine has
    proc = run(
        ds.tools()["HADOLINT"],
        "--config",
        str(config),
        "--no-color",
        "--failure-threshold",
        "style",
        str(ROOT / "Dockerfile"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path or one of its parents wins."""

    def match(pattern: str, p: str) -> bool:
        rx = re.escape(pattern.strip("/")).replace(r"\*\*/", "(?:.*/)?").replace(r"\*\*", ".*")
        rx = rx.replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        return re.fullmatch(rx, p) is not None

    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pat = pattern[1:] if negate else pattern
        if any(match(pat, p) for p in prefixes):
            ignored = not negate
    return ignored


def test_dockerignore_sends_what_the_dockerfile_copies_and_nothing_local():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    copied = [a.split()[:-1] for _, i, a in dockerfile() if i == "COPY" and not a.startswith("--from")]
    for src in (s for sources in copied for s in sources):
        paths = [src] if (ROOT / src).is_file() else [str(p.relative_to(ROOT)) for p in (ROOT / src).rglob("*.py")]
        assert paths, src
        for path in paths[:5]:
            assert not _ignored(path, patterns), f"{path} is copied by the Dockerfile but ignored"
    for path in (
        ".env",
        ".env.local",
        ".venv/bin/python",
        ".data/v1/x",
        ".cache/kafka/libs/x.jar",
        "tools/dashboard/node_modules/uplot/dist/uPlot.min.css",
        "streams/__pycache__/app.cpython-311.pyc",
        "tests/conftest.py",
        ".git/config",
        "bench/sink_bench.py",
    ):
        assert _ignored(path, patterns), f"{path} would reach the build context"


# ------------------------------------------------------------------------------- the lock


def test_lock_pins_every_runtime_dependency_with_hashes():
    text = (ROOT / "requirements.lock").read_text()
    assert "pip-compile" in text and "--generate-hashes" in text and "pyproject.toml" in text
    assert not re.search(r"^\s*(--find-links|--index-url|--extra-index-url|-e )", text, re.MULTILINE)
    pins: dict[str, str] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)", block)
        if m:
            assert "--hash=sha256:" in block, f"{m.group(1)} has no hash"
            pins[canonicalize_name(m.group(1))] = m.group(2)
    project = __import__("tomllib").loads((ROOT / "pyproject.toml").read_text())["project"]
    for spec in project["dependencies"]:
        req = Requirement(spec)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not in requirements.lock (re-run pip-compile: docs/deploy.md)"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} does not satisfy {spec}"
    for must in ("faust-streaming", "aiokafka", "rocksdict", "asyncpraw", "mode-streaming", "psycopg-binary"):
        assert must in pins, must
    assert pins["faust-streaming"] == "0.15.3"


# ------------------------------------------------------------------------------- compose


def config(*files: str, env: dict[str, str] | None = None, profiles=("demo",)) -> dict:
    proc = ds.compose_config(*files, env=SECRETS if env is None else env, profiles=profiles)
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)


@pytest.fixture(scope="module")
def base() -> dict:
    return config("docker-compose.yml")


@pytest.fixture(scope="module")
def cluster() -> dict:
    return config("docker-compose.yml", "docker-compose.cluster.yml")


def test_compose_services_images_and_healthchecks(base):
    s = base["services"]
    assert set(s) == {"kafka", "postgres", "redis", "migrate", "worker", "ingest", "simulate", "prometheus", "grafana"}
    assert s["kafka"]["image"] == f"apache/kafka:{KAFKA_VERSION}", "the broker version of the local stack"
    assert s["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    pg = s["postgres"]["image"]
    assert re.fullmatch(r"timescale/timescaledb:\d+\.\d+\.\d+-pg1[67]", pg) and "oss" not in pg, pg
    assert "allkeys-lru" in s["redis"]["command"]
    for name in ("grafana", "prometheus", "redis"):
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", s[name]["image"]) and not s[name]["image"].endswith(":latest")
    for name, svc in s.items():
        if name == "migrate":
            assert svc["healthcheck"] in ({"disable": True}, {"test": ["NONE"]}) and svc["restart"] == "no"
            continue
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        for dep, cond in svc.get("depends_on", {}).items():
            assert cond.get("condition") in ("service_healthy", "service_completed_successfully"), (name, dep)
    for name in ("worker", "ingest", "simulate", "migrate"):
        assert s[name]["image"] == s["worker"]["image"] and s[name]["build"]["context"] == str(ROOT), name
    assert s["simulate"]["profiles"] == ["demo"]
    assert s["worker"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    for dep in ("kafka", "postgres", "redis"):
        assert s["worker"]["depends_on"][dep] == {"condition": "service_healthy"}
    assert s["grafana"]["depends_on"]["prometheus"] == {"condition": "service_healthy"}


def test_compose_worker_scales_with_a_volume_per_replica(base):
    w = base["services"]["worker"]
    assert "container_name" not in w, "a fixed container name would stop --scale"
    assert w["environment"]["DATA_DIR"] == "/data" and w["environment"]["WEB_HOST"] == "0.0.0.0"
    # an anonymous volume (no source) for DATA_DIR: each replica gets one of its own
    assert "/data" in w["volumes"], w["volumes"]
    (port,) = w["ports"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+-\d+:6066/tcp", port), "a host port range, one port per replica"
    lo, hi = map(int, port.split(":")[1].split("-"))
    assert hi - lo + 1 >= int(w["environment"]["TOPIC_PARTITIONS"]), "a port for every useful replica"


def test_compose_secrets_come_from_env_and_are_required():
    raw = (ROOT / "docker-compose.yml").read_text() + (ROOT / "docker-compose.cluster.yml").read_text()
    for m in re.finditer(r"^\s*([A-Z_]*(?:PASSWORD|TOKEN|SECRET|REQUIREPASS)[A-Z_]*):\s*(.*)$", raw, re.MULTILINE):
        assert re.fullmatch(r"\$\{\w+(:?[-?][^}]*)?\}", m.group(2).strip()), f"{m.group(1)} is not from .env"
    assert "admin/admin" not in raw and "GF_SECURITY_ADMIN_PASSWORD: admin" not in raw
    for missing in SECRETS:
        proc = ds.compose_config("docker-compose.yml", env={k: v for k, v in SECRETS.items() if k != missing})
        assert proc.returncode != 0 and missing in proc.stderr, (missing, proc.stderr)
    s = config("docker-compose.yml")["services"]
    assert s["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == SECRETS["GRAFANA_ADMIN_PASSWORD"]
    assert s["postgres"]["environment"]["POSTGRES_PASSWORD"] == SECRETS["POSTGRES_PASSWORD"]
    assert f":{SECRETS['POSTGRES_PASSWORD']}@postgres:5432/" in s["worker"]["environment"]["DATABASE_URL"]
    assert s["worker"]["environment"]["REDIS_URL"] == f"redis://:{SECRETS['REDIS_PASSWORD']}@redis:6379/0"
    assert SECRETS["REDIS_PASSWORD"] in s["redis"]["command"]
    # the example documents every variable the compose files read
    example = (ROOT / ".env.example").read_text()
    undocumented = sorted(
        v
        for v in ds.compose_variables("docker-compose.yml", "docker-compose.cluster.yml", "docker-compose.secure.yml")
        if not re.search(rf"^#?\s*{v}=", example, re.MULTILINE)
    )
    assert not undocumented, f"not in .env.example: {undocumented}"


# app settings whose compose default differs from streams/settings.py on purpose
CONTAINER_DEFAULTS = {
    "LOG_FORMAT": "json",  # one JSON object per line for a log collector
    "SIMULATOR_SPEED": "10",
}  # the demo's clock, as `make demo`


def test_compose_defaults_of_app_settings_are_the_apps():
    defaults = {name: text for name, text, _ in documented()}
    raw = (ROOT / "docker-compose.yml").read_text()
    for var, default in re.findall(r"\$\{(\w+):-([^}]*)\}", raw):
        if var in defaults:
            want = Settings.from_mapping({var: CONTAINER_DEFAULTS.get(var, defaults[var])})
            got = Settings.from_mapping({var: default})
            assert got == want, f"{var}: compose defaults to {default!r}, the app to {defaults[var]!r}"


def test_compose_cluster_override(cluster):
    s = cluster["services"]
    brokers = [n for n in s if n.startswith("kafka")]
    assert sorted(brokers) == ["kafka", "kafka-2", "kafka-3"]
    ids, voters = set(), set()
    for b in brokers:
        e = s[b]["environment"]
        assert s[b]["image"] == f"apache/kafka:{KAFKA_VERSION}"
        assert int(e["KAFKA_DEFAULT_REPLICATION_FACTOR"]) == 3 and int(e["KAFKA_MIN_INSYNC_REPLICAS"]) == 2
        assert int(e["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) == 3
        assert int(e["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"]) == 2
        assert f"PLAINTEXT://{b}:9092" in e["KAFKA_ADVERTISED_LISTENERS"]
        ids.add(int(e["KAFKA_NODE_ID"]))
        voters.add(e["KAFKA_CONTROLLER_QUORUM_VOTERS"])
        assert s[b]["healthcheck"]["test"]
        assert s[b]["volumes"] and s[b]["volumes"][0].split(":")[0] == f"{b}-data", "a data volume per broker"
    assert ids == {1, 2, 3} and voters == {"1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093"}
    host_ports = [p for b in brokers for p in s[b].get("ports", [])]
    assert len(set(host_ports)) == len(host_ports) == 3
    for app in ("worker", "ingest"):
        e = s[app]["environment"]
        assert e["KAFKA_BROKER_URL"] == "kafka://kafka:9092;kafka-2:9092;kafka-3:9092"
        assert int(e["TOPIC_REPLICATION"]) == 3
        for b in brokers:
            assert s[app]["depends_on"][b] == {"condition": "service_healthy"}
    assert s["worker"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}


# ------------------------------------------------------------------------------- entry points


@pytest.fixture(scope="module")
def faust_commands(tmp_path_factory) -> set[str]:
    """The commands of the console script `redditstream` (its --help), the image's entrypoint."""
    proc = run(str(BIN / "redditstream"), "--help", cwd=tmp_path_factory.mktemp("faust"))
    assert proc.returncode == 0, proc.stderr
    listing = proc.stdout.split("Commands:", 1)[1]
    return set(re.findall(r"^\s{2}([a-z][\w-]*)\s", listing, re.MULTILINE))


def test_entry_points_are_the_documented_commands(base, faust_commands):
    # the README at a glance, the commands in docs/operations.md and docs/deploy.md
    readme = "\n".join(
        p.read_text() for p in (ROOT / "README.md", ROOT / "docs/operations.md", ROOT / "docs/deploy.md")
    )
    assert {"worker", "ingest", "simulate", "migrate"} <= faust_commands, faust_commands
    cmd = exec_form(next(a for s, i, a in reversed(dockerfile()) if i == "CMD"))
    assert cmd[0] in faust_commands
    s = base["services"]
    for name in FAUST_SERVICES:
        svc = s[name]
        assert "entrypoint" not in svc, f"{name} runs the image's entrypoint (redditstream)"
        assert svc["command"][0] == name and name in faust_commands, svc["command"]
        assert f"redditstream {name}" in readme, f"the docs do not document `redditstream {name}`"
    assert s["worker"]["command"] == cmd, "compose runs the worker as the image's default command"
    assert s["migrate"]["command"] == ["migrate"]
    # the documented worker invocation is the image's
    assert "redditstream worker -l info" in readme


# ------------------------------------------------------------------------------- Prometheus


def promtool(*args: str) -> subprocess.CompletedProcess:
    return run(ds.tools()["PROMTOOL"], *args, cwd=ROOT / "monitoring")


def test_prometheus_config_is_valid_and_finds_every_replica(base):
    proc = promtool("check", "config", "prometheus.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    prom = yaml.safe_load((ROOT / "monitoring/prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    s = base["services"]
    worker_sd = jobs["redditstream-worker"]["dns_sd_configs"][0]
    assert worker_sd["names"] == ["worker"] and worker_sd["type"] == "A"
    assert str(worker_sd["port"]) == str(s["worker"]["environment"]["WEB_PORT"])
    ingest_sd = jobs["redditstream-ingest"]["dns_sd_configs"][0]
    assert ingest_sd["names"] == ["ingest"]
    assert str(ingest_sd["port"]) == str(s["ingest"]["environment"]["INGEST_METRICS_PORT"])
    assert str(ingest_sd["port"]) in s["ingest"]["healthcheck"]["test"][-1]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in s["prometheus"]["volumes"] if v.startswith("/")}
    assert mounts["/etc/prometheus/prometheus.yml"] == str(ROOT / "monitoring/prometheus.yml")
    for rule_file in prom["rule_files"]:
        assert mounts[f"/etc/prometheus/{rule_file}"] == str(ROOT / "monitoring" / rule_file)


def test_alert_rules_are_valid_and_their_unit_tests_pass():
    proc = promtool("check", "rules", "alerts.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = promtool("test", "rules", "alerts.test.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rules = [r for g in yaml.safe_load(ds.ALERTS.read_text())["groups"] for r in g["rules"]]
    names = {r["alert"] for r in rules}
    # what the alerts must cover
    assert {
        "RedditstreamConsumerLagGrowing",
        "RedditstreamDeadLetters",
        "RedditstreamWorkerDown",
        "RedditstreamSinkRetrying",
        "RedditstreamIngestRateLimited",
    } <= names
    for r in rules:
        assert r["labels"]["severity"] in ("warning", "critical") and r["annotations"]["summary"], r["alert"]
        assert re.fullmatch(r"\d+m", r["for"]), r["alert"]
    lag = next(r for r in rules if r["alert"] == "RedditstreamConsumerLagGrowing")
    assert "redditstream_consumer_lag" in lag["expr"] and lag["for"] == "10m"
    retry = next(r for r in rules if r["alert"] == "RedditstreamSinkRetrying")
    assert "redditstream_sink_retries_total" in retry["expr"] and retry["for"] == "5m"
    tested = set(re.findall(r"alertname: (\w+)", (ROOT / "monitoring/alerts.test.yml").read_text()))
    assert {
        "RedditstreamConsumerLagGrowing",
        "RedditstreamDeadLetters",
        "RedditstreamWorkerDown",
        "RedditstreamSinkRetrying",
        "RedditstreamIngestRateLimited",
    } <= tested


# ------------------------------------------------------------------------------- Grafana


def test_dashboards_are_generated_and_provisioned(base):
    proc = run(sys.executable, str(ROOT / "monitoring/grafana/generate.py"), "--check")
    assert proc.returncode == 0, proc.stderr
    provider = yaml.safe_load((ROOT / "monitoring/grafana/provisioning/dashboards/redditstream.yml").read_text())
    path = provider["providers"][0]["options"]["path"]
    g = base["services"]["grafana"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in g["volumes"] if v.startswith("/")}
    assert mounts[path] == str(ds.DASHBOARDS)
    assert mounts["/etc/grafana/provisioning"] == str(ROOT / "monitoring/grafana/provisioning")
    datasource = yaml.safe_load((ROOT / "monitoring/grafana/provisioning/datasources/prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    home = g["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(path + "/") and (ds.DASHBOARDS / Path(home).name).is_file()


def test_dashboards_structure():
    boards = ds.dashboards()
    assert set(boards) == {"pipeline.json", "ingest.json", "storage.json", "web.json"}
    uids = [d["uid"] for d in boards.values()]
    assert len(set(uids)) == len(uids)
    for name, d in boards.items():
        assert d["title"] and d["schemaVersion"] >= 36 and d["panels"], name
        ids = [p["id"] for p in ds.panels(d)]
        assert len(set(ids)) == len(ids), name
        for p in ds.panels(d):
            gp = p["gridPos"]
            assert gp["x"] + gp["w"] <= 24 and gp["h"] > 0, (name, p["title"])
            if p["type"] == "row":
                continue
            assert p["title"] and p["targets"], (name, p["title"])
            assert p["datasource"]["uid"] == DATASOURCE_UID, (name, p["title"])
            for t in p["targets"]:
                assert t["expr"].strip() and t["refId"], (name, p["title"])
                assert t["datasource"] == {"type": "prometheus", "uid": DATASOURCE_UID}, (name, p["title"])
                assert ds.metric_names(t["expr"]), (name, p["title"], t["expr"])
        for v in d["templating"]["list"]:
            assert v["datasource"]["uid"] == DATASOURCE_UID


def test_dashboards_show_what_the_operators_need():
    used: dict[str, set[str]] = {}
    for where, expr in ds.expressions():
        used.setdefault(where.split(":")[0], set()).update(ds.metric_names(expr))
    pipeline, ingest, storage, web = (used[f"{n}.json"] for n in ("pipeline", "ingest", "storage", "web"))
    assert {
        "redditstream_events_total",
        "redditstream_consumer_lag",
        "redditstream_sink_flush_seconds_bucket",
        "redditstream_sink_rows_total",
        "redditstream_sink_retries_total",
        "redditstream_dead_letters_total",
        "redditstream_redis_mirror_pending",
    } <= pipeline
    assert {
        "redditstream_ingest_api_requests_total",
        "redditstream_ingest_ratelimit_remaining",
        "redditstream_ingest_tracked_posts",
        "redditstream_ingest_buffered_records",
    } <= ingest
    assert {"redditstream_db_pool_connections", "redditstream_sink_rows_total"} <= storage
    assert {"redditstream_http_request_seconds_bucket", "redditstream_http_request_seconds_count"} <= web
    exprs = [e for _, e in ds.expressions()]
    assert any("by (topic, partition)" in e and "redditstream_consumer_lag" in e for e in exprs)
    for q in ("0.5", "0.95", "0.99"):
        assert any(f"histogram_quantile({q}," in e and "redditstream_sink_flush_seconds_bucket" in e for e in exprs)
    assert any("by (le, route)" in e for e in exprs)
    assert any('outcome="rate_limited"' in e for e in exprs)


def test_dashboard_expressions_are_valid_promql(tmp_path):
    """Every dashboard expression (Grafana's variables substituted) parsed by promtool, as recording rules."""
    rules = [
        {"record": f"check:expr_{n}", "expr": ds.grafana_to_promql(e)} for n, (_, e) in enumerate(ds.expressions())
    ]
    path = tmp_path / "dashboard_exprs.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    proc = promtool("check", "rules", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_metric_name_parser():
    e = (
        'sum by (topic) (rate(a_total{outcome="x",instance=~"$instance"}[$__rate_interval])) / on (topic) '
        "group_left (foo) b offset 5m and bool histogram_quantile(0.99, sum(rate(c_bucket[5m])) by (le)) "
        "or vector(1e3) unless d:recorded[10m:1m] > 0.5"
    )
    assert ds.metric_names(e) == {"a_total", "b", "c_bucket", "d:recorded"}
    assert ds.metric_names("label_values(x_count, instance)") == {"x_count"}
    matchers, grouping = ds.label_uses(e)
    assert matchers == {"a_total": {"outcome", "instance"}} and grouping == {"topic", "foo", "le"}
    names, labels = ds.exposition(
        '# TYPE r counter\nr_total{a="1"} 1\n# TYPE h histogram\nh_bucket{le="1"} 1\n# TYPE g gauge\n'
    )
    assert {"r_total", "r_created", "h_bucket", "h_sum", "h_count", "g"} <= names
    assert labels["r_total"] == {"a"} and labels["h_bucket"] == {"le"}


def test_compose_secure_override_requires_tls_of_every_client():
    s = config("docker-compose.yml", "docker-compose.secure.yml", env={**SECRETS, "KAFKA_SASL_PASSWORD": "pw"})[
        "services"
    ]
    for app in ("worker", "ingest", "migrate", "simulate"):
        e = s[app]["environment"]
        assert e["DATABASE_URL"].endswith("?sslmode=verify-full&sslrootcert=/certs/ca.pem"), app
        assert e["REDIS_URL"].startswith("rediss://") and "ssl_ca_certs=/certs/ca.pem" in e["REDIS_URL"], app
        assert (e["KAFKA_BROKER_URL"], e["KAFKA_SECURITY_PROTOCOL"]) == ("kafka://kafka:9094", "SASL_SSL"), app
        Settings.from_mapping({k: v for k, v in e.items() if k != "KAFKA_SSL_CAFILE"})  # valid settings
    for app in ("worker", "ingest"):
        assert s[app]["depends_on"]["kafka-scram"] == {"condition": "service_completed_successfully"}
    kafka = s["kafka"]["environment"]
    assert "SASL_SSL://kafka:9094" in kafka["KAFKA_ADVERTISED_LISTENERS"]
    assert kafka["KAFKA_LISTENER_NAME_SASL__SSL_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert "SCRAM-SHA-512=[password=pw]" in s["kafka-scram"]["command"]
    assert "ssl=on" in s["postgres"]["command"] and "--tls-port" in s["redis"]["command"]
    assert s["redis"]["command"][s["redis"]["command"].index("--port") + 1] == "0"
    # without the SASL password the override refuses to start
    proc = ds.compose_config("docker-compose.yml", "docker-compose.secure.yml", env=SECRETS)
    assert proc.returncode != 0 and "KAFKA_SASL_PASSWORD" in proc.stderr
