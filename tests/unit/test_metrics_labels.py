"""Metric labels stay bounded: traffic from ten times more authors adds no series.

Each test drives the metrics bundle the way a running process does (run_step(), Counting around
every input, the lag monitor's figures) with every author distinct, then checks that the
number of exported series does not grow with the number of authors and that no label value
carries an author key, comment id or text.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiokafka import TopicPartition

from streams import topics as specs
from streams.composition import Outputs
from streams.registry import INPUTS, STAGE_NAMES, Input
from workers.metrics import Metrics
from workers.processes import lag_monitor
from workers.processes.lag_monitor import LagMonitor, logical_topic, namespace_prefix
from workers.processes.pipeline import Counting, run_step

STAGES = STAGE_NAMES
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


# --- the stage boundary: what every stage records per message -------------------------------


def _as_is(value: bytes) -> bytes:
    return value


def _undecodable(value: bytes) -> Any:
    raise ValueError("not a record")


def _step(composition: Any, value: bytes, key: bytes | None, source: str) -> Outputs:
    i = int(source.rsplit("@", 1)[1])  # the test numbers authors by offset
    if i % 97 == 5:
        raise RuntimeError(value.decode())  # text in the exception must not leak
    return Outputs(outcomes=[(stage, OUTCOMES[i % len(OUTCOMES)]) for stage in STAGES])


def _drive_stages(metrics: Metrics, start: int, stop: int) -> None:
    counting = Counting(metrics)
    for i in range(start, stop):
        key = author(i).encode()
        text = f'{{"comment": "comment-{i} says something new #{i}"}}'.encode()
        for item in INPUTS:
            decode = _undecodable if i % 10 == 3 else _as_is
            probe = Input(item.topic, item.stage, item.agent, decode, _step)
            out = run_step(None, probe, text, key, f"{item.topic.name}[{i % 4}]@{i}")  # type: ignore[arg-type]
            counting.count(out)
            metrics.processing_seconds.labels(item.stage).observe(0.001)
        metrics.end_to_end_seconds.observe((i % 600) / 10)


def test_counting_keeps_one_child_per_metric_and_labels() -> None:
    metrics = Metrics.create()
    counting = Counting(metrics)
    out = Outputs(outcomes=[("enforce", "actions"), ("enforce", "actions")], late=["enforce"])
    counting.count(out)
    counting.count(out)
    assert metrics.registry.get_sample_value("modstream_events_in_total", {"stage": "enforce"}) == 4
    assert (
        metrics.registry.get_sample_value("modstream_late_events_total", {"stage": "enforce"}) == 2
    )
    assert counting.child(metrics.events_in, "enforce") is metrics.events_in.labels("enforce")
    assert counting.child(metrics.late_events, "enforce") is not counting.child(
        metrics.events_in, "enforce"
    )


async def test_stage_metrics_do_not_grow_with_authors() -> None:
    async def drive(metrics: Metrics, start: int, stop: int) -> None:
        _drive_stages(metrics, start, stop)

    await grows_with_authors(drive)


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
