"""Metrics, dashboards and alert rules, checked against a real Prometheus.

A worker and the executor run against the local stack while the sample feed flows; Debian's
``prometheus`` binary scrapes both every second with a config generated from
deploy/prometheus/prometheus.yml and loads the alert and recording rules. Then every query of
every dashboard panel must return data, every metric a panel names must be in what the
processes export, and every rule must evaluate without error. promtool checks the config and
rules and runs the rule unit tests.

promtool and prometheus come from deploy/prometheus/install.sh, which this module runs when
either is missing (it needs root or sudo, as the local stack's own installs do).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from aiokafka import AIOKafkaProducer

from streams import topics as specs
from workers.dev.local_run import LocalPipeline, free_port
from workers.dev.sample_feed import sample_envelopes
from workers.settings import REPO_ROOT

PROM_DIR = REPO_ROOT / "deploy" / "prometheus"
DASHBOARD_DIR = REPO_ROOT / "dashboards"
RULE_FILES = sorted((PROM_DIR / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROM_DIR / "tests").glob("*.test.yml"))
# Grafana variables the dashboards may use, with what to query instead.
# The dashboards' variables at their "All" values.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$namespace": ".*", "$instance": ".*"}
BOUNDED_LABELS = {
    "stage", "outcome", "reason", "clause", "kind", "table", "op", "group", "topic",
    "partition", "role", "check", "name", "version", "le",
}  # fmt: skip
LONDON = ZoneInfo("Europe/London")


# --- tools ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prometheus_tools() -> dict[str, str]:
    if not (shutil.which("promtool") and shutil.which("prometheus")):
        subprocess.run([str(PROM_DIR / "install.sh")], check=True, timeout=600)
    tools = {name: shutil.which(name) for name in ("promtool", "prometheus")}
    missing = [name for name, path in tools.items() if path is None]
    assert not missing, f"{missing} still missing after deploy/prometheus/install.sh"
    return {name: str(path) for name, path in tools.items()}


def promtool(
    tools: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tools["promtool"], *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_promtool_check_rules(prometheus_tools: dict[str, str]) -> None:
    done = promtool(prometheus_tools, "check", "rules", *map(str, RULE_FILES))
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_rule_unit_tests(prometheus_tools: dict[str, str]) -> None:
    done = promtool(prometheus_tools, "test", "rules", *map(str, RULE_TESTS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_check_committed_config(prometheus_tools: dict[str, str]) -> None:
    done = promtool(prometheus_tools, "check", "config", str(PROM_DIR / "prometheus.yml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_has_summary_runbook_and_unit_tests() -> None:
    alerts = [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]
    assert alerts
    tested: dict[str, set[bool]] = {}
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                tested.setdefault(check["alertname"], set()).add(bool(check["exp_alerts"]))
    for rule in alerts:
        name = rule["alert"]
        assert {"summary", "runbook"} <= set(rule.get("annotations", {})), name
        assert tested.get(name) == {True, False}, f"{name} needs a firing and a quiet case"


def test_dashboards_json_is_what_build_py_makes() -> None:
    done = subprocess.run(
        [sys.executable, str(DASHBOARD_DIR / "build.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


# --- the dashboards' queries -----------------------------------------------------------------


def dashboards() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text()) for p in sorted(DASHBOARD_DIR.glob("*.json"))}


def panel_queries() -> list[tuple[str, str, str]]:
    """(dashboard file, panel title, PromQL) for every target of every panel."""
    found = []
    for name, board in dashboards().items():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                expr = target["expr"]
                for variable, value in GRAFANA_VARIABLES.items():
                    expr = expr.replace(variable, value)
                assert "$" not in expr, f"{name} / {panel['title']}: unknown variable in {expr}"
                found.append((name, panel["title"], expr))
    return found


def metric_names(expr: str) -> set[str]:
    """Metric and recording-rule names a PromQL expression reads."""
    without_strings = re.sub(r'"[^"]*"', '""', expr)
    tokens = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_strings))
    return {
        t for t in tokens if t.startswith(("modstream_", "modstream:", "process_")) or t == "up"
    }


def test_each_dashboard_has_panels_and_queries_on_the_datasource_variable() -> None:
    boards = dashboards()
    assert set(boards) == {"sre-overview.json", "moderation.json", "capacity.json"}
    provisioned = yaml.safe_load((DASHBOARD_DIR / "provisioning" / "datasources.yaml").read_text())
    uids = {source["uid"] for source in provisioned["datasources"]}
    provider = yaml.safe_load((DASHBOARD_DIR / "provisioning" / "dashboards.yaml").read_text())
    assert provider["providers"][0]["type"] == "file"
    assert len({board["uid"] for board in boards.values()}) == len(boards)
    for name, board in boards.items():
        variables = {v["name"]: v for v in board["templating"]["list"]}
        # Any Prometheus datasource can be chosen (kube-prometheus-stack names its own
        # "prometheus"); the provisioned one is the default choice.
        assert variables["datasource"]["type"] == "datasource", name
        assert variables["datasource"]["query"] == "prometheus", name
        assert variables["datasource"]["current"]["value"] in uids, name
        for filter_name in ("namespace", "instance"):
            assert variables[filter_name]["includeAll"], (name, filter_name)
            assert variables[filter_name]["allValue"] == ".*", (name, filter_name)
        for panel in board["panels"]:
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == "${datasource}", (name, panel["title"])
            for target in panel.get("targets", []):
                assert target["datasource"]["uid"] == "${datasource}", (name, panel["title"])
                for metric in metric_names(target["expr"]) - {"up"}:
                    if not metric.startswith("modstream:"):  # recording rules: cluster-wide
                        assert re.search(
                            re.escape(metric) + r'\{[^}]*namespace=~"\$namespace", '
                            r'instance=~"\$instance"\}',
                            target["expr"],
                        ), (name, panel["title"], target["expr"])
    per_board: dict[str, int] = {}
    for name, _, _ in panel_queries():
        per_board[name] = per_board.get(name, 0) + 1
    assert all(per_board.get(name, 0) >= 8 for name in boards), per_board


# --- against a running pipeline --------------------------------------------------------------


def http_get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # loopback only
        body: bytes = response.read()
        return body


def prom_api(base: str, path: str, **params: str) -> Any:
    url = f"{base}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    reply = json.loads(http_get(url, timeout=30))
    assert reply["status"] == "success", reply
    return reply["data"]


@contextlib.contextmanager
def running_prometheus(
    tools: dict[str, str], workdir: Path, worker: str, executor: str
) -> Iterator[str]:
    config = yaml.safe_load((PROM_DIR / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(path) for path in RULE_FILES]
    targets = {"modstream-worker": worker, "modstream-executor": executor}
    # The console's job (its queue gauges) is scraped where a console runs; not here.
    config["scrape_configs"] = [j for j in config["scrape_configs"] if j["job_name"] in targets]
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": [targets[job["job_name"]]]}]
    config_path = workdir / "prometheus.yml"
    config_path.write_text(yaml.safe_dump(config))
    checked = promtool(tools, "check", "config", str(config_path))
    assert checked.returncode == 0, checked.stdout + checked.stderr

    port = free_port()
    log = (workdir / "prometheus.log").open("wb")
    proc = subprocess.Popen(
        [
            tools["prometheus"],
            f"--config.file={config_path}",
            f"--storage.tsdb.path={workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=1h",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                if http_get(f"{base}/-/ready").strip():
                    break
            assert proc.poll() is None, (workdir / "prometheus.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "prometheus did not become ready"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextlib.asynccontextmanager
async def flowing_feed(pipeline: LocalPipeline) -> AsyncIterator[None]:
    """The sample feed, a small batch a second (malformed messages in the first), so rates over
    the last minute have something to show while the queries run."""
    producer = AIOKafkaProducer(bootstrap_servers=pipeline.settings.kafka_bootstrap, acks="all")
    await producer.start()
    topic = pipeline.topic(specs.RAW.name)

    async def feed() -> None:
        batch = 0
        while True:
            start_ms = int(time.time() * 1000) - 3_600_000
            for key, value in sample_envelopes(
                15, seed=1000 + batch, start_ms=start_ms, include_bad=batch == 0
            ):
                await producer.send(topic, key=key, value=value)
            await producer.flush()
            batch += 1
            await asyncio.sleep(1.0)

    task = asyncio.ensure_future(feed())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await producer.stop()


async def wait_for_http(url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            await asyncio.to_thread(http_get, url)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


async def test_every_panel_query_returns_data_from_a_real_prometheus(
    pipeline: LocalPipeline, prometheus_tools: dict[str, str], tmp_path: Path
) -> None:
    pipeline.start_worker()
    pipeline.start_executor()
    await pipeline.wait_ready()
    worker = f"127.0.0.1:{pipeline.web_port}"
    executor = f"127.0.0.1:{pipeline.web_port + 100}"
    await wait_for_http(f"http://{executor}/metrics")

    queries = panel_queries()
    async with flowing_feed(pipeline):
        with running_prometheus(prometheus_tools, tmp_path, worker, executor) as prom:
            # Every query must answer; the slowest to fill are the recording rules (their
            # groups run every 30-60 s) and the lag figures (a 10 s timer on the worker).
            deadline = time.monotonic() + 150
            while True:
                empty = []
                for board, title, expr in queries:
                    data = await asyncio.to_thread(prom_api, prom, "query", query=expr)
                    if not data["result"]:
                        empty.append(f"{board} / {title}: {expr}")
                if not empty or time.monotonic() > deadline:
                    break
                await asyncio.sleep(3)
            targets = await asyncio.to_thread(prom_api, prom, "targets")
            rules = await asyncio.to_thread(prom_api, prom, "rules")
            exported = {
                "worker": (await asyncio.to_thread(http_get, f"http://{worker}/metrics")).decode(),
                "executor": (
                    await asyncio.to_thread(http_get, f"http://{executor}/metrics")
                ).decode(),
            }
            await check_monitoring_hours_against_zoneinfo(prom)

    health = {t["labels"]["job"]: t["health"] for t in targets["activeTargets"]}
    assert health == {"modstream-worker": "up", "modstream-executor": "up"}, targets
    assert not empty, "panels without data:\n" + "\n".join(empty)

    broken = [
        f"{rule['name']}: {rule.get('lastError')}"
        for group in rules["groups"]
        for rule in group["rules"]
        if rule["health"] != "ok"
    ]
    assert not broken, broken

    # A panel naming a metric the code does not export must fail here, not show "No data".
    scraped = {name for text in exported.values() for name in exposition_names(text)}
    recorded = {
        rule["record"]
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    missing = {
        f"{title}: {name}"
        for _, title, expr in queries
        for name in metric_names(expr)
        if name != "up" and name not in scraped and name not in recorded
    }
    assert not missing, sorted(missing)

    # What the processes really serve passes promtool's lint (counters end in _total, no
    # missing help, units in base form...), not just what a unit test builds.
    for process, text in exported.items():
        linted = promtool(prometheus_tools, "check", "metrics", stdin=text)
        assert linted.returncode == 0, (process, linted.stdout + linted.stderr)

    # The live exposition keeps to the bounded label names too.
    for process, text in exported.items():
        for name, labels in exposition_labels(text):
            if name.startswith("modstream_"):
                assert set(labels) <= BOUNDED_LABELS, (process, name, labels)


def exposition_names(text: str) -> set[str]:
    return {
        match.group(0)
        for line in text.splitlines()
        if line and not line.startswith("#")
        if (match := re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line))
    }


def exposition_labels(text: str) -> Iterator[tuple[str, list[str]]]:
    for line in text.splitlines():
        match = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\}", line)
        if match:
            yield match.group(1), re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="', match.group(2))


async def check_monitoring_hours_against_zoneinfo(prom: str) -> None:
    """The recording rules' London hours, evaluated by Prometheus hour by hour over two years,
    against Python's tz database (which knows every BST change)."""
    rules = {
        rule["record"]: " ".join(rule["expr"].split())
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    bst = rules["modstream:europe_london_bst"]
    # Historical instants cannot read the recorded series, so inline it.
    hours = rules["modstream:monitoring_hours"].replace("modstream:europe_london_bst", f"({bst})")
    for year in (2026, 2027):
        start = datetime(year, 1, 1, tzinfo=UTC)
        end = datetime(year + 1, 1, 1, tzinfo=UTC) - timedelta(hours=1)
        for expr, expected in ((bst, _is_bst), (hours, _in_monitoring_hours)):
            data = await asyncio.to_thread(
                prom_api,
                prom,
                "query_range",
                query=expr,
                start=str(start.timestamp()),
                end=str(end.timestamp()),
                step="3600",
            )
            [series] = data["result"]
            wrong = [
                datetime.fromtimestamp(at, UTC).isoformat()
                for at, value in series["values"]
                if float(value) != expected(datetime.fromtimestamp(at, UTC))
            ]
            assert len(series["values"]) >= 8759
            assert not wrong, f"{expr[:40]}... disagrees with zoneinfo at {wrong[:5]}"


def _is_bst(at: datetime) -> float:
    offset = at.astimezone(LONDON).utcoffset()
    return 1.0 if offset and offset.total_seconds() else 0.0


def _in_monitoring_hours(at: datetime) -> float:
    local = at.astimezone(LONDON)
    return 1.0 if local.weekday() < 5 and 9 <= local.hour < 17 else 0.0
