"""The worker's runtime edges, through the real broker: every input is answered whatever its
size, and a worker never runs deaf when its topics are missing at start."""

from __future__ import annotations

import asyncio
import hashlib

import orjson

from bench.input_mix import sized
from schemas.action import TRIGGER_COMMENT, Decision
from schemas.deadletter import ORIGINAL_PREFIX_BYTES, DeadLetter
from streams import topics as specs
from tests.integration.envelopes import T0_MS, facebook
from workers.dev.local_run import LocalPipeline
from workers.processes.worker import EXIT_MISSING_TOPICS

# The broker's default message.max.bytes is 1 MiB plus a little; a produce request carries the
# record batch's own overhead, so the largest input a plain client can send is a bit under.
BROKER_LIMIT = 1024 * 1024 - 1024


def sized_comment(number: int, size: int) -> tuple[bytes, bytes]:
    """A well-formed Facebook comment of exactly ``size`` bytes."""
    key, value = facebook("7001", "Sized Author", number, "", T0_MS + number * 60_000)
    return key, sized(orjson.loads(value), size)


async def test_every_input_gets_exactly_one_answer_whatever_its_size(fresh: LocalPipeline) -> None:
    limit = fresh.settings.max_payload_bytes
    inputs = [
        (b"k", b"{"),  # 1 byte
        sized_comment(1, limit),  # at the pipeline's limit: decided
        sized_comment(2, limit + 1),  # just over: oversize
        sized_comment(3, BROKER_LIMIT),  # at the broker's: oversize, and its letter fits
    ]
    await fresh.create_topics()
    fresh.start_worker()
    await fresh.wait_ready()
    await fresh.produce(specs.RAW.name, inputs)
    outcomes = await fresh.collect_outcomes(len(inputs), timeout_s=120)
    # Give a second answer time to show up, were there one.
    await asyncio.sleep(3)
    got = await fresh.collect([specs.DECISIONS.name, specs.DEADLETTER.name], until=10**9, idle_s=3)
    decisions = [Decision.from_bytes(v) for _, v in got[specs.DECISIONS.name]]
    own = [d for d in decisions if d.trigger == TRIGGER_COMMENT]
    letters = [DeadLetter.from_bytes(v) for _, v in got[specs.DEADLETTER.name]]

    assert [d.comment_id for d in own] == [d.comment_id for d in outcomes.decisions]
    assert [d.comment_id for d in own] == ["facebook:1000200030004000_1"]
    assert sorted(x.reason for x in letters) == ["invalid_json", "oversize", "oversize"]
    answered = {d.source for d in own} | {x.source for x in letters}
    assert len(answered) == len(own) + len(letters) == len(inputs)  # one each, none twice
    for letter in letters:
        original = next(v for _, v in inputs if len(v) == letter.original_length)
        assert letter.original_sha256 == hashlib.sha256(original).hexdigest()
        assert letter.original() == original[:ORIGINAL_PREFIX_BYTES]
    assert fresh.processes["worker"].poll() is None, "the worker stayed up"


async def test_a_worker_refuses_to_start_without_its_topics(fresh: LocalPipeline) -> None:
    fresh.start("worker", "workers.processes.worker", env={"MODSTREAM_CREATE_TOPICS": "false"})
    process = fresh.processes["worker"]
    await asyncio.to_thread(process.wait, 60)
    assert process.returncode == EXIT_MISSING_TOPICS
    log = fresh.log_of("worker")
    assert "refusing to start" in log and fresh.topic(specs.RAW.name) in log


async def test_a_worker_started_before_its_topics_creates_them_and_answers(
    fresh: LocalPipeline,
) -> None:
    fresh.start_worker()  # dev mode: MODSTREAM_CREATE_TOPICS defaults to on
    await fresh.wait_ready()  # /readyz: every input topic assigned
    # The tables' changelogs too, before Faust joins the group
    # (workers.processes.worker.check_topics).
    log = fresh.log_of("worker").splitlines()
    created = next(line for line in log if "missing topics:" in line)
    assert fresh.topic(specs.RAW.name) in created
    assert f"{fresh.topic('modstream-enforcement')}-changelog" in created, created
    await fresh.produce(specs.RAW.name, [sized_comment(1, 400)])
    outcomes = await fresh.collect_outcomes(1, timeout_s=60)
    assert [d.comment_id for d in outcomes.decisions] == ["facebook:1000200030004000_1"]
