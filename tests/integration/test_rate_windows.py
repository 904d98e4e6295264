"""Rate windows through the real broker: a flood, a repeated message, a copy-paste campaign
across five accounts and a burst of abuse each produce their behaviour; an ordinary author in
the same stream produces none. And a worker killed mid-stream resumes with the same counts."""

from __future__ import annotations

import asyncio
import signal
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import replace

import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from schemas.action import Action
from schemas.verdict import Verdict
from streams import topics as specs
from streams.rate_windows.logic import AuthorWindows, Position
from tests.integration.envelopes import T0_MS, facebook
from workers.dev.local_run import LocalPipeline

MIN = 60_000
ORDINARY = [
    "What time does the minor injuries unit close on Saturdays please?",
    "Thank you to the midwives at the Royal Glamorgan, they were brilliant with us.",
    "Is the blood test clinic in Pontypridd still walk-in or do I need to book now?",
]
CAMPAIGN = "The board is hiding the truth about the ward closures, share this before they delete it"


def _stream() -> list[tuple[bytes, bytes]]:
    msgs: list[tuple[int, tuple[bytes, bytes]]] = []
    n = 0

    def add(account: str, name: str, text: str, at: int) -> None:
        nonlocal n
        n += 1
        msgs.append((at, facebook(account, name, n, text, at)))

    for i in range(20):  # flood: 20 different posts in ten minutes
        add(
            "1001",
            "Flood Author",
            f"question number {i} about parking at the hospital site",
            T0_MS + i * 25_000,
        )
    for i in range(4):  # the same message again and again
        add(
            "1002",
            "Repeat Author",
            "Buy cheap vitamins at our shop, best prices in the valleys",
            T0_MS + i * MIN,
        )
    for i in range(5):  # five accounts, one text, five minutes
        add(f"20{i}", f"Truth Teller {i}", CAMPAIGN + ("!" * i), T0_MS + 2 * MIN + i * MIN)
    for i in range(3):  # abuse three times in an hour
        add("1003", "Angry Author", f"you useless fucking idiots number {i}", T0_MS + i * 10 * MIN)
    for i, text in enumerate(ORDINARY):
        add("1004", "Ordinary Author", text, T0_MS + i * 7 * MIN)
    return [m for _, m in sorted(msgs, key=lambda x: x[0])]


# The assessed verdicts are off the hot path (one hop); this test reads them, so turns them on.
AUDIT_ENV = {"MODSTREAM_WALL_CLOCK_TIMERS": "false", "MODSTREAM_EMIT_ASSESSED": "true"}


@pytest.fixture
async def pipeline() -> AsyncIterator[LocalPipeline]:
    run = LocalPipeline(extra_env=AUDIT_ENV)
    await run.create_topics()
    try:
        yield run
    finally:
        await run.close()


async def test_each_behaviour_is_found_and_an_ordinary_author_is_left_alone(
    pipeline: LocalPipeline,
) -> None:
    feed = _stream()
    pipeline.start_worker()
    await pipeline.wait_ready()
    await pipeline.produce(specs.RAW.name, feed)
    got = await pipeline.collect([specs.ASSESSED.name], until=len(feed))
    verdicts = [Verdict.from_bytes(v) for _, v in got[specs.ASSESSED.name]]
    assert len(verdicts) == len(feed)
    kinds_by_name: dict[str, set[str]] = defaultdict(set)
    for v in verdicts:
        kinds_by_name[v.comment.author_name].update(b.kind for b in v.behaviour)

    assert "flooding" in kinds_by_name["Flood Author"]
    assert "spamming" in kinds_by_name["Repeat Author"]
    assert "frequent_inflammatory" in kinds_by_name["Angry Author"]
    assert kinds_by_name["Ordinary Author"] == set()

    actions_got = await pipeline.collect([specs.ACTIONS.name], until=10**9, idle_s=4)
    actions = [Action.from_bytes(v) for _, v in actions_got[specs.ACTIONS.name]]
    angry = {v.comment.author_key for v in verdicts if v.comment.author_name == "Angry Author"}
    assert any(a.kind == "block_account" and a.target_author in angry for a in actions)
    campaign_authors = {
        v.comment.author_key for v in verdicts if v.comment.author_name.startswith("Truth Teller")
    }
    hidden_for_campaign = {
        a.target_author
        for a in actions
        if a.kind == "hide_post" and any(b.kind == "cross_author_spamming" for b in a.behaviour)
    }
    assert hidden_for_campaign == campaign_authors
    ordinary = {
        v.comment.author_key for v in verdicts if v.comment.author_name == "Ordinary Author"
    }
    assert not [a for a in actions if a.target_author in ordinary]


async def _final_windows(run: LocalPipeline) -> dict[bytes, AuthorWindows]:
    changelog = f"{run.settings.group_id}-rate-windows-changelog"
    consumer = AIOKafkaConsumer(
        changelog, bootstrap_servers=run.settings.kafka_bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    latest: dict[bytes, AuthorWindows] = {}
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=2000)
            if not batch:
                break
            for msgs in batch.values():
                for m in msgs:
                    if m.key is not None and m.value is not None:
                        latest[m.key] = AuthorWindows.from_dict(orjson.loads(m.value))
    finally:
        await consumer.stop()
    return latest


async def _run_to_end(
    feed: list[tuple[bytes, bytes]], *, kill_after: int | None
) -> dict[bytes, AuthorWindows]:
    run = LocalPipeline(extra_env=AUDIT_ENV)
    await run.create_topics()
    try:
        run.start_worker()
        await run.wait_ready()
        if kill_after is None:
            await run.produce(specs.RAW.name, feed)
        else:
            await run.produce(specs.RAW.name, feed[:kill_after])
            await run.collect([specs.ASSESSED.name], until=kill_after // 2, timeout_s=60)
            run.kill("worker", signal.SIGKILL)  # mid-stream: some of the first part unprocessed
            await run.produce(specs.RAW.name, feed[kill_after:])
            run.start_worker()
            await run.wait_ready(timeout_s=120)
        await run.collect([specs.ASSESSED.name], until=len(feed), timeout_s=120)
        await asyncio.sleep(2)  # the table's last changelog writes
        return await _final_windows(run)
    finally:
        run.stop()


async def test_a_killed_worker_resumes_with_the_counts_of_an_uninterrupted_run() -> None:
    feed = _stream() * 1  # 35 comments from 9 authors
    uninterrupted = await _run_to_end(feed, kill_after=None)
    interrupted = await _run_to_end(feed, kill_after=20)
    assert uninterrupted, "no window state was written"
    assert _unnamespaced(interrupted) == _unnamespaced(uninterrupted)


def _unnamespaced(states: dict[bytes, AuthorWindows]) -> dict[bytes, AuthorWindows]:
    # Each run reads its own "<namespace>.comments.raw": the offsets must agree, not the names.
    def strip(position: Position | None) -> Position | None:
        return position and Position(position.partition.split(".", 1)[1], position.offset)

    return {k: replace(s, counted_to=strip(s.counted_to)) for k, s in states.items()}
