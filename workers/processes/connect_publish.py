"""Comments from a connector onto ``comments.raw``: at least once, at most once per comment id.

Per batch: drop what was produced before (a Redis mark per keyed hash of
``<platform>:<comment id>``), remember the real ids in the identity map, produce with the
hash in a ``modstream-dedup`` header and wait for every ack, then mark them produced and
move the recovery point. The caller saves its cursor after that.

A crash can fall between the acks and the marks. So at start the publisher reads
``comments.raw`` from the recovery point it saved (the offsets just past its last marked
batch) to the end and marks every hash it finds there: whatever the restarted connector
fetches again is then dropped, whatever never reached the broker is produced. That is what
makes ``kill -9`` lose nothing and repeat nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import CollectorRegistry, Counter, Gauge
from redis.typing import EncodableT, FieldT

from streams import topics as specs
from streams.normalise.envelope import FieldError, JsonObject
from streams.normalise.pseudonymise import Pseudonymiser
from streams.platforms import READERS
from streams.platforms.base import Envelope
from workers.evidence_store import derive_key
from workers.identity_vault import IdentityVault, Sighting
from workers.kafka_clients import kafka_options
from workers.settings import Settings

log = logging.getLogger("modstream.connect")

DEDUP_HEADER = "modstream-dedup"
_DEDUP_INFO = b"modstream connector v1: dedup key"


@dataclass(frozen=True)
class ConnectorMetrics:
    """Per platform; labels are the platform and a fixed reason, never an id."""

    registry: CollectorRegistry
    fetched: Counter
    produced: Counter
    duplicates: Counter
    errors: Counter
    quota_left: Gauge
    webhook_rejected: Counter

    @classmethod
    def create(cls) -> ConnectorMetrics:
        registry = CollectorRegistry()
        return cls(
            registry=registry,
            fetched=Counter(
                "modstream_connector_fetched",
                "Comments fetched or received",
                ["platform"],
                registry=registry,
            ),
            produced=Counter(
                "modstream_connector_produced",
                "Comments produced to comments.raw",
                ["platform"],
                registry=registry,
            ),
            duplicates=Counter(
                "modstream_connector_duplicates_dropped",
                "Comments dropped because their id was already produced",
                ["platform"],
                registry=registry,
            ),
            errors=Counter(
                "modstream_connector_errors",
                "Platform or broker errors, by kind (rate_limited, transient, token, permanent)",
                ["platform", "kind"],
                registry=registry,
            ),
            quota_left=Gauge(
                "modstream_connector_quota_left",
                "Platform quota left (YouTube units today; X requests in the window)",
                ["platform"],
                registry=registry,
            ),
            webhook_rejected=Counter(
                "modstream_connector_webhook_rejected",
                "Webhook deliveries refused (bad_signature, bad_json, handshake)",
                ["platform", "reason"],
                registry=registry,
            ),
        )


@dataclass(frozen=True, slots=True)
class Prepared:
    envelope: Envelope
    dedup: str
    key: bytes
    value: bytes
    sighting: Sighting | None
    event_time_ms: int = 0


class Publisher:
    def __init__(
        self,
        settings: Settings,
        name: str,
        *,
        redis: aioredis.Redis,
        vault: IdentityVault,
        metrics: ConnectorMetrics,
    ) -> None:
        self.settings = settings
        self.name = name
        self.topic = settings.topic(specs.RAW.name)
        self._redis = redis
        self._vault = vault
        self._metrics = metrics
        self._pseudonymiser = Pseudonymiser(settings.pseudonym_key)
        self._dedup_key = derive_key(settings.evidence_key, _DEDUP_INFO)
        self._prefix = f"{settings.redis_prefix}connect:{name}:"
        self._seen_ttl_s = settings.platforms.dedup_days * 86_400
        self._lock = asyncio.Lock()  # webhook deliveries arrive concurrently
        self._producer: AIOKafkaProducer | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            **kafka_options(self.settings), acks="all", enable_idempotence=True, linger_ms=5
        )
        await self._producer.start()
        await self._recover()

    def _producer_started(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("publisher not started")
        return self._producer

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    # --- cursor ----------------------------------------------------------------------------------

    async def cursor(self) -> dict[str, Any]:
        raw = await self._redis.get(f"{self._prefix}cursor")
        return dict(orjson.loads(raw)) if raw else {}

    async def save_cursor(self, cursor: dict[str, Any]) -> None:
        await self._redis.set(f"{self._prefix}cursor", orjson.dumps(cursor))

    # --- publishing ------------------------------------------------------------------------------

    async def publish(self, envelopes: Sequence[Envelope]) -> int:
        """Produce the comments not produced before; returns how many were produced."""
        async with self._lock:
            return await self._publish(envelopes)

    async def _publish(self, envelopes: Sequence[Envelope]) -> int:
        if self._producer is None:
            raise RuntimeError("publisher not started")
        batch: dict[str, Prepared] = {}
        for envelope in envelopes:
            self._metrics.fetched.labels(envelope.platform).inc()
            item = self._prepare(envelope)
            if item.dedup in batch:
                self._metrics.duplicates.labels(envelope.platform).inc()
                continue
            batch[item.dedup] = item
        if not batch:
            return 0
        marks = [f"{self._prefix}seen:{d}" for d in batch]
        already = await self._redis.mget(marks)
        fresh = [item for item, seen in zip(batch.values(), already, strict=True) if seen is None]
        for item, seen in zip(batch.values(), already, strict=True):
            if seen is not None:
                self._metrics.duplicates.labels(item.envelope.platform).inc()
        if not fresh:
            return 0
        # Pollers read newest first; the pipeline's windows and the identity map's "latest
        # comment of this author" want them in the order they were written.
        fresh.sort(key=lambda item: item.event_time_ms)
        # The ids are in the map before the comment can reach the executor.
        await self._vault.remember(*(i.sighting for i in fresh if i.sighting is not None))
        sends = [
            await self._producer.send(
                self.topic,
                key=item.key,
                value=item.value,
                headers=[(DEDUP_HEADER, item.dedup.encode())],
            )
            for item in fresh
        ]
        written = await asyncio.gather(*sends)
        recovery: dict[FieldT, EncodableT] = {}
        for meta in written:
            partition = str(meta.partition)
            recovery[partition] = max(int(recovery.get(partition, 0)), meta.offset + 1)
        async with self._redis.pipeline(transaction=True) as pipe:
            for item in fresh:
                pipe.set(f"{self._prefix}seen:{item.dedup}", b"1", ex=self._seen_ttl_s)
            if recovery:
                pipe.hset(f"{self._prefix}recovery", mapping=recovery)
            await pipe.execute()
        for item in fresh:
            self._metrics.produced.labels(item.envelope.platform).inc()
        return len(fresh)

    def _prepare(self, envelope: Envelope) -> Prepared:
        value = orjson.dumps(envelope.document())
        try:
            native = READERS[envelope.platform](JsonObject(envelope.payload, "payload"))
        except (FieldError, ValueError, TypeError, KeyError):
            # Unreadable: produced anyway so ingestion dead-letters it with the reason, deduped
            # on its bytes; there is no account to remember.
            digest = hashlib.sha256(value).hexdigest()
            return Prepared(envelope, self._hash(f"bytes:{digest}"), b"", value, None)
        comment_id = f"{envelope.platform}:{native.native_id}"
        author_key = self._pseudonymiser.author_key(envelope.platform, native.account_id)
        post_id = str(envelope.context.get("post_id") or native.post_id)
        sighting = Sighting(
            platform=envelope.platform,
            author_key=author_key,
            account_id=native.account_id,
            comment_id=comment_id,
            native_id=native.native_id,
            post_id=post_id,
            thread_id=native.thread_id,
        )
        key = f"{envelope.platform}:{native.account_id}".encode()
        return Prepared(
            envelope, self._hash(comment_id), key, value, sighting, native.event_time_ms
        )

    def _hash(self, value: str) -> str:
        return hmac.new(self._dedup_key, value.encode(), hashlib.sha256).hexdigest()[:40]

    # --- recovery --------------------------------------------------------------------------------

    async def _recover(self) -> None:
        """Mark what reached the broker after the last marked batch (see the module doc)."""
        consumer = AIOKafkaConsumer(
            **kafka_options(self.settings), group_id=None, enable_auto_commit=False
        )
        await consumer.start()
        try:
            # The producer waits for the topic's metadata (the consumer's cache may be empty).
            partitions = await self._producer_started().partitions_for(self.topic)
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            ends = await consumer.end_offsets(tps)
            saved = {
                int(k): int(v)
                for k, v in (await self._redis.hgetall(f"{self._prefix}recovery")).items()
            }
            first_run = not saved and not await self._redis.exists(f"{self._prefix}cursor")
            pending = {}
            for tp in tps:
                start = ends[tp] if first_run else saved.get(tp.partition, 0)
                if start < ends[tp]:
                    consumer.seek(tp, start)
                    pending[tp] = ends[tp]
            found = await _headers_until(consumer, pending)
            if found:
                async with self._redis.pipeline(transaction=True) as pipe:
                    for dedup in found:
                        pipe.set(f"{self._prefix}seen:{dedup}", b"1", ex=self._seen_ttl_s)
                    await pipe.execute()
            # From here on, offsets past the ends are this run's own.
            await self._redis.hset(
                f"{self._prefix}recovery", mapping={str(tp.partition): ends[tp] for tp in tps}
            )
            log.info("connector %s recovered: %d comments found produced", self.name, len(found))
        finally:
            await consumer.stop()


async def _headers_until(
    consumer: AIOKafkaConsumer, pending: dict[TopicPartition, int]
) -> set[str]:
    found: set[str] = set()
    while pending:
        batches = await consumer.getmany(*pending, timeout_ms=1000)
        for messages in batches.values():
            for message in messages:
                for name, value in message.headers or ():
                    if name == DEDUP_HEADER:
                        found.add(value.decode())
        for tp in list(pending):
            if await consumer.position(tp) >= pending[tp]:
                del pending[tp]
    return found
