"""Reads a one-partition topic back up to the worker group's committed offset: the linking
stage's graph (``identity.signals``) and the side branches' in-memory indexes (the band index
and the linking index, both on ``comments.side``) are folds over their
topic, rebuilt from it whenever a worker takes the partition."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams import topics as specs
from workers.kafka_clients import kafka_options
from workers.settings import Settings

HISTORY_BATCH = 5000


async def topic_history(settings: Settings, spec: specs.TopicSpec) -> list[tuple[bytes, int]]:
    """Every retained record of ``spec``'s one partition before the worker group's committed
    offset, as (value, record timestamp ms), oldest first: exactly those already folded by an
    earlier holder, so none is counted twice or missed (the consumer resumes at that offset)."""
    topic = settings.topic(spec.name)
    tp = TopicPartition(topic, 0)
    admin = AIOKafkaAdminClient(**kafka_options(settings))
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(settings.group_id, partitions=[tp])
    finally:
        await admin.close()
    committed = offsets.get(tp)
    stop = committed.offset if committed is not None and committed.offset >= 0 else 0
    if stop == 0:
        return []
    consumer = AIOKafkaConsumer(**kafka_options(settings), enable_auto_commit=False)
    await consumer.start()
    out: list[tuple[bytes, int]] = []
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        while await consumer.position(tp) < stop:
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=HISTORY_BATCH)
            for msg in batch.get(tp, []):
                if msg.offset >= stop:
                    break
                out.append((msg.value or b"", msg.timestamp))
        return out
    finally:
        await consumer.stop()


async def signal_history(settings: Settings) -> list[bytes]:
    """Every signal before the worker group's committed offset, for the identity graph."""
    return [value for value, _ in await topic_history(settings, specs.IDENTITY_SIGNALS)]


async def override_history(settings: Settings) -> list[bytes]:
    """Every reviewer's split or merge before the committed offset, for the identity graph."""
    history = await topic_history(settings, specs.IDENTITY_OVERRIDES)
    return [value for value, _ in history if value]  # a compacted topic may hold tombstones
