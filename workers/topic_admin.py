"""Creates the pipeline's topics with their partition counts and configs before workers start,
and deletes a test or bench namespace's topics when its run is over.

Relying on broker auto-creation would give every topic the broker's default partition count,
and a table's changelog must match its source topic's partitions exactly.

Deleting matters because every test and bench run gets a fresh namespace: left behind, one
day's runs made 8,625 partition directories (12 GB), and the broker then took longer to load
them at start than the local stack waited for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

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


async def missing_topics(settings: Settings, wanted: Iterable[specs.TopicSpec]) -> list[str]:
    """The (namespaced) names of ``wanted`` topics the cluster does not have."""
    admin = AIOKafkaAdminClient(**kafka_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
    finally:
        await admin.close()
    return [settings.topic(s.name) for s in wanted if settings.topic(s.name) not in existing]


async def ensure_topics(settings: Settings, extra: Iterable[NewTopic] = ()) -> list[str]:
    """Create any missing pipeline topic, and any of ``extra`` (a worker's table changelogs);
    returns the names it created."""
    admin = AIOKafkaAdminClient(**kafka_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        pipeline = [
            NewTopic(
                name=settings.topic(spec.name),
                num_partitions=spec.partitions or settings.partitions,
                replication_factor=settings.replication_factor,
                topic_configs=topic_configs(spec),
            )
            for spec in specs.ALL
        ]
        wanted = [t for t in [*pipeline, *extra] if t.name not in existing]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                log.info("topics created concurrently by another process")
        return [t.name for t in wanted]
    finally:
        await admin.close()


def changelog_topics(settings: Settings, tables: Iterable[Any]) -> list[NewTopic]:
    """The changelog topics of a Faust app's tables, as Faust would declare them (compacted,
    one partition per table partition)."""
    return [
        NewTopic(
            name=table.changelog_topic.get_topic_name(),
            num_partitions=table.partitions,
            replication_factor=settings.replication_factor,
            topic_configs={"cleanup.policy": "compact"},
        )
        for table in tables
    ]


def namespace_topics(names: Iterable[str], namespace: str) -> list[str]:
    """The topics that belong to ``namespace``: the pipeline's own (``<ns>.<topic>``) and
    Faust's changelog, repartition and ``__assignor`` topics (``<ns>.<app id>-...``), which
    share the prefix. The dot keeps ``run1`` from matching ``run12``'s topics."""
    if not namespace:
        # No namespace is production's layout: never select those topics for deletion.
        raise ValueError("refusing to select the topics of the empty namespace")
    prefix = f"{namespace}."
    return sorted(n for n in names if n.startswith(prefix))


async def delete_namespace_topics(settings: Settings, timeout_s: float = 30.0) -> list[str]:
    """Delete every topic of ``settings.namespace``; returns their names. Raises on failure
    (the caller decides whether that matters), and on a broker that does not answer within
    ``timeout_s`` rather than waiting on it."""
    namespace = settings.namespace
    namespace_topics((), namespace)  # refuses the empty namespace before connecting

    async def delete() -> list[str]:
        admin = AIOKafkaAdminClient(**kafka_options(settings), request_timeout_ms=20_000)
        await admin.start()
        try:
            doomed = namespace_topics(await admin.list_topics(), namespace)
            if doomed:
                response = await admin.delete_topics(doomed)
                # Errors come back per topic, not raised. 3 (unknown topic): already gone.
                failed = [row[0] for row in response.topic_error_codes if row[1] not in (0, 3)]
                if failed:
                    raise RuntimeError(f"{len(failed)} of {len(doomed)} topics not deleted")
            return doomed
        finally:
            await admin.close()

    return await asyncio.wait_for(delete(), timeout_s)
