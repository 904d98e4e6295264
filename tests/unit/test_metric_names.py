"""Metric names follow Prometheus conventions, and promtool agrees.

Running totals are counters (``_total``), not gauges: ``rate()`` and ``increase()`` then work
and a restart reads as a counter reset. A measured quantity names its unit.
"""

from __future__ import annotations

import shutil
import subprocess
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client import generate_latest

from workers.metrics import Metrics
from workers.processes.lag_monitor import LagMonitor


def families(metrics: Metrics) -> dict[str, str]:
    return {family.name: family.type for family in metrics.registry.collect()}


def test_running_totals_are_counters_and_lag_names_its_unit() -> None:
    found = families(Metrics.create())
    assert found["modstream_faust_rebalances"] == "counter"
    assert found["modstream_faust_buffer_full"] == "counter"
    assert found["modstream_consumer_lag_records"] == "gauge"
    assert "modstream_consumer_lag" not in found


def test_every_counter_is_exported_with_total_and_durations_in_seconds() -> None:
    metrics = Metrics.create()
    text = generate_latest(metrics.registry).decode()
    for name, kind in families(metrics).items():
        if not name.startswith("modstream_"):
            continue
        if kind == "counter":
            assert f"# TYPE {name}_total counter" in text, name
        else:
            assert not name.endswith("_total"), name
        if "latency" in name or "duration" in name or name.endswith("_time"):
            assert name.endswith("_seconds"), name


@pytest.mark.skipif(not shutil.which("promtool"), reason="deploy/prometheus/install.sh")
def test_promtool_finds_nothing_to_fix_in_the_exposition() -> None:
    metrics = Metrics.create()
    # Every labelled family with a series, so promtool sees each as it is scraped.
    metrics.consumer_lag.labels("worker", "comments.raw", "0").set(3)
    metrics.retries.labels("ledger").inc()
    metrics.faust_rebalances.inc()
    done = subprocess.run(
        ["promtool", "check", "metrics"],
        input=generate_latest(metrics.registry),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


class _Monitor(SimpleNamespace):
    events_active = 0
    commit_latency: list[float] = []  # noqa: RUF012 - read-only stand-in
    send_latency: list[float] = []  # noqa: RUF012
    events_runtime: list[float] = []  # noqa: RUF012
    rebalance_end_latency: list[float] = []  # noqa: RUF012


def _app(monitor: _Monitor) -> Any:
    assignor = SimpleNamespace(assigned_actives=set, assigned_standbys=set)
    completed = SimpleNamespace(is_set=lambda: True)
    tables = SimpleNamespace(recovery=SimpleNamespace(completed=completed))
    conf = SimpleNamespace(id="run7.modstream", broker=())
    return SimpleNamespace(assignor=assignor, tables=tables, monitor=monitor, conf=conf)


def test_faust_running_totals_become_counter_increments() -> None:
    metrics = Metrics.create()
    monitor = _Monitor(rebalances=0, topic_buffer_full={})
    lag = LagMonitor(_app(monitor), metrics)

    def value(name: str) -> float | None:
        return metrics.registry.get_sample_value(f"{name}_total")

    for rebalances, full in ((2, {"a": 1}), (2, {"a": 1}), (5, {"a": 1, "b": 3})):
        monitor.rebalances, monitor.topic_buffer_full = rebalances, full
        lag._faust_figures()
    assert value("modstream_faust_rebalances") == 5
    assert value("modstream_faust_buffer_full") == 4
    # A total that goes down (a new Faust monitor) never makes the counter go backwards.
    monitor.rebalances = 1
    lag._faust_figures()
    monitor.rebalances = 3
    lag._faust_figures()
    assert value("modstream_faust_rebalances") == 7
