"""``modstream replay``: re-run a range of ``comments.raw`` through every stage, for audits.

    modstream replay --namespace prod --from-time 2026-03-03T00:00Z --to-time 2026-03-04T00:00Z
    modstream replay --from-offset 0:1200 --from-offset 1:1180 --to-offset 5000 --out audit/
    modstream replay --policy /tmp/candidate.yaml --to-topics      # replay-<run id>.decisions, ...

Reads the range with a consumer that has no group (partitions assigned by hand, no offsets
committed), so production consumers never see it. Runs the same stage functions as the live
worker, in-process (``workers.offline.offline_pipeline``), each partition in offset order
(per author, the order the live worker saw), partitions merged by record timestamp. Writes
decisions, actions and dead letters to JSONL files (default) or to topics in a namespace of its
own, ``replay-<run id>.*``; never to the production ``actions`` topic, so nothing a replay decides
is ever carried out. See docs/replay.md for what a replay can and cannot reproduce.

Reviewers' decisions from the moderator console (``reviews``) made in the same span of record
time are read too and handed to the step live enforcement runs on them, merged with the
comments by record timestamp, so an undo a moderator caused is replayed (``--no-reviews``
leaves them out).

Deterministic: the same range and policy version give the same decisions file, byte for byte.
The range is half-open, ``[from, to)``, for offsets and for times alike; times are Kafka record
timestamps (when the connector produced the message), which is what the broker can seek by.

Prints progress on stderr and one JSON summary on stdout.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

import click
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from schemas.action import Action, Decision
from schemas.codec import replace
from schemas.deadletter import DeadLetter
from streams import topics as specs
from streams.enforce.config import config_digest
from streams.normalise.pseudonymise import Pseudonymiser
from streams.policy import Policy, load_policy
from streams.stage_configs import build_stage_configs
from workers.cli_conventions import command, run_command
from workers.offline.offline_pipeline import DecisionTally, OfflinePipeline
from workers.settings import Settings
from workers.topic_admin import topic_configs

log = logging.getLogger(__name__)

DECISIONS_FILE = "decisions.jsonl"
ACTIONS_FILE = "actions.jsonl"
DEADLETTERS_FILE = "deadletters.jsonl"
SUMMARY_FILE = "summary.json"
RUN_NAMESPACE_PREFIX = "replay-"
# A partition that yields nothing for this long before its end offset is stuck, not slow.
STALL_TIMEOUT_S = 60.0


class ReplayError(Exception):
    """The replay cannot start or cannot finish as asked; the message says what to change."""


# --- the range ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PartitionRange:
    partition: int
    start: int  # first offset replayed
    end: int  # first offset not replayed
    read_from: int = -1  # first offset read: before start, it only builds up state (warm-up)

    @property
    def first_read(self) -> int:
        return self.start if self.read_from < 0 else min(self.read_from, self.start)

    @property
    def size(self) -> int:
        """Messages to read, warm-up included."""
        return max(0, self.end - self.first_read)


@dataclass(frozen=True, slots=True)
class RangeSpec:
    """What the operator asked for. Offsets map partition → offset; key None means every
    partition. Offsets win over times where both are given for a partition."""

    partitions: tuple[int, ...] = ()  # () = every partition of the topic
    from_offsets: dict[int | None, int] = field(default_factory=dict)
    to_offsets: dict[int | None, int] = field(default_factory=dict)
    from_time_ms: int | None = None
    to_time_ms: int | None = None
    # Read from here (before the range) to build up state, writing nothing for it: so authors
    # active before the range are not first-timers to the replay.
    warmup_offsets: dict[int | None, int] = field(default_factory=dict)
    warmup_time_ms: int | None = None


def parse_offsets(values: Sequence[str] | None) -> dict[int | None, int]:
    """``["120"]`` → every partition at 120; ``["0:120,1:130", "2:7"]`` → per partition."""
    out: dict[int | None, int] = {}
    for value in values or ():
        for item in value.split(","):
            part, sep, offset = item.strip().rpartition(":")
            try:
                key = int(part) if sep else None
                out[key] = int(offset)
            except ValueError:
                raise ReplayError(
                    f"offset {item!r}: write OFFSET (every partition) or PARTITION:OFFSET"
                ) from None
            if out[key] < 0 or (key is not None and key < 0):
                raise ReplayError(f"offset {item!r}: partitions and offsets are >= 0")
    return out


def parse_time_ms(value: str | None) -> int | None:
    """ISO 8601 with a UTC offset (``2026-03-03T10:00:00Z``, ``...+01:00``) → epoch ms."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ReplayError(f"time {value!r} is not ISO 8601 (e.g. 2026-03-03T10:00:00Z)") from None
    if moment.tzinfo is None:
        raise ReplayError(f"time {value!r} has no UTC offset: add Z or +01:00, say")
    return int(moment.timestamp() * 1000)


async def topic_partitions(bootstrap: str, topic: str) -> list[int]:
    # The admin client, because a group-less consumer only learns partitions by assignment.
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if described["error_code"] != 0 or not described["partitions"]:
        raise ReplayError(f"topic {topic} does not exist: check --namespace and --bootstrap")
    return sorted(p["partition"] for p in described["partitions"])


async def plan_ranges(
    consumer: AIOKafkaConsumer, bootstrap: str, topic: str, spec: RangeSpec
) -> tuple[list[PartitionRange], list[str]]:
    """Resolve the operator's range against the broker; returns the ranges and warnings.

    The end of every open range is the partition's end offset now, so a replay of a live
    topic finishes instead of following it."""
    known = await topic_partitions(bootstrap, topic)
    wanted = sorted(spec.partitions or known)
    missing = sorted(set(wanted) - set(known))
    if missing:
        raise ReplayError(f"{topic} has partitions {sorted(known)}; {missing} do not exist")
    tps = [TopicPartition(topic, p) for p in wanted]
    first = await consumer.beginning_offsets(tps)
    last = await consumer.end_offsets(tps)
    from_times = await _offsets_at(consumer, tps, spec.from_time_ms)
    to_times = await _offsets_at(consumer, tps, spec.to_time_ms)
    warmup_times = await _offsets_at(consumer, tps, spec.warmup_time_ms)
    ranges: list[PartitionRange] = []
    warnings: list[str] = []
    for tp in tps:
        p = tp.partition
        start = _pick(spec.from_offsets, p, from_times.get(tp, first[tp]))
        end = _pick(spec.to_offsets, p, to_times.get(tp, last[tp]))
        if start < first[tp]:
            warnings.append(
                f"{topic}[{p}]: offsets {start}..{first[tp] - 1} are no longer on the broker "
                f"(retention); replay starts at {first[tp]}"
            )
            start = first[tp]
        if end > last[tp]:
            warnings.append(f"{topic}[{p}]: ends at {last[tp]}, not {end}")
            end = last[tp]
        warm = _pick(spec.warmup_offsets, p, warmup_times.get(tp, start))
        if warm < first[tp]:
            warnings.append(f"{topic}[{p}]: warm-up starts at {first[tp]} (retention)")
        ranges.append(PartitionRange(p, start, max(start, end), max(first[tp], min(warm, start))))
    return ranges, warnings


async def _offsets_at(
    consumer: AIOKafkaConsumer, tps: list[TopicPartition], at_ms: int | None
) -> dict[TopicPartition, int]:
    if at_ms is None:
        return {}
    found = await consumer.offsets_for_times(dict.fromkeys(tps, at_ms))
    ends = await consumer.end_offsets(tps)
    # None: no record at or after that time, so the range starts (or ends) at the end.
    return {tp: (ends[tp] if hit is None else hit.offset) for tp, hit in found.items()}


def _pick(offsets: dict[int | None, int], partition: int, default: int) -> int:
    if partition in offsets:
        return offsets[partition]
    return offsets.get(None, default)


@dataclass(frozen=True, slots=True)
class RawMessage:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int  # the record's Kafka timestamp
    key: bytes | None
    value: bytes

    def source(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


async def read_ranges(
    consumer: AIOKafkaConsumer, plan: Mapping[str, Sequence[PartitionRange]]
) -> AsyncIterator[RawMessage]:
    """Every message of the ranges of each topic: each partition in offset order, all of them
    merged by record timestamp (ties by the topic's place in ``plan``, then partition, then
    offset).

    Offset order per partition is what per-author state needs. The merge is for what reaches
    one author's state from several partitions or topics: the cross-author campaign index, and
    a reviewer's decision (``reviews``) against the author's comments. Live saw them arrive in
    roughly the order the broker received them; the timestamps record that order and are the
    same every replay. Comments come first in ``plan``: a review made in the same millisecond
    as a comment cannot be about it.
    """
    ends: dict[TopicPartition, int] = {}
    starts: dict[TopicPartition, int] = {}
    rank: dict[str, int] = {}
    for topic, ranges in plan.items():
        rank[topic] = len(rank)
        for r in ranges:
            if r.size > 0:
                tp = TopicPartition(topic, r.partition)
                ends[tp], starts[tp] = r.end, r.first_read
    if not ends:
        return
    consumer.assign(list(ends))
    for tp, first in starts.items():
        consumer.seek(tp, first)
    buffers: dict[TopicPartition, deque[RawMessage]] = {tp: deque() for tp in ends}
    fetching = set(ends)  # partitions with messages left to fetch
    last_progress = time.monotonic()

    def order(tp: TopicPartition) -> tuple[str, int]:
        return (tp.topic, tp.partition)

    while True:
        needy = [tp for tp in sorted(fetching, key=order) if not buffers[tp]]
        if needy:
            batch = await consumer.getmany(*needy, timeout_ms=1000, max_records=500)
            for tp, records in batch.items():
                for msg in records:
                    if msg.offset >= ends[tp]:
                        fetching.discard(tp)
                        break
                    buffers[tp].append(
                        RawMessage(
                            tp.topic,
                            tp.partition,
                            msg.offset,
                            msg.timestamp,
                            msg.key,
                            msg.value or b"",
                        )
                    )
                    last_progress = time.monotonic()
                    if msg.offset + 1 >= ends[tp]:
                        fetching.discard(tp)  # the last one: no need to ask again
                        break
            for tp in needy:
                # A range may end in a gap (compaction, transaction markers): no message at
                # end - 1 ever arrives, but the position gets there.
                if not buffers[tp] and await consumer.position(tp) >= ends[tp]:
                    fetching.discard(tp)
            if any(not buffers[tp] for tp in fetching):
                if time.monotonic() - last_progress > STALL_TIMEOUT_S:
                    stuck = ", ".join(
                        f"{tp.topic}[{tp.partition}]"
                        for tp in sorted(fetching, key=order)
                        if not buffers[tp]
                    )
                    raise ReplayError(
                        f"{stuck} gave nothing for {STALL_TIMEOUT_S:.0f}s before the range's "
                        "end: is the broker reachable, the leader up?"
                    )
                continue
        heads = [tp for tp in ends if buffers[tp]]
        if not heads:
            return
        first = min(
            heads,
            key=lambda tp: (
                buffers[tp][0].timestamp_ms,
                rank[tp.topic],
                tp.partition,
                buffers[tp][0].offset,
            ),
        )
        yield buffers[first].popleft()


# --- the reviews a range covers ---------------------------------------------------------------


async def plan_review_ranges(
    consumer: AIOKafkaConsumer,
    bootstrap: str,
    reviews_topic: str,
    raw_topic: str,
    raw_ranges: Sequence[PartitionRange],
    spec: RangeSpec,
) -> tuple[list[PartitionRange], list[str]]:
    """The ranges of ``reviews`` that belong with the comments' ranges, by record time.

    A review is replayed (written) when its record timestamp lies in the comments' range:
    ``--from-time``/``--to-time`` where given; for offsets, from the record time of the first
    comment replayed (the earliest, over partitions) to that of the first comment not replayed
    (the latest: a review made then may still be about a comment in another partition's
    range); open ends are the topic's beginning and its end now. Reviews from the warm-up's
    start to the range's are read for state only, as the comments there are. A namespace
    without a reviews topic (written before the console) replays its comments alone."""
    try:
        partitions = await topic_partitions(bootstrap, reviews_topic)
    except ReplayError:
        return [], [f"{reviews_topic} does not exist: no reviews replayed"]
    live = [r for r in raw_ranges if r.size > 0]
    if not live:
        return [], []
    start_ms = spec.from_time_ms
    if start_ms is None and spec.from_offsets:
        firsts = {r.partition: r.start for r in live if r.end > r.start}
        start_ms = min(await _times_at(consumer, raw_topic, firsts), default=None)
    warm_ms = spec.warmup_time_ms
    if warm_ms is None and spec.warmup_offsets:
        warm_ms = min(
            await _times_at(consumer, raw_topic, {r.partition: r.first_read for r in live}),
            default=None,
        )
    end_ms = spec.to_time_ms
    if end_ms is None and spec.to_offsets:
        tails = await consumer.end_offsets(
            [TopicPartition(raw_topic, r.partition) for r in raw_ranges]
        )
        cut = {
            r.partition: r.end
            for r in raw_ranges
            if r.end < tails[TopicPartition(raw_topic, r.partition)]
        }
        if len(cut) == len(raw_ranges):  # else a partition runs to its end now: so do reviews
            end_ms = max(await _times_at(consumer, raw_topic, cut), default=None)
    if warm_ms is not None and start_ms is not None and warm_ms >= start_ms:
        warm_ms = None
    tps = [TopicPartition(reviews_topic, p) for p in partitions]
    first = await consumer.beginning_offsets(tps)
    last = await consumer.end_offsets(tps)
    starts = await _offsets_at(consumer, tps, start_ms)
    ends = await _offsets_at(consumer, tps, end_ms)
    warms = await _offsets_at(consumer, tps, warm_ms)
    ranges = []
    for tp in tps:
        start = starts.get(tp, first[tp])
        end = max(start, ends.get(tp, last[tp]))
        ranges.append(PartitionRange(tp.partition, start, end, min(warms.get(tp, start), start)))
    return ranges, []


async def _times_at(
    consumer: AIOKafkaConsumer, topic: str, offsets: Mapping[int, int]
) -> list[int]:
    """The record timestamps of the messages at these offsets (partition → offset); none for
    an offset that holds no message (a compacted gap)."""
    plan = {topic: [PartitionRange(p, o, o + 1) for p, o in offsets.items()]}
    return [m.timestamp_ms async for m in read_ranges(consumer, plan)]


async def read_whole_topic(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes, str]]:
    """(key, value, source) of every message now in ``topic``, partition by partition.

    For the audit tools: reads without a consumer group, so it disturbs nobody."""
    return [(m.key, m.value, m.source()) for m in await read_whole_topic_messages(bootstrap, topic)]


async def read_whole_topic_messages(bootstrap: str, topic: str) -> list[RawMessage]:
    """Every message now in ``topic`` with its record timestamp, merged by it; no group."""
    consumer = _consumer(bootstrap)
    await consumer.start()
    try:
        ranges, _ = await plan_ranges(consumer, bootstrap, topic, RangeSpec())
        return [m async for m in read_ranges(consumer, {topic: ranges})]
    finally:
        await consumer.stop()


def _consumer(bootstrap: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )


# --- outputs --------------------------------------------------------------------------------


class Sink(Protocol):
    async def write(
        self,
        decisions: Sequence[Decision],
        actions: Sequence[Action],
        dead_letter: DeadLetter | None,
        key: bytes | None,
    ) -> None: ...

    async def close(self) -> None: ...

    def describe(self) -> dict[str, Any]: ...


def redacted(letter: DeadLetter) -> DeadLetter:
    """A dead letter without the original bytes: they stay at ``source`` on the broker, and an
    audit copy would only multiply the places that hold comment content."""
    return replace(letter, original_b64="")


class FileSink:
    """JSONL, one record per line, in the order replay produced them."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._files = {
            name: (directory / name).open("wb")
            for name in (DECISIONS_FILE, ACTIONS_FILE, DEADLETTERS_FILE)
        }

    async def write(
        self,
        decisions: Sequence[Decision],
        actions: Sequence[Action],
        dead_letter: DeadLetter | None,
        key: bytes | None,
    ) -> None:
        out = self._files
        for decision in decisions:
            out[DECISIONS_FILE].write(decision.to_bytes() + b"\n")
        for action in actions:
            out[ACTIONS_FILE].write(action.to_bytes() + b"\n")
        if dead_letter is not None:
            out[DEADLETTERS_FILE].write(redacted(dead_letter).to_bytes() + b"\n")

    async def close(self) -> None:
        for handle in self._files.values():
            handle.close()

    def describe(self) -> dict[str, Any]:
        return {"kind": "files", **{n: str(self.directory / n) for n in self._files}}


class TopicSink:
    """``replay-<run id>.decisions``, ``.actions``, ``.comments.deadletter``: keyed as live."""

    OUTPUTS = (specs.DECISIONS, specs.ACTIONS, specs.DEADLETTER)

    def __init__(self, settings: Settings, producer: AIOKafkaProducer) -> None:
        self.settings = settings
        self._producer = producer

    @classmethod
    async def open(cls, settings: Settings, input_namespace: str) -> TopicSink:
        if not settings.namespace.startswith(RUN_NAMESPACE_PREFIX):
            raise ReplayError(f"replay output namespace must start with {RUN_NAMESPACE_PREFIX}")
        if settings.namespace == input_namespace:
            raise ReplayError("replay must not write to the namespace it reads from")
        names = [settings.topic(spec.name) for spec in cls.OUTPUTS]
        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
        await admin.start()
        try:
            # A run's topics are its own: never add to another run's output.
            if set(names) & set(await admin.list_topics()):
                raise ReplayError(
                    f"topics of run {settings.namespace} exist already: pick another --run-id"
                )
            await admin.create_topics(
                [
                    NewTopic(
                        name=settings.topic(spec.name),
                        num_partitions=settings.partitions,
                        replication_factor=settings.replication_factor,
                        topic_configs=topic_configs(spec),
                    )
                    for spec in cls.OUTPUTS
                ]
            )
        except TopicAlreadyExistsError:
            raise ReplayError(
                f"topics of run {settings.namespace} were created meanwhile: pick another --run-id"
            ) from None
        finally:
            await admin.close()
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=20
        )
        await producer.start()
        return cls(settings, producer)

    async def write(
        self,
        decisions: Sequence[Decision],
        actions: Sequence[Action],
        dead_letter: DeadLetter | None,
        key: bytes | None,
    ) -> None:
        topic = self.settings.topic
        send = self._producer.send
        for action in actions:
            await send(
                topic(specs.ACTIONS.name),
                key=action.target_author.encode(),
                value=action.to_bytes(),
            )
        for decision in decisions:
            await send(
                topic(specs.DECISIONS.name),
                key=decision.decision_id.encode(),
                value=decision.to_bytes(),
            )
        if dead_letter is not None:
            await send(
                topic(specs.DEADLETTER.name), key=key, value=redacted(dead_letter).to_bytes()
            )

    async def close(self) -> None:
        try:
            await self._producer.flush()
        finally:
            await self._producer.stop()

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "topics",
            "namespace": self.settings.namespace,
            "topics": [self.settings.topic(s.name) for s in self.OUTPUTS],
        }


# --- progress -------------------------------------------------------------------------------


class Progress:
    """A bar with rate and ETA on a terminal; a plain line every ``every_s`` otherwise."""

    def __init__(self, total: int, stream: IO[str], *, every_s: float = 10.0) -> None:
        self.total = total
        self.stream = stream
        self.tty = stream.isatty()
        self.every_s = 0.2 if self.tty else every_s
        self.started = time.monotonic()
        self._last = self.started
        self.done = 0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= self.every_s:
            self._last = now
            self._show(now)

    def finish(self) -> None:
        self._show(time.monotonic())
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()

    def _show(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        left = max(self.total - self.done, 0)
        eta = _clock(left / rate) if rate > 0 else "?"
        share = self.done / self.total if self.total else 1.0
        counts = f"{self.done:,}/{self.total:,} ({share:.0%}) {rate:,.0f} msg/s, ETA {eta}"
        if self.tty:
            width = 30
            filled = int(width * min(share, 1.0))
            bar = "#" * filled + "." * (width - filled)
            self.stream.write(f"\rreplay [{bar}] {counts}  ")
        else:
            self.stream.write(f"replay: {counts}\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


# --- the run --------------------------------------------------------------------------------


@dataclass(slots=True)
class Tally(DecisionTally):
    """What the replay wrote (warm-up inputs are read, and counted, but write nothing)."""

    inputs: int = 0  # comments and reviews
    reviews: int = 0
    warmup_inputs: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": self.inputs,
            "reviews": self.reviews,
            "warmup_inputs": self.warmup_inputs,
            **self.counts(),
            "dead_letters_total": sum(self.dead_letters.values()),
            "actions_total": sum(self.actions.values()),
        }


@dataclass(frozen=True)
class ReplayOptions:
    settings: Settings  # where to read (bootstrap, namespace) and the pseudonym key
    policy_path: Path
    range: RangeSpec = RangeSpec()
    # "last-event": at the end, fire deadlines up to the range's latest event time (what a live
    # worker on event time alone would do); "none": leave them; or an event time in epoch ms.
    timers_until: str | int = "last-event"
    out_dir: Path | None = None  # JSONL files here (the default)
    to_topics: bool = False  # or topics replay-<run id>.*
    # Reviewers' decisions (``reviews``) in the range, replayed with the comments; off, a
    # replay shows what the pipeline alone would have decided.
    reviews: bool = True
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])


def load_checked_policy(path: Path) -> Policy:
    try:
        return load_policy(path)
    except ValueError as exc:  # PolicyError is a ValueError
        raise ReplayError(f"policy {path}: {exc}") from exc


async def replay(
    options: ReplayOptions,
    *,
    progress_stream: IO[str] | None = None,
    on_outcome: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Run one replay; returns the summary (also written as summary.json for file output)."""
    settings = options.settings
    policy = load_checked_policy(options.policy_path)
    stages = build_stage_configs(policy, settings.registry_path)
    pipeline = OfflinePipeline(
        stages, Pseudonymiser(settings.pseudonym_key), settings.max_payload_bytes
    )
    topic = settings.topic(specs.RAW.name)
    reviews_topic = settings.topic(specs.REVIEWS.name)
    consumer = _consumer(settings.kafka_bootstrap)
    await consumer.start()
    sink: Sink | None = None
    tally = Tally()
    review_ranges: list[PartitionRange] = []
    try:
        ranges, warnings = await plan_ranges(
            consumer, settings.kafka_bootstrap, topic, options.range
        )
        if options.reviews:
            review_ranges, more = await plan_review_ranges(
                consumer, settings.kafka_bootstrap, reviews_topic, topic, ranges, options.range
            )
            warnings += more
        for warning in warnings:
            log.warning("%s", warning)
        if options.to_topics:
            run_settings = replace(settings, namespace=RUN_NAMESPACE_PREFIX + options.run_id)
            sink = await TopicSink.open(run_settings, settings.namespace)
        else:
            sink = FileSink(options.out_dir or Path(f"replay-{options.run_id}"))
        plan = {topic: ranges, reviews_topic: review_ranges}
        progress = Progress(
            sum(r.size for rs in plan.values() for r in rs), progress_stream or sys.stderr
        )
        starts = {(t, r.partition): r.start for t, rs in plan.items() for r in rs}
        started = time.perf_counter()
        async for msg in read_ranges(consumer, plan):
            # A reviewer's decision goes to the step live enforcement runs on ``reviews``,
            # in record-timestamp order with the comments (read_ranges): docs/replay.md.
            is_review = msg.topic == reviews_topic
            if is_review:
                outcome = pipeline.review(msg.value, msg.key, msg.source())
            else:
                outcome = pipeline.process(msg.value, msg.source(), record_ms=msg.timestamp_ms)
            if msg.offset < starts[(msg.topic, msg.partition)]:
                tally.warmup_inputs += 1  # state only: what it decided was decided before
            else:
                tally.inputs += 1
                tally.reviews += 1 if is_review else 0
                tally.timer_decisions += outcome.timer_decisions
                tally.notice_decisions += outcome.notice_decisions
                tally.add(outcome.decisions, outcome.actions, outcome.dead_letter)
                await sink.write(outcome.decisions, outcome.actions, outcome.dead_letter, msg.key)
            progress.advance()
            if on_outcome is not None:
                on_outcome(progress.done)
        timers_until = _timers_until(options.timers_until, pipeline.stats.max_event_time_ms)
        if timers_until is not None:
            fired = pipeline.fire_due(timers_until)
            tally.timer_decisions += len(fired.decisions)
            tally.add(fired.decisions, fired.actions, None)
            await sink.write(fired.decisions, fired.actions, None, None)
        elapsed = time.perf_counter() - started
        progress.finish()
    finally:
        await consumer.stop()
        if sink is not None:
            await sink.close()
    read = tally.inputs + tally.warmup_inputs
    summary: dict[str, Any] = {
        "run_id": options.run_id,
        "input": {
            "namespace": settings.namespace,
            "topic": topic,
            "ranges": _offset_ranges(ranges),
            "warmup_from": _warmup_from(ranges),
            # Read with the comments, merged by record time; audit diff covers these too.
            "reviews": {
                "topic": reviews_topic,
                "ranges": _offset_ranges(review_ranges),
                "warmup_from": _warmup_from(review_ranges),
            },
        },
        "policy": {
            "path": str(options.policy_path),
            "name": policy.name,
            "version": policy.version,
            "rules_digest": stages.classifier.rules_digest,
            # Bank holidays resolved to dates: a calendar that moved one shows up here.
            "enforcement_digest": config_digest(stages.enforcement),
            "calendar": stages.enforcement.monitoring.calendar.describe(),
        },
        "output": sink.describe(),
        "timers_fired_until_ms": timers_until,
        "open_deadlines_left": pipeline.pending_deadlines,
        "max_event_time_ms": pipeline.stats.max_event_time_ms,
        **tally.to_dict(),
        "elapsed_s": round(elapsed, 3),
        "rate_per_s": round(read / elapsed, 1) if elapsed > 0 else None,
        "warnings": warnings,
    }
    if isinstance(sink, FileSink):
        (sink.directory / SUMMARY_FILE).write_bytes(
            orjson.dumps(summary, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        )
    return summary


def _offset_ranges(ranges: Sequence[PartitionRange]) -> list[dict[str, int]]:
    return [{"partition": r.partition, "from_offset": r.start, "to_offset": r.end} for r in ranges]


def _warmup_from(ranges: Sequence[PartitionRange]) -> dict[str, int]:
    return {str(r.partition): r.first_read for r in ranges if r.first_read < r.start}


def _timers_until(choice: str | int, last_event_ms: int | None) -> int | None:
    if isinstance(choice, int):
        return choice
    if choice == "none" or last_event_ms is None:
        return None
    return last_event_ms


# --- command line ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReplayArgs:
    """``modstream replay``'s options as given; ``options_from_args`` checks and resolves them."""

    namespace: str | None = None
    bootstrap: str | None = None
    policy: Path | None = None
    partitions: str = ""
    from_offset: tuple[str, ...] = ()
    to_offset: tuple[str, ...] = ()
    from_time: str | None = None
    warmup_from_offset: tuple[str, ...] = ()
    warmup_from_time: str | None = None
    to_time: str | None = None
    timers_until: str = "last-event"
    out: Path | None = None
    to_topics: bool = False
    no_reviews: bool = False
    run_id: str | None = None


_OFFSETS = "[P:]OFFSET"


@command(
    "replay",
    help=__doc__.split("\n\n")[0] if __doc__ else None,
    epilog="See docs/replay.md for what a replay can and cannot reproduce.",
)
@click.option(
    "--namespace", help="namespace to read comments.raw from (default: MODSTREAM_NAMESPACE)"
)
@click.option("--bootstrap", help="Kafka bootstrap (default: MODSTREAM_KAFKA_BOOTSTRAP)")
@click.option(
    "--policy",
    type=click.Path(path_type=Path),
    help="policy file to decide with (default: MODSTREAM_POLICY)",
)
@click.option(
    "--partitions", default="", help="comma-separated partitions to replay (default: all)"
)
@click.option(
    "--from-offset",
    multiple=True,
    metavar=_OFFSETS,
    help="first offset replayed; repeat or comma-separate for per-partition offsets",
)
@click.option("--to-offset", multiple=True, metavar=_OFFSETS, help="first offset NOT replayed")
@click.option("--from-time", metavar="ISO", help="first record timestamp replayed")
@click.option(
    "--warmup-from-offset",
    multiple=True,
    metavar=_OFFSETS,
    help="read from here to build up state before the range, writing nothing for it",
)
@click.option("--warmup-from-time", metavar="ISO", help="as --warmup-from-offset")
@click.option("--to-time", metavar="ISO", help="record timestamp where replay stops")
@click.option(
    "--timers-until",
    default="last-event",
    metavar="last-event|none|ISO",
    help="at the end, fire deadlines up to this event time (default: the last event's)",
)
@click.option("--out", type=click.Path(path_type=Path), help="directory for the JSONL output")
@click.option("--to-topics", is_flag=True, help="write to topics replay-<run id>.* instead")
@click.option(
    "--no-reviews",
    is_flag=True,
    help="leave out the reviewers' decisions (reviews) made in the range",
)
@click.option("--run-id", help="names the output (default: random)")
def replay_command(**params: Any) -> int:
    from workers.logging_config import configure_logging

    args = ReplayArgs(**params)
    if args.out is not None and args.to_topics:
        raise click.UsageError("--out and --to-topics are alternatives: give one")
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level, settings.log_format)
        options = options_from_args(args, settings)
        summary = asyncio.run(replay(options))
    except (ReplayError, ValueError) as exc:
        # SettingsError and PolicyError are ValueErrors whose messages say what to fix.
        sys.stderr.write(f"modstream replay: {exc}\n")
        return 2
    sys.stdout.write(orjson.dumps(summary, option=orjson.OPT_INDENT_2).decode() + "\n")
    return 0


def options_from_args(args: ReplayArgs, settings: Settings) -> ReplayOptions:
    overrides: dict[str, Any] = {}
    if args.namespace is not None:
        overrides["namespace"] = args.namespace
    if args.bootstrap:
        overrides["kafka_bootstrap"] = args.bootstrap
    if overrides:
        settings = replace(settings, **overrides)
    try:
        partitions = tuple(int(p) for p in args.partitions.split(",") if p.strip())
    except ValueError:
        raise ReplayError(f"--partitions {args.partitions!r}: give numbers, e.g. 0,2") from None
    timers: str | int = args.timers_until
    if timers not in {"last-event", "none"}:
        parsed = parse_time_ms(str(timers))
        assert parsed is not None
        timers = parsed
    run_id = args.run_id or uuid.uuid4().hex[:10]
    if not all(c.isalnum() or c in "-_" for c in run_id):
        raise ReplayError(f"--run-id {run_id!r}: letters, digits, - and _ only")
    return ReplayOptions(
        settings=settings,
        policy_path=args.policy or Path(settings.policy_path),
        range=RangeSpec(
            partitions=partitions,
            from_offsets=parse_offsets(args.from_offset),
            to_offsets=parse_offsets(args.to_offset),
            from_time_ms=parse_time_ms(args.from_time),
            to_time_ms=parse_time_ms(args.to_time),
            warmup_offsets=parse_offsets(args.warmup_from_offset),
            warmup_time_ms=parse_time_ms(args.warmup_from_time),
        ),
        timers_until=timers,
        out_dir=args.out,
        to_topics=args.to_topics,
        reviews=not args.no_reviews,
        run_id=run_id,
    )


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(replay_command, argv, "modstream replay")


if __name__ == "__main__":
    raise SystemExit(main())
