"""A finished run deletes its namespace's topics from the shared broker (Faust's changelog and
assignor topics included), touches no other namespace's, and keeps them when asked to."""

from __future__ import annotations

import asyncio
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from workers.dev.local_run import LocalPipeline
from workers.kafka_clients import kafka_options
from workers.settings import Settings
from workers.topic_admin import delete_namespace_topics, namespace_topics


async def topics_of(settings: Settings, namespace: str) -> list[str]:
    admin = AIOKafkaAdminClient(**kafka_options(settings))
    await admin.start()
    try:
        return namespace_topics(await admin.list_topics(), namespace)
    finally:
        await admin.close()


async def until_gone(settings: Settings, namespace: str, timeout_s: float = 30.0) -> list[str]:
    """The namespace's topics once none are listed, or what is still listed at the timeout:
    deletion is asynchronous in the broker, so a listing right after it may lag."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = await topics_of(settings, namespace)
        if not left or time.monotonic() > deadline:
            return left
        await asyncio.sleep(0.5)


async def test_close_deletes_the_namespace_topics_faust_ones_included() -> None:
    run = LocalPipeline(extra_env={"MODSTREAM_WALL_CLOCK_TIMERS": "false"}, partitions=2)
    # A neighbour whose name starts with ours: must survive our cleanup.
    neighbour = LocalPipeline(namespace=f"{run.namespace}0", partitions=1)
    await run.create_topics()
    admin = AIOKafkaAdminClient(**kafka_options(run.settings))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(neighbour.topic("kept"), 1, 1)])
    finally:
        await admin.close()
    try:
        run.start_worker()
        await run.wait_ready(timeout_s=120)
        before = await topics_of(run.settings, run.namespace)
        await run.close()
        left = await until_gone(run.settings, run.namespace)
        survivors = await topics_of(neighbour.settings, neighbour.namespace)
    finally:
        run.stop()
        await neighbour.close()
    faust_made = [t for t in before if "-changelog" in t or "__assignor" in t]
    print(f"\n[cleanup] {len(before)} topics ({len(faust_made)} made by Faust); left {len(left)}")
    assert faust_made, "the worker made no changelog or assignor topic: nothing Faust's checked"
    assert left == []
    assert survivors == [neighbour.topic("kept")]


async def test_keep_topics_leaves_them_for_inspection() -> None:
    run = LocalPipeline(extra_env={"MODSTREAM_KEEP_TOPICS": "1"}, partitions=1)
    await run.create_topics()
    created = await topics_of(run.settings, run.namespace)
    await run.close()
    try:
        assert await topics_of(run.settings, run.namespace) == created
        assert created
    finally:
        await delete_namespace_topics(run.settings)
