"""Builds the Grafana dashboards (JSON beside this file) from the panel lists below.

    python dashboards/build.py          # rewrite the JSON files
    python dashboards/build.py --check  # exit 1 if a JSON file differs from what this builds

The JSON is committed so reviewers and Grafana's file provisioning see the result; this script is
the one place panels are edited. Every query here is evaluated against a real Prometheus scraping
a running pipeline in tests/integration/test_observability.py: a panel that names a metric the
code does not export fails that test.

Every dashboard imports anywhere: a ``datasource`` variable picks the Prometheus (the
provisioned ``modstream-prometheus`` when there is one, else Grafana's default, e.g.
kube-prometheus-stack's ``prometheus``), and ``namespace`` and ``instance`` variables filter every
raw series; recording rules (``modstream:*``) are cluster-wide and left unfiltered. Queries use
Grafana's ``$__rate_interval``, ``$namespace`` and ``$instance`` (the test substitutes values).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run as a script from anywhere: the registry names stages
from streams.registry import STAGE_NAMES  # noqa: E402

PROVISIONED_UID = "modstream-prometheus"  # provisioning/datasources.yaml, deploy/k8s
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RI = "$__rate_interval"
# Added to every raw series selector. A Prometheus outside Kubernetes has no namespace label:
# the "All" value .* matches the empty label too.
FILTER = 'namespace=~"$namespace", instance=~"$instance"'
# A metric name not preceded by a name character, a colon or a quote (label values), and
# its own label matchers if it has any.
_SELECTOR = re.compile(r'(?<![\w:"])(modstream_\w+|process_\w+|up)(?![\w:])(?:\{([^}]*)\})?')
WIDTH = 24


@dataclass(frozen=True)
class Q:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Q, ...]
    unit: str = "short"
    kind: str = "timeseries"  # timeseries | stat | bargauge | table
    description: str = ""
    width: int = 12
    height: int = 8
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    title: str
    panels: tuple[Panel, ...]


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    description: str
    rows: tuple[Row, ...]
    tags: tuple[str, ...] = ("modstream",)
    time_from: str = "now-6h"


def q(expr: str, legend: str = "") -> Q:
    # Queries are written over several lines here; Grafana shows them on one.
    one_line = " ".join(expr.split())
    for spaced, tight in (("( ", "("), (" )", ")"), ("{ ", "{"), (" }", "}")):
        one_line = one_line.replace(spaced, tight)
    return Q(filtered(one_line), legend)


def filtered(expr: str) -> str:
    """``expr`` with the namespace and instance filters on every raw series selector."""

    def add(match: re.Match[str]) -> str:
        name, matchers = match.group(1), match.group(2)
        return f"{name}{{{matchers}, {FILTER}}}" if matchers else f"{name}{{{FILTER}}}"

    return _SELECTOR.sub(add, expr)


def _query_variable(name: str, label: str, query: str) -> dict[str, Any]:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": query, "refId": f"{name}-values"},
        "definition": query,
        "refresh": 2,  # on time-range change: pods come and go
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
        "hide": 0,
    }


TEMPLATING = [
    {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "regex": "",
        "refresh": 1,
        # The provisioned one when it exists; Grafana falls back to its default otherwise.
        "current": {"selected": True, "text": PROVISIONED_UID, "value": PROVISIONED_UID},
        "hide": 0,
    },
    _query_variable("namespace", "Namespace", 'label_values(up{job=~"modstream-.*"}, namespace)'),
    _query_variable(
        "instance",
        "Instance",
        'label_values(up{job=~"modstream-.*", namespace=~"$namespace"}, instance)',
    ),
]


def quantiles(metric: str, by: str, legend: str) -> tuple[Q, ...]:
    grouping = f"{by}, le" if by else "le"
    return tuple(
        q(
            f"histogram_quantile({p}, sum by ({grouping}) (rate({metric}_bucket[{RI}])))",
            f"p{int(p * 100)} {legend}".strip(),
        )
        for p in (0.5, 0.95, 0.99)
    )


# --- the dashboards ------------------------------------------------------------------------

STAGES = ", ".join((*STAGE_NAMES, "executor"))

SRE = Dashboard(
    uid="modstream-sre",
    title="modstream / SRE overview",
    description=(
        "Rate, errors and duration per stage; consumer lag; dead letters by reason; the end-to-end "
        "latency SLO (99% of comments decided within 60 s)."
    ),
    rows=(
        Row(
            "Rate",
            (
                Panel(
                    "Messages in per stage",
                    (q(f"sum by (stage) (rate(modstream_events_in_total[{RI}]))", "{{stage}}"),),
                    unit="ops",
                    description=f"Messages each stage consumed per second ({STAGES}).",
                ),
                Panel(
                    "Messages out per stage and outcome",
                    (
                        q(
                            f"sum by (stage, outcome) (rate(modstream_events_out_total[{RI}]))",
                            "{{stage}} {{outcome}}",
                        ),
                    ),
                    unit="ops",
                ),
            ),
        ),
        Row(
            "Errors",
            (
                Panel(
                    "Dead-lettered share of input per stage",
                    (
                        q(
                            f"""sum by (stage) (rate(modstream_dead_letters_total[{RI}]))
                            / sum by (stage) (rate(modstream_events_in_total[{RI}]))""",
                            "{{stage}}",
                        ),
                    ),
                    unit="percentunit",
                    description="Alert ModstreamDeadLetterRateHigh fires above 2% for 10 minutes.",
                ),
                Panel(
                    "Dead letters by stage and reason",
                    (
                        q(
                            f"sum by (stage, reason) (rate(modstream_dead_letters_total[{RI}]))",
                            "{{stage}} {{reason}}",
                        ),
                    ),
                    unit="ops",
                ),
                Panel(
                    "Dead letters by reason, last 24 hours",
                    (
                        q(
                            """sort_desc(sum by (stage, reason)
                            (increase(modstream_dead_letters_total[24h])))""",
                            "{{stage}} {{reason}}",
                        ),
                    ),
                    kind="bargauge",
                ),
                Panel(
                    "Failed observability checks",
                    (
                        q(
                            f"sum by (check) (rate(modstream_monitor_errors_total[{RI}]))",
                            "{{check}}",
                        ),
                    ),
                    unit="ops",
                    description=(
                        "Consumer lag, backlog or Faust figures could not be read: the panels "
                        "that show them may be stale."
                    ),
                ),
            ),
        ),
        Row(
            "Duration",
            (
                Panel(
                    "Processing latency per stage",
                    quantiles("modstream_processing_seconds", "stage", "{{stage}}"),
                    unit="s",
                ),
                Panel(
                    "End-to-end latency (comment event time to decision)",
                    quantiles("modstream_end_to_end_seconds", "", ""),
                    unit="s",
                    description="Includes the platform's own delivery delay.",
                ),
                Panel(
                    "SLO: share of decisions slower than 60 s",
                    (
                        q("modstream:e2e_slow_ratio:rate5m", "5m"),
                        q("modstream:e2e_slow_ratio:rate1h", "1h"),
                        q("modstream:e2e_slow_ratio:rate6h", "6h"),
                    ),
                    unit="percentunit",
                    description=(
                        "Error budget 1%. Fast burn pages above 14.4% (1h and 5m); slow burn "
                        "tickets above 6% (6h and 30m)."
                    ),
                ),
                Panel(
                    "Redis latency (executor)",
                    quantiles("modstream_redis_seconds", "op", "{{op}}"),
                    unit="s",
                ),
            ),
        ),
        Row(
            "Kafka and Faust",
            (
                Panel(
                    "Consumer lag by group and topic",
                    (
                        q(
                            "sum by (group, topic) (modstream_consumer_lag_records)",
                            "{{group}} {{topic}}",
                        ),
                    ),
                    description="Reported by the leader worker; alert at 1000 and growing.",
                ),
                Panel(
                    "Faust latencies (median of recent samples)",
                    (q("max by (op) (modstream_faust_latency_seconds)", "{{op}}"),),
                    unit="s",
                ),
                Panel(
                    "Targets up",
                    (q('up{job=~"modstream-.*"}', "{{job}} {{instance}}"),),
                    kind="stat",
                    width=6,
                ),
                Panel(
                    "Executor paused (Redis unreachable)",
                    (q("max by (instance) (modstream_executor_paused)", "{{instance}}"),),
                    kind="stat",
                    width=6,
                    description="1 while the executor takes no actions because Redis is down.",
                ),
                Panel(
                    "Policy version in use",
                    (
                        q(
                            "count by (name, version) (modstream_policy_info)",
                            "{{name}} {{version}}",
                        ),
                    ),
                    kind="table",
                    width=6,
                ),
            ),
        ),
    ),
)

MODERATION = Dashboard(
    uid="modstream-moderation",
    title="modstream / Moderation (comms team)",
    description=(
        "What the policy found and what was done about it. Monitoring hours are Mon-Fri "
        "09:00-17:00 Europe/London; outside them the actions a person answers for wait (the "
        "backlog)."
    ),
    time_from="now-24h",
    rows=(
        Row(
            "Now",
            (
                Panel(
                    "Monitoring hours",
                    (q("modstream:monitoring_hours", "in hours"),),
                    kind="stat",
                    width=6,
                    height=5,
                    options={
                        "mappings": [
                            {
                                "type": "value",
                                "options": {
                                    "0": {"text": "Out of hours"},
                                    "1": {"text": "In hours"},
                                },
                            }
                        ]
                    },
                    description="Bank holidays are not known here and show as in hours.",
                ),
                Panel(
                    "Out-of-hours backlog",
                    (q("sum(modstream_executor_held_actions)", "actions held"),),
                    kind="stat",
                    width=6,
                    height=5,
                    description=(
                        "Actions decided but held by the executor until monitoring hours start "
                        "(replies, notices, referrals, reviews)."
                    ),
                ),
                Panel(
                    "Human review: items queued, last 24 hours",
                    (
                        q(
                            """sum(increase(modstream_actions_total{kind="queue_human_review",
                            outcome="emitted"}[24h]))""",
                            "queued",
                        ),
                    ),
                    kind="stat",
                    width=6,
                    height=5,
                    description=(
                        "Items put in the review queue. Whether a person has closed them is known "
                        "to the review tool, not to the pipeline."
                    ),
                ),
                Panel(
                    "Posts removed or hidden and accounts blocked, last 24 hours",
                    (
                        q(
                            """sum(increase(modstream_actions_total{
                            kind=~"delete_post|hide_post|block_account", outcome="done"}[24h]))""",
                            "done",
                        ),
                    ),
                    kind="stat",
                    width=6,
                    height=5,
                ),
            ),
        ),
        Row(
            "Findings",
            (
                Panel(
                    "Findings by policy clause (per hour)",
                    (
                        q(
                            f"sum by (clause) (rate(modstream_verdicts_total[{RI}])) * 3600",
                            "{{clause}}",
                        ),
                    ),
                    width=16,
                ),
                Panel(
                    "Findings by clause, last 24 hours",
                    (
                        q(
                            "sort_desc(sum by (clause) (increase(modstream_verdicts_total[24h])))",
                            "{{clause}}",
                        ),
                    ),
                    kind="bargauge",
                    width=8,
                ),
            ),
        ),
        Row(
            "Actions",
            (
                Panel(
                    "Actions by kind and outcome (per hour)",
                    (
                        q(
                            f"""sum by (kind, outcome) (rate(modstream_actions_total[{RI}]))
                            * 3600""",
                            "{{kind}} {{outcome}}",
                        ),
                    ),
                    width=16,
                    description=(
                        "emitted: decided by the enforce stage; done, failed, "
                        "post_already_deleted, duplicate: what the executor did."
                    ),
                ),
                Panel(
                    "Actions by kind and outcome, last 24 hours",
                    (
                        q(
                            "sum by (kind, outcome) (increase(modstream_actions_total[24h]))",
                            "{{kind}} {{outcome}}",
                        ),
                    ),
                    kind="table",
                    width=8,
                ),
                Panel(
                    "Out-of-hours backlog over time",
                    (q("sum(modstream_executor_held_actions)", "actions held"),),
                    width=12,
                    description="Grows overnight and at weekends, drains when monitoring starts.",
                ),
                Panel(
                    "Decisions by outcome (per hour)",
                    (
                        q(
                            f"""sum by (outcome) (rate(modstream_events_out_total{{stage="enforce",
                            outcome=~"no_action|actions|deferred"}}[{RI}])) * 3600""",
                            "{{outcome}}",
                        ),
                    ),
                    width=12,
                    description="deferred: every action of the decision waits for monitoring hours",
                ),
            ),
        ),
    ),
)

CAPACITY = Dashboard(
    uid="modstream-capacity",
    title="modstream / Capacity",
    description=(
        "One worker per core; partitions set the ceiling on workers. Scale on consumer lag "
        "(SRE overview) when every worker is busy."
    ),
    time_from="now-24h",
    rows=(
        Row(
            "Workers and partitions",
            (
                Panel(
                    "Workers up",
                    (q('count(up{job="modstream-worker"} == 1)', "workers"),),
                    kind="stat",
                    width=6,
                    height=5,
                ),
                Panel(
                    "Executors up",
                    (q('count(up{job="modstream-executor"} == 1)', "executors"),),
                    kind="stat",
                    width=6,
                    height=5,
                ),
                Panel(
                    "Partitions held (active)",
                    (q('sum(modstream_worker_partitions{role="active"})', "active"),),
                    kind="stat",
                    width=6,
                    height=5,
                ),
                Panel(
                    "Tables recovering",
                    (q("sum(modstream_tables_recovering)", "workers recovering"),),
                    kind="stat",
                    width=6,
                    height=5,
                ),
                Panel(
                    "Partitions per worker",
                    (
                        q(
                            "sum by (instance, role) (modstream_worker_partitions)",
                            "{{instance}} {{role}}",
                        ),
                    ),
                ),
                Panel(
                    "Partitions per topic (the ceiling on workers)",
                    (
                        q(
                            'count by (topic) (modstream_consumer_lag_records{group="worker"})',
                            "{{topic}}",
                        ),
                    ),
                    kind="bargauge",
                ),
            ),
        ),
        Row(
            "State",
            (
                Panel(
                    "Table sizes (keys)",
                    (q("sum by (table) (modstream_table_keys)", "{{table}}"),),
                ),
                Panel(
                    "Rebalances and buffer-full events per worker (per hour)",
                    (
                        q(
                            "sum by (instance) (increase(modstream_faust_rebalances_total[1h]))",
                            "rebalances {{instance}}",
                        ),
                        q(
                            "sum by (instance) (increase(modstream_faust_buffer_full_total[1h]))",
                            "buffer full {{instance}}",
                        ),
                    ),
                ),
            ),
        ),
        Row(
            "Processes",
            (
                Panel(
                    "Resident memory",
                    (
                        q(
                            'process_resident_memory_bytes{job=~"modstream-.*"}',
                            "{{job}} {{instance}}",
                        ),
                    ),
                    unit="bytes",
                    width=8,
                ),
                Panel(
                    "CPU (cores)",
                    (
                        q(
                            f'rate(process_cpu_seconds_total{{job=~"modstream-.*"}}[{RI}])',
                            "{{job}} {{instance}}",
                        ),
                    ),
                    unit="short",
                    width=8,
                    description="A worker near 1 core is saturated: Faust runs one event loop.",
                ),
                Panel(
                    "Open file descriptors",
                    (q('process_open_fds{job=~"modstream-.*"}', "{{job}} {{instance}}"),),
                    width=8,
                ),
                Panel(
                    "Throughput against CPU",
                    (
                        q(
                            f"""sum(rate(modstream_events_in_total{{stage="normalise"}}[{RI}]))
                            / sum(rate(
                                process_cpu_seconds_total{{job="modstream-worker"}}[{RI}]
                            ))""",
                            "comments per CPU second",
                        ),
                    ),
                    unit="short",
                    width=12,
                    description="How many comments one core handles: divide the peak rate by it.",
                ),
                Panel(
                    "Messages in (all stages)",
                    (q(f"sum(rate(modstream_events_in_total[{RI}]))", "all stages"),),
                    unit="ops",
                    width=12,
                ),
            ),
        ),
    ),
)

DASHBOARDS = {"sre-overview": SRE, "moderation": MODERATION, "capacity": CAPACITY}


# --- rendering -----------------------------------------------------------------------------


def render(d: Dashboard) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    next_id = 1
    y = 0
    for row in d.rows:
        panels.append(
            {
                "id": next_id,
                "type": "row",
                "title": row.title,
                "collapsed": False,
                "gridPos": {"h": 1, "w": WIDTH, "x": 0, "y": y},
                "panels": [],
            }
        )
        next_id += 1
        y += 1
        x = 0
        row_height = 0
        for p in row.panels:
            if x + p.width > WIDTH:
                x, y, row_height = 0, y + row_height, 0
            panels.append(render_panel(p, next_id, x, y))
            next_id += 1
            x += p.width
            row_height = max(row_height, p.height)
        y += row_height
    return {
        "uid": d.uid,
        "title": d.title,
        "description": d.description,
        "tags": list(d.tags),
        "timezone": "Europe/London",
        "editable": False,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": d.time_from, "to": "now"},
        "templating": {"list": TEMPLATING},
        "annotations": {"list": []},
        "links": [
            {"type": "dashboards", "tags": ["modstream"], "title": "modstream", "asDropdown": True}
        ],
        "panels": panels,
    }


def render_panel(p: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": p.unit}
    if "mappings" in p.options:
        defaults["mappings"] = p.options["mappings"]
    options: dict[str, Any] = {}
    if p.kind == "timeseries":
        options = {"legend": {"displayMode": "list", "placement": "bottom"}}
    elif p.kind == "stat":
        options = {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "value"}
    elif p.kind == "bargauge":
        options = {"reduceOptions": {"calcs": ["lastNotNull"]}, "orientation": "horizontal"}
    panel: dict[str, Any] = {
        "id": panel_id,
        "type": p.kind,
        "title": p.title,
        "datasource": DATASOURCE,
        "gridPos": {"h": p.height, "w": p.width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": DATASOURCE,
                "expr": query.expr,
                "legendFormat": query.legend,
                "instant": p.kind in {"table", "bargauge"},
                "range": p.kind not in {"table", "bargauge"},
            }
            for i, query in enumerate(p.queries)
        ],
    }
    if p.description:
        panel["description"] = p.description
    if p.kind == "table":
        panel["transformations"] = [{"id": "labelsToFields", "options": {}}]
    return panel


def dump(d: Dashboard) -> str:
    return json.dumps(render(d), indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for name, dashboard in DASHBOARDS.items():
        path = HERE / f"{name}.json"
        text = dump(dashboard)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
    if stale:
        sys.stderr.write(f"out of date, run python dashboards/build.py: {', '.join(stale)}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
