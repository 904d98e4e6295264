"""Creates the pipeline's topics with their partition counts and configs before workers start.

Relying on broker auto-creation would give every topic the broker's default partition count,
and a table's changelog must match its source topic's partitions exactly.
"""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from streams import topics as specs
from workers.kafka_clients import kafka_options
from workers.settings import Settings

log = logging.getLogger(__name__)


def topic_configs(spec: specs.TopicSpec) -> dict[str, str]:
    config: dict[str, str] = {}
    if spec.compacted:
        config["cleanup.policy"] = "compact"
    if spec.retention_ms is not None:
        config["retention.ms"] = str(spec.retention_ms)
    return config


async def ensure_topics(settings: Settings) -> list[str]:
    """Create any missing pipeline topic; returns the names it created."""
    admin = AIOKafkaAdminClient(**kafka_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name=settings.topic(spec.name),
                num_partitions=spec.partitions or settings.partitions,
                replication_factor=settings.replication_factor,
                topic_configs=topic_configs(spec),
            )
            for spec in specs.ALL
            if settings.topic(spec.name) not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                log.info("topics created concurrently by another process")
        return [t.name for t in wanted]
    finally:
        await admin.close()
