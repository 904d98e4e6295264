"""The live worker's wiring, from the registry: one agent per input topic, each calling the
composed steps (``streams.composition``) and sending what they return.

The main line is one agent on ``comments.raw`` (ingest → normalise → classify → rate windows →
enforce in one handler); the side branches (campaign bands, linking) and enforcement's other
inputs (notices, ticks, executor results, cluster memberships) get one agent each. All agents
share one ``Composition`` over Faust tables, so every table's changelog is partitioned by the
input partition that wrote it.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import Any, cast

import faust
from faust import streams as faust_streams

from schemas.action import Tick
from schemas.deadletter import DeadLetter
from streams import topics as specs
from streams.composition import Composition, Outputs, Record
from streams.normalise.pseudonymise import Pseudonymiser
from streams.registry import Input, inputs_of
from streams.runtime import guarded_batch, guarded_step, source_of, wall_ms
from streams.stage_configs import StageConfigs, build_stage_configs
from streams.state_store import ENFORCEMENT_TABLE, Stores
from workers.metrics import Metrics
from workers.processes.policy_watch import PolicyWatcher
from workers.processes.signal_history import override_history, signal_history, topic_history
from workers.processes.web import register_views
from workers.settings import Settings

log = logging.getLogger(__name__)

TICK_INTERVAL_S = 5.0
# A dead letter that cannot be sent holds its partition: retried with this backoff, for ever.
SEND_RETRY_FIRST_S = 0.5
SEND_RETRY_MAX_S = 30.0


class RecordSender:
    """Sends a step's records to their topics. A record that fails to send is retried until it
    goes: the input it answers is acknowledged only after every answer is out, so the input's
    partition waits (with a log line and ``modstream_send_failures_total``) rather than lose it.
    Dead letters are awaited until the broker has them; the rest ride the producer's batching."""

    def __init__(
        self,
        topics: Mapping[str, faust.TopicT],
        metrics: Metrics,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._topics = topics
        self._metrics = metrics
        self._sleep = sleep

    async def send_all(self, records: list[Record]) -> None:
        for record in records:
            await self.send(record)

    async def send(self, record: Record) -> None:
        topic = self._topics[record.topic.name]
        value = record.encode()
        delay = SEND_RETRY_FIRST_S
        while True:
            try:
                sent = await topic.send(key=record.key, value=value, partition=record.partition)
                if record.topic is specs.DEADLETTER:
                    await sent
                if isinstance(record.value, DeadLetter):
                    letter = record.value
                    # The detail never carries text or ids, so it is safe to log.
                    log.warning(
                        "dead-lettered %s from %s: %s (%s)",
                        letter.reason,
                        letter.source,
                        letter.detail,
                        letter.stage,
                    )
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure holds the partition
                self._metrics.send_failures.labels(record.topic.name).inc()
                log.error(
                    "could not send to %s (%s); holding the input, retrying in %.1fs",
                    record.topic.name,
                    type(exc).__name__,
                    delay,
                )
                await self._sleep(delay)
                delay = min(delay * 2, SEND_RETRY_MAX_S)


class Counting:
    """Counts a step's outcomes into the metrics. prometheus_client's ``labels()`` takes a lock
    and checks its label values on every call; label values come from small fixed sets, so each
    child is looked up once and kept (a main-line comment's eight counts: 24 → 11 µs)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._children: dict[tuple[object, tuple[str, ...]], Any] = {}

    def child(self, metric: Any, *labels: str) -> Any:
        key = (metric, labels)
        found = self._children.get(key)
        if found is None:
            found = self._children[key] = metric.labels(*labels)
        return found

    def count(self, out: Outputs) -> None:
        metrics, child = self._metrics, self.child
        for stage, outcome in out.outcomes:
            child(metrics.events_in, stage).inc()
            child(metrics.events_out, stage, outcome).inc()
        for stage in out.late:
            child(metrics.late_events, stage).inc()
        letter = out.dead_letter
        if letter is not None:
            child(metrics.dead_letters, letter.stage, letter.reason).inc()
        for record in out.records:
            if record.topic is specs.ACTIONS:
                child(metrics.actions, record.value.kind, "emitted").inc()
        if out.verdict is not None:
            for clause in out.verdict.clauses:
                child(metrics.verdicts, clause).inc()
        if out.comment is not None and out.outcomes[-1][0] == "enforce":
            lag_s = time.time() - out.comment.event_time_ms / 1000
            if lag_s >= 0:
                metrics.end_to_end_seconds.observe(lag_s)


def event_value(event: faust.EventT[Any]) -> bytes:
    return event.value if isinstance(event.value, bytes) else b""


def event_key(event: faust.EventT[Any]) -> bytes | None:
    return event.key if isinstance(event.key, bytes) else None


def by_partition(events: Sequence[faust.EventT[Any]]) -> list[list[faust.EventT[Any]]]:
    """A batch's events per partition, each in the order consumed (offset order)."""
    groups: dict[tuple[str, int], list[faust.EventT[Any]]] = {}
    for event in events:
        groups.setdefault((event.message.topic, event.message.partition), []).append(event)
    return list(groups.values())


@contextmanager
def current_event(event: faust.EventT[Any]) -> Iterator[None]:
    """Faust sends a table write's changelog record to the partition of the stream's current
    event, which it keeps in a context variable set while it iterates a stream. A batch's
    body runs outside that iteration, so it names the event whose partition the writes belong
    to. Only the variable is set, never the stream's own ``current_event`` attribute, which
    the take buffer reads; and nothing awaits inside, so no other task sees the value."""
    token = faust_streams._current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        faust_streams._current_event.reset(token)


def run_step(
    composition: Composition, item: Input, value: bytes, key: bytes | None, source: str
) -> Outputs:
    """Decode and run one input's step; anything it raises becomes this input's dead letter."""
    return guarded_step(composition, item, value, key, source, failed_at_ms=wall_ms())


def wire_stages(
    app: faust.App, settings: Settings, topics: Mapping[str, faust.TopicT], metrics: Metrics
) -> PolicyWatcher[StageConfigs]:
    watcher: PolicyWatcher[StageConfigs] = PolicyWatcher(
        settings.policy_path,
        partial(build_stage_configs, registry_path=settings.registry_path),
        metrics,
    )

    def table(name: str) -> Any:
        return app.Table(name, partitions=settings.partitions, key_type=bytes, value_type=bytes)

    def global_table(name: str) -> Any:
        # Every worker needs every account's cluster (a block on one member reaches members
        # on other partitions): a global table, small, only linked accounts.
        return app.GlobalTable(
            name, partitions=settings.partitions, key_type=bytes, value_type=bytes
        )

    inputs = inputs_of(settings.worker_role)
    if settings.worker_role == "side":
        # The side role keeps no author-keyed table: its indexes are in memory (rebuilt from
        # comments.side) and the graph is rebuilt from identity.signals. Faust tables here
        # would only be changelogs to recover for nothing.
        stores = Stores.in_memory()
    else:
        stores = Stores.create(table, global_table)
    composition = Composition(
        stores,
        lambda: watcher.current.built,
        pseudonymiser=Pseudonymiser(settings.pseudonym_key),
        max_bytes=settings.max_payload_bytes,
        wall_clock=wall_ms,
        emit_assessed=settings.emit_assessed,
    )
    sender = RecordSender(topics, metrics)
    counting = Counting(metrics)
    history = partial(signal_history, settings)
    overrides = partial(override_history, settings)
    graph_inputs = (specs.IDENTITY_SIGNALS, specs.IDENTITY_OVERRIDES)
    # Two agents feed the graph: one rebuild, or a signal folded by the first could be lost
    # to a second rebuild that read the log before it.
    graph_rebuild = asyncio.Lock()
    # The side branches' in-memory indexes are rebuilt from their topic before the next record
    # (at start, and after every rebalance: whoever holds the one partition now rebuilds).
    stale: set[specs.TopicSpec] = {specs.SIDE}

    async def rebuild(topic: specs.TopicSpec) -> None:
        started = time.perf_counter()
        records = composition.rebuild_side_branches(await topic_history(settings, topic))
        stale.discard(topic)
        log.info(
            "rebuilt the side branches' indexes from %d records of %s in %.1fs",
            records,
            topic.name,
            time.perf_counter() - started,
        )

    async def send_outputs(outputs: list[Outputs]) -> None:
        for out in outputs:
            await sender.send_all(out.records)
            counting.count(out)

    async def run_batches(item: Input, stream: faust.StreamT[bytes]) -> None:
        """The main line: ``comments.raw`` in batches (``take_events`` acknowledges a batch's
        events only once this body has sent every record they led to). A batch is split by
        partition, each part run in offset order with its authors' table writes coalesced
        (``guarded_batch``) while Faust's current event is one of that partition's, so the
        changelog records land on it. A crash mid-batch leaves its inputs unacknowledged:
        they come again, and the redelivery memos answer them as the first time."""
        # take_events is missing from faust's StreamT stub.
        take_events = cast(Any, stream).take_events
        batches = take_events(max(1, settings.raw_batch_max), settings.raw_batch_linger_ms / 1000)
        async for events in batches:
            started = time.perf_counter()
            outputs: list[Outputs] = []
            for partition_events in by_partition(events):
                inputs = [(event_value(e), event_key(e), source_of(e)) for e in partition_events]
                with current_event(partition_events[-1]):
                    outputs += guarded_batch(composition, item, inputs, failed_at_ms=wall_ms())
            sending = asyncio.ensure_future(send_outputs(outputs))
            try:
                await asyncio.shield(sending)
            except asyncio.CancelledError:
                # A stopping worker cancels this agent, and take_events then acknowledges the
                # whole batch: finish sending what it led to first, or a graceful stop
                # mid-batch could commit inputs whose decisions never went out.
                await sending
                raise
            per_input = (time.perf_counter() - started) / len(events)
            observe = counting.child(metrics.processing_seconds, item.stage).observe
            for _ in events:
                observe(per_input)

    def agent(item: Input) -> None:
        async def run(stream: faust.StreamT[bytes]) -> None:
            if item.topic is specs.RAW and settings.raw_batch_max > 1:
                await run_batches(item, stream)
                return
            async for event in stream.events():
                started = time.perf_counter()
                source = source_of(event)
                value = event_value(event)
                key = event_key(event)
                if item.topic in graph_inputs and composition.graph is None:
                    async with graph_rebuild:
                        if composition.graph is None:
                            composition.rebuild_graph(await history(), await overrides())
                if item.topic in stale:
                    await rebuild(item.topic)
                out = run_step(composition, item, value, key, source)
                await sender.send_all(out.records)
                counting.count(out)
                elapsed = time.perf_counter() - started
                counting.child(metrics.processing_seconds, item.stage).observe(elapsed)
                if item.topic is specs.IDENTITY_SIGNALS and composition.graph is not None:
                    metrics.table_keys.labels("identity-graph").set(composition.graph.account_count)

        run.__name__ = item.agent.replace("-", "_")
        app.agent(topics[item.topic.name], name=item.agent)(run)

    for item in inputs:
        agent(item)

    rescan = {"needed": True}

    # mode's stub types want a plain callable; it awaits coroutine receivers all the same.
    @app.on_rebalance_complete.connect  # type: ignore[arg-type]
    async def _after_rebalance(sender: Any, *args: Any, **kwargs: Any) -> None:
        rescan["needed"] = True
        composition.graph = None  # whoever holds the signals partition rebuilds from the log
        stale.add(specs.SIDE)

    if settings.worker_role != "side":
        wire_deadline_ticks(app, settings, topics, metrics, composition, rescan)

    @app.timer(interval=settings.policy_poll_s)  # type: ignore[untyped-decorator]
    async def reload_policy() -> None:
        # Building a classifier compiles its rules (seconds); Hyperscan's compile releases the
        # GIL, so in a thread the stages keep running on the current version meanwhile.
        await asyncio.to_thread(watcher.check)

    register_views(app, metrics, [settings.topic(i.topic.name) for i in inputs])
    return watcher


def wire_deadline_ticks(
    app: faust.App,
    settings: Settings,
    topics: Mapping[str, faust.TopicT],
    metrics: Metrics,
    composition: Composition,
    rescan: dict[str, bool],
) -> None:
    """The timer that turns due deadlines into ticks: only where enforcement's table is."""
    ticks = topics[specs.ENFORCE_TICKS.name]
    stores = composition.stores

    @app.timer(interval=TICK_INTERVAL_S)  # type: ignore[untyped-decorator]
    async def fire_due_deadlines() -> None:
        """Deadlines of authors who post nothing more: a tick, keyed by the author, runs the
        firing inside the author's partition (where the table's changelog write belongs)."""
        enforcement = stores.enforcement
        if rescan["needed"] and cast(Any, app.tables).recovery.completed.is_set():
            enforcement.rescan()
            rescan["needed"] = False
        # Live workers also let wall-clock time pass deadlines, or a quiet weekend would hold
        # every block; replay runs on event time alone.
        now_ms = composition.watermark_ms
        if settings.wall_clock_timers:
            now_ms = max(now_ms, int(time.time() * 1000))
        for author_key in enforcement.due(now_ms):
            tick = Tick(author_key=author_key, now_ms=now_ms)
            await ticks.send(key=author_key.encode(), value=tick.to_bytes())
            enforcement.deadlines.pop(author_key, None)  # re-added when the tick's write lands
        metrics.table_keys.labels(ENFORCEMENT_TABLE).set(len(enforcement.table))
