"""Connector faults through the real broker: killed with -9 mid-poll and restarted, it loses
no comment and produces none twice (counted by comment id); a 429's Retry-After is waited out."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator

import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from streams import topics as specs
from tests.fake_platform import FakePlatform
from tests.fake_platform.shapes import x_tweet
from tests.integration.platform_run import start_connector
from workers.dev.local_run import LocalPipeline
from workers.kafka_clients import kafka_options

ROUNDS = 3
PER_ROUND = 2000


@pytest.fixture
async def fake() -> AsyncIterator[FakePlatform]:
    """The shared fake, with big pages and no X rate limit: thousands of mentions per round."""
    platform = FakePlatform(page_size=100, x_rate_remaining=10**6)
    await platform.start()
    yield platform
    await platform.stop()


def _add_mentions(fake: FakePlatform, start: int, count: int) -> None:
    fake.x_users.setdefault("42", {"id": "42", "name": "Rhys", "username": "rhys"})
    new = [x_tweet(str(1_800_000_000_000_000_000 + n), "42") for n in range(start, start + count)]
    fake.x_mentions = sorted(new + fake.x_mentions, key=lambda t: int(t["id"]), reverse=True)


async def _raw_ids(run: LocalPipeline) -> Counter[str]:
    got = await run.collect([specs.RAW.name], until=10**9, timeout_s=30, idle_s=4)
    return Counter(orjson.loads(v)["payload"]["data"]["id"] for _, v in got[specs.RAW.name])


async def _first_new_record(run: LocalPipeline, seen: int, timeout_s: float = 60.0) -> None:
    """Return as soon as ``comments.raw`` holds more than ``seen`` records."""
    consumer = AIOKafkaConsumer(
        run.topic(specs.RAW.name),
        **kafka_options(run.settings),
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        count = 0
        deadline = asyncio.get_running_loop().time() + timeout_s
        while count <= seen and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=20)
            count += sum(len(m) for m in batches.values())
    finally:
        await consumer.stop()


async def test_kill_9_mid_poll_loses_nothing_and_repeats_nothing(
    platform_pipeline: LocalPipeline, fake: FakePlatform
) -> None:
    """Each round, new comments arrive and the connector is killed the moment the first of
    them reaches the broker: mid-publish, with some produced and their marks and cursor not
    yet written. The restart must find those on the topic and not produce them again."""
    produced = 0
    for round_no in range(ROUNDS):
        _add_mentions(fake, round_no * PER_ROUND, PER_ROUND)
        proc = start_connector(platform_pipeline, "x", log_name=f"connect-x-{round_no}")
        await _first_new_record(platform_pipeline, produced)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        platform_pipeline.processes.pop(f"connect-x-{round_no}")
        produced = sum((await _raw_ids(platform_pipeline)).values())
    start_connector(platform_pipeline, "x", log_name="connect-x-last")
    total = ROUNDS * PER_ROUND
    deadline = asyncio.get_running_loop().time() + 120
    ids = await _raw_ids(platform_pipeline)
    while len(ids) < total and asyncio.get_running_loop().time() < deadline:
        ids = await _raw_ids(platform_pipeline)
    assert len(ids) == total, f"{total - len(ids)} comments lost"
    repeated = {i: n for i, n in ids.items() if n > 1}
    assert not repeated, f"{len(repeated)} comments produced more than once"
    # The kills fell after some records reached the broker and before they were marked:
    # the restarts found them there (otherwise this test would not test the crash window).
    found = [
        int(line.split("recovered: ")[1].split()[0])
        for n in [*range(1, ROUNDS), "last"]
        for line in platform_pipeline.log_of(f"connect-x-{n}").splitlines()
        if "recovered: " in line
    ]
    assert sum(found) > 0, found


async def test_a_429_retry_after_is_waited_out(
    platform_pipeline: LocalPipeline, fake: FakePlatform
) -> None:
    _add_mentions(fake, 0, 3)
    fake.fail("GET", "/mentions$", 429, headers={"Retry-After": "3"})
    start_connector(platform_pipeline, "x")
    deadline = asyncio.get_running_loop().time() + 60
    ids = await _raw_ids(platform_pipeline)
    while len(ids) < 3 and asyncio.get_running_loop().time() < deadline:
        ids = await _raw_ids(platform_pipeline)
    assert sorted(ids.values()) == [1, 1, 1]
    mentions = fake.requests("GET", "/mentions$")
    assert mentions[1].at - mentions[0].at >= 3.0
    assert mentions[1].at - mentions[0].at < 10.0
