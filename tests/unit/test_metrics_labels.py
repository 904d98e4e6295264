"""Metric labels stay bounded: traffic from ten times more authors adds no series.

Each test drives the metrics bundle the way a running process does (guarded() around every
stage message, the lag monitor's figures) with every author distinct, then checks that the
number of exported series does not grow with the number of authors and that no label value
carries an author key, comment id or text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import TopicPartition

from schemas.deadletter import REASONS
from streams import topics as specs
from streams.runtime import BadRecord, guarded
from workers import lag_monitor
from workers.lag_monitor import LagMonitor, logical_topic, namespace_prefix
from workers.metrics import Metrics

STAGES = ("normalise", "classify", "rate_windows", "enforce")
OUTCOMES = ("no_action", "actions", "deferred", "fired", "nothing_due", "done", "clean")


def author(i: int) -> str:
    return f"author-{i:06d}-pseudonym"


def series(metrics: Metrics) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    return {
        (sample.name, tuple(sorted(sample.labels.items())))
        for family in metrics.registry.collect()
        for sample in family.samples
    }


def label_values(metrics: Metrics) -> set[str]:
    return {value for _, labels in series(metrics) for _, value in labels}


async def grows_with_authors(drive: Callable[[Metrics, int, int], Awaitable[None]]) -> None:
    """Drive 1,000 authors, then 9,000 more: the series set must not change."""
    metrics = Metrics.create()
    await drive(metrics, 0, 1_000)
    after_1k = series(metrics)
    await drive(metrics, 1_000, 10_000)
    after_10k = series(metrics)
    assert after_10k == after_1k, sorted(after_10k - after_1k)[:5]
    leaked = {v for v in label_values(metrics) if "author-" in v or "comment-" in v}
    assert not leaked, sorted(leaked)[:5]


# --- guarded(): what every stage records per message ---------------------------------------


@dataclass(frozen=True)
class _Message:
    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class _Event:
    key: bytes
    value: bytes
    message: _Message


class _Sink:
    async def send(self, *, key: Any = None, value: Any = None) -> None:
        return None


async def _handler(value: bytes, key: bytes | None, source: str) -> str:
    i = int(source.rsplit("@", 1)[1])  # the test numbers authors by offset
    if i % 10 == 3:
        raise BadRecord(REASONS[i % len(REASONS)], f"detail about {source}")
    if i % 97 == 5:
        raise RuntimeError(value.decode())  # text in the exception must not leak
    return OUTCOMES[i % len(OUTCOMES)]


async def _drive_stages(metrics: Metrics, start: int, stop: int) -> None:
    sink = _Sink()
    for i in range(start, stop):
        key = author(i).encode()
        text = f'{{"comment": "comment-{i} says something new #{i}"}}'.encode()
        for stage in STAGES:
            event = _Event(key, text, _Message(f"comments.{stage}", i % 4, i))
            await guarded(event, stage=stage, handler=_handler, deadletter=sink, metrics=metrics)
        metrics.end_to_end_seconds.observe((i % 600) / 10)


async def test_stage_metrics_do_not_grow_with_authors() -> None:
    await grows_with_authors(_drive_stages)


# --- the lag monitor: lag by topic and partition --------------------------


def test_topic_labels_come_from_the_fixed_topic_set() -> None:
    assert namespace_prefix(["run7.comments.raw", "run7.actions.results"]) == "run7."
    assert namespace_prefix(["comments.raw"]) == ""
    assert namespace_prefix(["something.else"]) is None
    assert logical_topic("run7.actions.results", "run7.") == "actions.results"
    assert logical_topic("run7.actions", "run7.") == "actions"
    # Faust's internal topics and anything else outside the pipeline get no label at all.
    assert logical_topic("run7.modstream-__assignor-__leader", "run7.") is None
    assert logical_topic("run7.modstream-enforcement-changelog", "run7.") is None
    assert logical_topic("other.comments.raw", "run7.") is None


def test_partition_lag_counts_uncommitted_records_and_never_goes_negative() -> None:
    a, b, c = (TopicPartition("t", p) for p in range(3))
    lag = lag_monitor.partition_lag(
        [a, b, c],
        committed={a: 40, c: 90},
        beginning={a: 0, b: 10, c: 0},
        end={a: 50, b: 25, c: 80},
    )
    assert lag == {a: 10, b: 15, c: 0}


class _App:
    """Just enough of a Faust app for LagMonitor's constructor."""

    class conf:
        id = "run7.modstream"
        broker: tuple[Any, ...] = ()


async def _drive_lag_monitor(metrics: Metrics, start: int, stop: int) -> None:
    LagMonitor(_App(), metrics)  # type: ignore[arg-type]
    # Lag is set per known topic and partition whatever the traffic; the figure grows, the
    # series do not.
    for p in range(4):
        for spec in specs.ALL:
            topic = logical_topic(f"run7.{spec.name}", "run7.")
            assert topic is not None
            metrics.consumer_lag.labels("worker", topic, str(p)).set(stop - start)


async def test_lag_monitor_metrics_do_not_grow_with_authors() -> None:
    await grows_with_authors(_drive_lag_monitor)


# Label names whose values come from small fixed sets. A new metric labelled by anything else
# (an author, a comment, a thread, a URL) fails here before it reaches a dashboard.
BOUNDED_LABELS = {
    "stage",
    "outcome",
    "reason",
    "clause",
    "kind",
    "table",
    "op",
    "group",
    "topic",
    "partition",
    "role",
    "check",
    "name",
    "version",
    "le",
}


def test_every_label_name_in_the_bundle_is_a_bounded_one() -> None:
    metrics = Metrics.create()
    for value in vars(metrics).values():
        labelnames = getattr(value, "_labelnames", None)
        if labelnames is not None:
            assert set(labelnames) <= BOUNDED_LABELS, (value, labelnames)


def test_process_figures_are_exported_for_capacity_dashboards() -> None:
    metrics = Metrics.create()
    names = {name for name, _ in series(metrics)}
    if "process_resident_memory_bytes" not in names:
        pytest.skip("no /proc on this platform")
    assert {"process_cpu_seconds_total", "process_open_fds"} <= names
