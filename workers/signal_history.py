"""Reads identity.signals back for the linking stage's rebuild of its graph."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams import topics as specs
from workers.kafka_clients import kafka_options
from workers.settings import Settings


async def signal_history(settings: Settings) -> list[bytes]:
    """Every signal before the worker group's committed offset: exactly those already folded
    into the graph by an earlier holder, so none is counted twice or missed."""
    topic = settings.topic(specs.IDENTITY_SIGNALS.name)
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
    out: list[bytes] = []
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        while await consumer.position(tp) < stop:
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=5000)
            for msg in batch.get(tp, []):
                if msg.offset >= stop:
                    break
                out.append(msg.value or b"")
        return out
    finally:
        await consumer.stop()
