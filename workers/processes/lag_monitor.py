"""Figures /metrics reports that no stage owns: consumer lag and Faust's own sensor figures.

Lag is measured from the broker (the group's committed offsets against each partition's end
offset), not from Faust's monitor: Faust only learns a partition's end offset when it fetches a
record from it, so a consumer that has stopped fetching would look caught up.

Lag describes the whole cluster, so only the leader worker reports it and the others clear
theirs: a sum over workers then counts every partition once. Faust's figures
(partitions held, latencies, rebalances) describe one worker and every worker reports its own.

Every label comes from a fixed set: the logical topic names of ``streams.topics``, partition
numbers (bounded by the partition count), group roles.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import statistics
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import Counter

from streams import topics as specs
from workers.kafka_clients import app_client_options
from workers.metrics import Metrics

log = logging.getLogger(__name__)

KNOWN_TOPICS = frozenset(spec.name for spec in specs.ALL)
# The executor's consumer group is the worker group's id with this suffix
# (workers.executor.executor).
EXECUTOR_GROUP_SUFFIX = ".executor"
CHECKS = ("faust", "lag")


def namespace_prefix(topic_names: Iterable[str]) -> str | None:
    """The namespace prefix (``Settings.topic``) of the pipeline's topics, from any topic name
    that ends in a known logical name: ``"run1.comments.raw"`` -> ``"run1."``."""
    by_length = sorted(KNOWN_TOPICS, key=len, reverse=True)
    for name in topic_names:
        for logical in by_length:
            if name == logical:
                return ""
            if name.endswith("." + logical):
                return name[: -len(logical)]
    return None


def logical_topic(name: str, prefix: str) -> str | None:
    """The label for a full topic name, or None for a topic outside the pipeline's fixed set."""
    if not name.startswith(prefix):
        return None
    base = name[len(prefix) :]
    return base if base in KNOWN_TOPICS else None


def partition_lag(
    partitions: Iterable[TopicPartition],
    committed: Mapping[TopicPartition, int],
    beginning: Mapping[TopicPartition, int],
    end: Mapping[TopicPartition, int],
) -> dict[TopicPartition, int]:
    """Records not yet committed by the group, per partition. A partition the group never
    committed owes everything still retained on it."""
    lag = {}
    for tp in partitions:
        if tp not in end:
            continue
        done = committed.get(tp, -1)
        start = done if done >= 0 else beginning.get(tp, 0)
        lag[tp] = max(0, end[tp] - start)
    return lag


def _median_or_nan(samples: Iterable[float]) -> float:
    values = list(samples)
    return statistics.median(values) if values else math.nan


class LagMonitor:
    def __init__(self, app: faust.App, metrics: Metrics) -> None:
        self._app = app
        self._metrics = metrics
        self._group = str(app.conf.id)
        self._bootstrap = ",".join(f"{u.host}:{u.port or 9092}" for u in app.conf.broker)
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets: AIOKafkaConsumer | None = None
        self._faust_totals: dict[str, int] = {}  # last running totals read from Faust
        for check in CHECKS:
            # Exported as 0 from the start, so a rate() over them works before the first error.
            metrics.monitor_errors.labels(check)

    # -- the periodic refresh ---------------------------------------------------------------

    async def refresh(self) -> None:
        self._checked("faust", self._faust_figures)
        if not self._app.is_leader():
            await self._step_down()
            return
        topics = self._consumed_topics()
        prefix = namespace_prefix(topics)
        if prefix is None:
            return  # no agent subscribed yet
        await self._checked_async("lag", self._measure_lag(prefix, topics))

    async def stop(self) -> None:
        await self._step_down()
        admin, offsets = self._admin, self._offsets
        self._admin = self._offsets = None
        with contextlib.suppress(Exception):
            if admin is not None:
                await admin.close()
        with contextlib.suppress(Exception):
            if offsets is not None:
                await offsets.stop()

    def _checked(self, check: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # a monitoring failure must never stop the worker
            self._metrics.monitor_errors.labels(check).inc()
            log.warning("observability check %s failed", check, exc_info=True)

    async def _checked_async(self, check: str, work: Awaitable[None]) -> None:
        try:
            await asyncio.wait_for(work, timeout=30)
        except Exception:  # a monitoring failure must never stop the worker
            self._metrics.monitor_errors.labels(check).inc()
            log.warning("observability check %s failed", check, exc_info=True)

    # -- Faust's own figures, per worker ----------------------------------------------------

    def _faust_figures(self) -> None:
        app, m = self._app, self._metrics
        assignor = app.assignor
        m.worker_partitions.labels("active").set(len(assignor.assigned_actives()))
        m.worker_partitions.labels("standby").set(len(assignor.assigned_standbys()))
        tables: Any = app.tables  # the recovery attribute is missing from Faust's type stubs
        recovering = not tables.recovery.completed.is_set()
        m.tables_recovering.set(1 if recovering else 0)
        monitor = app.monitor
        m.faust_events_active.set(monitor.events_active)
        self._advance(m.faust_rebalances, "rebalances", monitor.rebalances)
        self._advance(m.faust_buffer_full, "buffer_full", sum(monitor.topic_buffer_full.values()))
        latencies = {
            "commit": monitor.commit_latency,
            "send": monitor.send_latency,
            "event": monitor.events_runtime,
            "rebalance": monitor.rebalance_end_latency,
        }
        for op, samples in latencies.items():
            m.faust_latency_seconds.labels(op).set(_median_or_nan(samples))

    def _advance(self, counter: Counter, name: str, total: int) -> None:
        """Add to ``counter`` what Faust's running ``total`` grew by since the last look."""
        grown = total - self._faust_totals.get(name, 0)
        if grown > 0:
            counter.inc(grown)
        # Faust's monitor lives as long as the process, as the counter does: a total that went
        # down is a new monitor, counted from there.
        self._faust_totals[name] = total

    # -- consumer lag, leader only ----------------------------------------------------------

    def _consumed_topics(self) -> set[str]:
        names: set[str] = set()
        for agent in self._app.agents.values():
            names.update(getattr(agent.channel, "topics", ()) or ())
        return names

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None:
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self._bootstrap, **app_client_options(self._app)
            )
            try:
                await admin.start()
            except BaseException:
                # A half-started client keeps its sockets; the next refresh builds a new one.
                with contextlib.suppress(Exception):
                    await admin.close()
                raise
            self._admin = admin
        if self._offsets is None:
            offsets = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=None,
                enable_auto_commit=False,
                **app_client_options(self._app),
            )
            try:
                await offsets.start()
            except BaseException:
                with contextlib.suppress(Exception):
                    await offsets.stop()
                raise
            self._offsets = offsets
        return self._admin, self._offsets

    async def _measure_lag(self, prefix: str, worker_topics: set[str]) -> None:
        admin, offsets = await self._clients()
        groups = {
            "worker": (self._group, sorted(worker_topics)),
            "executor": (self._group + EXECUTOR_GROUP_SUFFIX, [prefix + specs.ACTIONS.name]),
        }
        wanted = sorted(
            {n for _, names in groups.values() for n in names if logical_topic(n, prefix)}
        )
        # Asked of the broker each time (the consumer's own metadata only covers topics it
        # reads), so added partitions are seen; a topic not created yet has none.
        described = await admin.describe_topics(wanted)
        numbers = {
            t["topic"]: sorted(p["partition"] for p in t["partitions"])
            for t in described
            if t["error_code"] == 0
        }
        measured: dict[tuple[str, str, str], int] = {}
        for role, (group_id, topic_names) in groups.items():
            partitions = [
                TopicPartition(name, p) for name in topic_names for p in numbers.get(name, ())
            ]
            if not partitions:
                continue
            committed_meta = await admin.list_consumer_group_offsets(group_id)
            committed = {tp: meta.offset for tp, meta in committed_meta.items()}
            beginning = await offsets.beginning_offsets(partitions)
            end = await offsets.end_offsets(partitions)
            for tp, lag in partition_lag(partitions, committed, beginning, end).items():
                topic = logical_topic(tp.topic, prefix)
                if topic is not None:
                    measured[(role, topic, str(tp.partition))] = lag
        # Replace all series in one synchronous step, so a scrape never sees half a refresh and
        # a partition that went away does not linger.
        self._metrics.consumer_lag.clear()
        for labels, lag in measured.items():
            self._metrics.consumer_lag.labels(*labels).set(lag)

    async def _step_down(self) -> None:
        # Another worker leads now (or none yet): its figures are the cluster's, not ours.
        self._metrics.consumer_lag.clear()


def register(app: faust.App, metrics: Metrics, *, interval_s: float = 10.0) -> LagMonitor:
    monitor = LagMonitor(app, metrics)

    async def refresh_observability() -> None:
        await monitor.refresh()

    async def close(sender: Any, **kwargs: Any) -> None:
        await monitor.stop()

    app.timer(interval=interval_s, name="modstream-observability")(refresh_observability)
    shutdown: Any = app.on_before_shutdown  # Faust types its handlers too narrowly for async ones
    shutdown.connect(close)
    return monitor
