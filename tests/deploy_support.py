"""Helpers of the deployment tests (tests/unit/test_deploy_files.py,
tests/integration/test_deploy_metrics.py): the tools, the monitoring files' PromQL, the metric
names in a PromQL expression and in a Prometheus exposition."""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import yaml

from tests.harness import ROOT

MONITORING = ROOT / "monitoring"
DASHBOARDS = MONITORING / "grafana" / "dashboards"
ALERTS = MONITORING / "alerts.yml"
# series Prometheus makes itself, not the processes it scrapes
PROMETHEUS_SERIES = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}


@functools.lru_cache(maxsize=1)
def tools() -> dict[str, str]:
    """docker-compose, promtool and hadolint (tools/deploy_tools.sh installs what is missing)."""
    proc = subprocess.run(
        [str(ROOT / "tools" / "deploy_tools.sh")], capture_output=True, text=True, timeout=900, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"tools/deploy_tools.sh failed:\n{proc.stdout}\n{proc.stderr}")
    return dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)


def dashboards() -> dict[str, dict]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(DASHBOARDS.glob("*.json"))}


def panels(dashboard: dict) -> Iterator[dict]:
    for p in dashboard["panels"]:
        yield p
        yield from p.get("panels", [])  # collapsed rows keep theirs inside


def expressions() -> list[tuple[str, str]]:
    """(where, PromQL) of every dashboard target, dashboard variable query and alert rule."""
    out: list[tuple[str, str]] = []
    for name, d in dashboards().items():
        for p in panels(d):
            for t in p.get("targets", []):
                out.append((f"{name}: {p['title']} [{t.get('refId')}]", t["expr"]))
        for v in d.get("templating", {}).get("list", []):
            if v.get("type") == "query":
                q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
                out.append((f"{name}: variable {v['name']}", q))
    for group in yaml.safe_load(ALERTS.read_text())["groups"]:
        for rule in group["rules"]:
            out.append((f"alerts.yml: {rule.get('alert') or rule.get('record')}", rule["expr"]))
    return out


def grafana_to_promql(expr: str) -> str:
    """A dashboard expression as plain PromQL: Grafana's variables replaced by values."""
    expr = re.sub(r"\$__(rate_interval|interval|range)\b", "5m", expr)
    expr = re.sub(r"\$\{?instance\}?", ".*", expr)
    m = re.fullmatch(r"\s*label_values\(\s*([^,)]+?)\s*(?:,\s*(\w+)\s*)?\)\s*", expr)
    return m.group(1) if m else expr


_KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
    "start",
    "end",
}
_IDENT = re.compile(r"(?<![\w.:$])([a-zA-Z_:][\w:]*)")


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects (functions, keywords, labels, strings,
    durations and numbers left out)."""
    e = grafana_to_promql(expr)
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', e)  # string literals
    e = re.sub(r"\{[^}]*\}", " ", e)  # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)  # ranges, subqueries
    e = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    names = set()
    for m in _IDENT.finditer(e):
        word = m.group(1)
        if word.lower() in _KEYWORDS or re.match(r"\s*\(", e[m.end() :]):
            continue  # a keyword, or a function / aggregation
        names.add(word)
    return names


def label_uses(expr: str) -> tuple[dict[str, set[str]], set[str]]:
    """({metric: labels in its matchers}, labels named in by / without / on / ignoring clauses)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', grafana_to_promql(expr))
    matchers: dict[str, set[str]] = {}
    for m in re.finditer(r"([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}", e):
        matchers.setdefault(m.group(1), set()).update(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", m.group(2)))
    grouping: set[str] = set()
    for m in re.finditer(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", e):
        grouping.update(x.strip() for x in m.group(1).split(",") if x.strip())
    return matchers, grouping


_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("_sum", "_count", "_created"),
    "gauge": ("",),
    "untyped": ("",),
    "info": ("_info",),
    "stateset": ("",),
    "gaugehistogram": ("_bucket", "_gsum", "_gcount"),
}


def exposition(text: str) -> tuple[set[str], dict[str, set[str]]]:
    """(every series name the exposition can carry, {series name: label names seen in its samples}).
    A family's name counts with its type's suffixes (a counter `x` is `x_total`, a histogram `x`
    is `x_bucket`, `x_sum`, `x_count`), also when it has no sample yet."""
    names: set[str] = set()
    labels: dict[str, set[str]] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(maxsplit=3)
            for suffix in _SUFFIXES.get(kind.strip(), ("",)):
                base = family[: -len("_total")] if kind.strip() == "counter" and family.endswith("_total") else family
                names.add(base + suffix)
            if kind.strip() in ("gauge", "untyped"):
                names.add(family)
        elif line and not line.startswith("#"):
            m = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s", line)
            if m:
                names.add(m.group(1))
                labels.setdefault(m.group(1), set()).update(re.findall(r'(\w+)="', m.group(2) or ""))
    return names, labels


def compose_config(*files: str, env: dict[str, str], profiles: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """`docker-compose config` of the given files with exactly `env` as the .env file (the
    variables the files read come from it only, not from this process's environment)."""
    with tempfile.TemporaryDirectory() as tmp:
        env_file = Path(tmp) / "env"
        env_file.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
        args = [tools()["DOCKER_COMPOSE"], "--project-directory", str(ROOT), "--env-file", str(env_file)]
        for f in files:
            args += ["-f", str(ROOT / f)]
        for p in profiles:
            args += ["--profile", p]
        read = compose_variables(*files)
        clean = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_") and k not in read}
        return subprocess.run(
            args + ["config"], capture_output=True, text=True, timeout=120, env=clean, cwd=tmp, check=False
        )


def compose_variables(*files: str) -> set[str]:
    """Every ${VAR...} the compose files interpolate."""
    out: set[str] = set()
    for f in files:
        out.update(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", (ROOT / f).read_text()))
    return out
