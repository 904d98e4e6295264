"""The console's two Kafka ends: the feed that folds topics into the projection, and the sink
that writes people's decisions to ``reviews``.

The feed reads without a consumer group, from the start of every partition: the console's
view is a function of the topics alone, and any number of consoles can run side by side.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from schemas.action import Action, ActionResult, Decision
from schemas.identity import ClusterMembership
from schemas.review import Review
from schemas.verdict import Verdict
from streams import topics as specs
from workers.console.metrics import ConsoleMetrics
from workers.console.projection import Projection
from workers.kafka_clients import kafka_options
from workers.settings import Settings

log = logging.getLogger("modstream.console.feed")

# The comment of a case comes from comments.assessed: the worker writes that topic when
# MODSTREAM_EMIT_ASSESSED is on, which a deployment with the console needs (docs/console.md).
FOLDED = (
    specs.ASSESSED,
    specs.DECISIONS,
    specs.ACTIONS,
    specs.ACTION_RESULTS,
    specs.REVIEWS,
    specs.IDENTITY_CLUSTERS,
)
TOPIC_WAIT_S = 2.0


def _folder(projection: Projection, name: str) -> Callable[[bytes], None]:
    if name == specs.ASSESSED.name:
        return lambda v: projection.add_comment(Verdict.from_bytes(v).comment)
    if name == specs.DECISIONS.name:
        return lambda v: projection.add_decision(Decision.from_bytes(v))
    if name == specs.ACTIONS.name:
        return lambda v: projection.add_action(Action.from_bytes(v))
    if name == specs.ACTION_RESULTS.name:
        return lambda v: projection.add_result(ActionResult.from_bytes(v))
    if name == specs.REVIEWS.name:
        return lambda v: projection.add_review(Review.from_bytes(v))
    if name == specs.IDENTITY_CLUSTERS.name:
        return lambda v: projection.add_cluster(ClusterMembership.from_bytes(v))
    raise ValueError(f"the console does not fold {name}")


class ConsoleFeed:
    def __init__(self, settings: Settings, projection: Projection, metrics: ConsoleMetrics):
        self._settings = settings
        self._metrics = metrics
        self._folders = {
            settings.topic(s.name): (s.name, _folder(projection, s.name)) for s in FOLDED
        }
        self.caught_up = asyncio.Event()  # set once every partition's start-up end is read

    async def run(self, stopping: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            **kafka_options(self._settings),
        )
        await consumer.start()
        try:
            partitions = await self._assign(consumer, stopping)
            ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
            pending = {tp for tp, end in ends.items() if end > 0}
            if not pending:
                self.caught_up.set()
            while not stopping.is_set():
                batches = await consumer.getmany(timeout_ms=500, max_records=2000)
                for tp, messages in batches.items():
                    name, fold = self._folders[tp.topic]
                    for message in messages:
                        self._fold(name, fold, message.value)
                        if tp in pending and message.offset + 1 >= ends[tp]:
                            pending.discard(tp)
                if pending and not self.caught_up.is_set():
                    pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
                if not pending:
                    self.caught_up.set()
        finally:
            await consumer.stop()

    async def _assign(self, consumer: AIOKafkaConsumer, stopping: asyncio.Event) -> list[Any]:
        """Every partition of the folded topics; waits for topics the workers have not made."""
        while True:
            partitions = []
            missing = []
            for topic in self._folders:
                found = consumer.partitions_for_topic(topic)
                if not found:
                    missing.append(topic)
                partitions += [TopicPartition(topic, p) for p in sorted(found or ())]
            if not missing or stopping.is_set():
                break
            log.info("waiting for %d topics to exist", len(missing))
            await asyncio.sleep(TOPIC_WAIT_S)
            await consumer._client.force_metadata_update()  # no public refresh call
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        return partitions

    def _fold(self, name: str, fold: Callable[[bytes], None], value: bytes | None) -> None:
        if value is None:
            self._metrics.records_read.labels(name, "tombstone").inc()
            return
        try:
            fold(value)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # A record the console cannot read is skipped, never guessed at; the pipeline's
            # own dead-letter path covers the records themselves.
            self._metrics.records_read.labels(name, "unreadable").inc()
            log.warning("unreadable record on %s skipped (%s)", name, type(exc).__name__)
            return
        self._metrics.records_read.labels(name, "folded").inc()


class KafkaReviewSink:
    """Writes each review to ``reviews``, keyed by the author, and waits for the broker."""

    def __init__(self, settings: Settings) -> None:
        self._topic = settings.topic(specs.REVIEWS.name)
        self._producer = AIOKafkaProducer(
            acks="all",
            enable_idempotence=True,
            **kafka_options(settings),
        )

    async def start(self) -> None:
        await self._producer.start()

    async def send(self, review: Review) -> None:
        await self._producer.send_and_wait(
            self._topic, key=review.author_key.encode(), value=review.to_bytes()
        )

    async def stop(self) -> None:
        await self._producer.stop()
