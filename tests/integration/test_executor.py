"""The executor as operators run it: a process consuming ``actions`` from the real broker, with
its claims in the real Redis, killed and restarted, starved of Redis and given it back."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from schemas.action import Action, ActionResult, action_id
from schemas.deadletter import DeadLetter
from streams import topics as specs
from tests.integration.platform_run import forget_redis
from workers.dev.local_run import LocalPipeline, free_port
from workers.executor.executor import ActionState, RedisLedger
from workers.executor.platform_adapters import DRY_RUN_RECORD
from workers.metrics import Metrics
from workers.settings import Settings


def _action(n: int, *, due_at_ms: int | None = None, kind: str = "reply_ask_removal") -> Action:
    decision = f"decision-{n}"
    target = f"facebook:{1000 + n}"
    return Action(
        action_id=action_id(decision, kind, target),
        decision_id=decision,
        kind=kind,
        platform="facebook",
        target_author=f"author-{n % 7}",
        target_comment=target,
        reasons=("abusive",),
        evidence=(),
        behaviour=(),
        linked_evidence=(),
        policy_version="p" * 16,
        source=(f"comments.raw[0]@{n}",),
        due_at_ms=int(time.time() * 1000) if due_at_ms is None else due_at_ms,
        message="Please remove your comment.",
    )


def _messages(actions: list[Action]) -> list[tuple[bytes | None, bytes]]:
    return [(a.target_author.encode(), a.to_bytes()) for a in actions]


def _performed(pipeline: LocalPipeline) -> list[str]:
    path = pipeline.rundir / DRY_RUN_RECORD
    if not path.exists():
        return []
    return [orjson.loads(line)["action_id"] for line in path.read_bytes().splitlines()]


def _metric(pipeline: LocalPipeline, name: str, labels: str = "") -> float:
    port = pipeline.web_port + 100
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        body = response.read().decode()
    for line in body.splitlines():
        if line.startswith(name + labels + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def _until(
    check: Callable[[], bool], timeout_s: float, what: str, pipeline: LocalPipeline
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass  # the metrics endpoint is not up yet
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}:\n{pipeline.log_of('executor')[-3000:]}")


async def _reported(
    pipeline: LocalPipeline, ids: set[str], timeout_s: float = 60, settle_s: float = 1.5
) -> tuple[list[ActionResult], list[DeadLetter]]:
    """Results and dead letters until every id has a result, then ``settle_s`` more, so a
    second result for any of them would be seen too."""
    topics = {
        pipeline.topic(specs.ACTION_RESULTS.name): specs.ACTION_RESULTS.name,
        pipeline.topic(specs.DEADLETTER.name): specs.DEADLETTER.name,
    }
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=pipeline.settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    results: list[ActionResult] = []
    letters: list[DeadLetter] = []
    await consumer.start()
    try:
        deadline = time.monotonic() + timeout_s
        settled_at: float | None = None
        while time.monotonic() < (settled_at or deadline):
            for tp, records in (await consumer.getmany(timeout_ms=200)).items():
                for record in records:
                    if topics[tp.topic] == specs.DEADLETTER.name:
                        letters.append(DeadLetter.from_bytes(record.value or b""))
                    else:
                        results.append(ActionResult.from_bytes(record.value or b""))
            if settled_at is None and ids <= {r.action_id for r in results}:
                settled_at = time.monotonic() + settle_s
    finally:
        await consumer.stop()
    return results, letters


async def test_the_same_action_sent_twice_is_performed_once(pipeline: LocalPipeline) -> None:
    pipeline.start_executor()
    twice = _action(1)
    await pipeline.produce(specs.ACTIONS.name, _messages([twice, twice, _action(2)]))

    await _until(lambda: len(_performed(pipeline)) >= 2, 45, "two actions performed", pipeline)
    await _until(
        lambda: (
            _metric(
                pipeline,
                "modstream_actions_total",
                '{kind="reply_ask_removal",outcome="duplicate"}',
            )
            == 1
        ),
        10,
        "the duplicate metric",
        pipeline,
    )
    got = await pipeline.collect([specs.ACTION_RESULTS.name], until=10**9, idle_s=2, timeout_s=10)
    results = [ActionResult.from_bytes(v) for _, v in got[specs.ACTION_RESULTS.name]]

    assert Counter(_performed(pipeline)) == {twice.action_id: 1, _action(2).action_id: 1}
    assert Counter(r.action_id for r in results) == {twice.action_id: 1, _action(2).action_id: 1}
    assert {r.outcome for r in results} == {"done"}


async def test_kill_9_mid_stream_then_restart_performs_nothing_twice(
    pipeline: LocalPipeline,
) -> None:
    actions = [_action(n) for n in range(400)]
    ids = {a.action_id for a in actions}
    # The kill seldom lands between a claim and its platform call, so one action starts out
    # exactly as such a kill leaves it: claimed by an executor that is gone.
    cut_short = actions[200].action_id
    seeded = RedisLedger(pipeline.settings, Metrics.create())
    await seeded.claim(cut_short, ActionState("claimed", "killed-executor").encode())
    await seeded.close()
    await pipeline.produce(specs.ACTIONS.name, _messages(actions))
    pipeline.start_executor()
    await _until(lambda: len(_performed(pipeline)) >= 40, 45, "the first actions", pipeline)
    pipeline.kill("executor", signal.SIGKILL)
    at_kill = len(_performed(pipeline))
    assert at_kill < len(actions), "killed too late to test anything: produce more actions"

    pipeline.start_executor()
    results, letters = await _reported(pipeline, ids, timeout_s=60)

    performed = _performed(pipeline)
    assert len(performed) == len(set(performed)), "an action was performed twice"
    assert set(performed) <= ids
    reported = {r.action_id for r in results}
    assert reported == ids, f"{len(ids - reported)} actions never reported"
    # What the kill cut short is reported failed for a person, never silently redone.
    failed = [r for r in results if r.outcome == "failed"]
    assert all(r.detail.startswith("interrupted") for r in failed), failed
    assert cut_short in {r.action_id for r in failed} and cut_short not in performed
    assert len(failed) <= 3
    assert {dl.reason for dl in letters} <= {"action_failed"}
    assert len(letters) == len(failed)
    unperformed = ids - set(performed)
    assert unperformed <= {r.action_id for r in failed}


async def test_an_action_due_later_is_held_then_performed_once_when_due(
    pipeline: LocalPipeline,
) -> None:
    due = int(time.time() * 1000) + 6_000
    later, now = _action(1, due_at_ms=due), _action(2)
    pipeline.start_executor()
    await pipeline.produce(specs.ACTIONS.name, _messages([later, now]))

    await _until(lambda: now.action_id in _performed(pipeline), 45, "the due action", pipeline)
    # Held, and its offset committed: a restart now would not need the message again.
    assert await _committed(pipeline) == 2
    assert later.action_id not in _performed(pipeline)
    assert time.time() * 1000 < due, "the executor started too slowly for this test"

    results, _ = await _reported(pipeline, {later.action_id, now.action_id}, timeout_s=30)
    by_id = {r.action_id: r for r in results}
    assert by_id[later.action_id].outcome == "done"
    assert by_id[later.action_id].at_ms >= due
    assert Counter(_performed(pipeline)) == {now.action_id: 1, later.action_id: 1}


async def _committed(pipeline: LocalPipeline) -> int:
    topic = pipeline.topic(specs.ACTIONS.name)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=pipeline.settings.kafka_bootstrap,
        group_id=f"{pipeline.settings.group_id}.executor",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 10
        while True:
            total = 0
            for partition in range(pipeline.partitions):
                total += await consumer.committed(TopicPartition(topic, partition)) or 0
            if total >= 2 or time.monotonic() > deadline:
                return total
            await asyncio.sleep(0.2)
    finally:
        await consumer.stop()


# --- Redis going away -------------------------------------------------------------------------


class PrivateRedis:
    """A Redis of this test's own, so stopping it disturbs nobody. AOF with fsync on every
    write, as the executor's claims need in production."""

    def __init__(self, binary: str, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._argv = [
            binary,
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(directory)),
            *("--save", "", "--appendonly", "yes", "--appendfsync", "always"),
        ]
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._proc = subprocess.Popen(
            self._argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the private redis did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(sig)
            self._proc.wait(timeout=10)


@pytest.fixture
async def private_redis(tmp_path: Path) -> AsyncIterator[tuple[LocalPipeline, PrivateRedis]]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server not found: the local stack needs it (deploy/local/stack)")
    redis = PrivateRedis(binary, tmp_path)
    redis.start()
    run = LocalPipeline(extra_env={"MODSTREAM_REDIS_URL": redis.url})
    try:
        await run.create_topics()
        yield run, redis
    finally:
        await run.close()
        redis.stop(signal.SIGKILL)


async def test_without_redis_the_executor_pauses_and_resumes_without_doubling(
    private_redis: tuple[LocalPipeline, PrivateRedis],
) -> None:
    pipeline, redis = private_redis
    first = [_action(n) for n in range(30)]
    second = [_action(n) for n in range(30, 60)]
    pipeline.start_executor()
    await pipeline.produce(specs.ACTIONS.name, _messages(first))
    await _until(lambda: len(_performed(pipeline)) == 30, 45, "the first batch", pipeline)

    redis.stop()
    await pipeline.produce(specs.ACTIONS.name, _messages(second + first[:5]))
    await _until(
        lambda: _metric(pipeline, "modstream_executor_paused") == 1, 20, "the pause", pipeline
    )
    await asyncio.sleep(1)
    assert len(_performed(pipeline)) == 30, "performed an action without a claim"
    assert pipeline.log_of("executor").count("Redis unreachable") == 1

    redis.start()
    results, _ = await _reported(pipeline, {a.action_id for a in first + second}, timeout_s=45)
    assert {r.action_id for r in results} == {a.action_id for a in first + second}
    performed = _performed(pipeline)
    assert len(performed) == 60 and len(set(performed)) == 60
    await _until(
        lambda: _metric(pipeline, "modstream_executor_paused") == 0, 10, "the resume", pipeline
    )


# --- the Redis ledger's contract against the real Redis ---------------------------------------


@pytest.fixture
async def ledger() -> AsyncIterator[RedisLedger]:
    settings = Settings(namespace=f"ledger{os.getpid()}{time.monotonic_ns()}")
    real = RedisLedger(settings, Metrics.create())
    try:
        yield real
    finally:
        await real.close()
        await forget_redis(settings)


async def test_the_claim_is_set_once_and_the_swap_is_compare_and_set(ledger: RedisLedger) -> None:
    claimed = ActionState("claimed", "one").encode()
    assert await ledger.claim("a1", claimed)
    assert not await ledger.claim("a1", ActionState("claimed", "two").encode())
    performed = ActionState("performed", "one", "done", "", 5).encode()
    assert not await ledger.swap("a1", b"something else", performed)
    assert await ledger.swap("a1", claimed, performed)
    assert await ledger.swap("a1", claimed, performed), "a retried swap still succeeds"
    assert await ledger.get("a1") == performed


async def test_held_actions_come_back_when_due_and_once_released(ledger: RedisLedger) -> None:
    assert await ledger.hold("late", 2_000, b"L")
    assert await ledger.hold("early", 1_000, b"E")
    assert not await ledger.hold("early", 1_500, b"X"), "held once"
    assert await ledger.due(999, 10) == []
    assert await ledger.due(1_999, 10) == [("early", b"E")]
    assert await ledger.due(5_000, 10) == [("early", b"E"), ("late", b"L")]
    await ledger.release("early")
    assert await ledger.due(5_000, 10) == [("late", b"L")]
    assert await ledger.held_count() == 1
    await ledger.release("late")


async def test_an_owner_is_alive_while_its_heartbeat_lasts(ledger: RedisLedger) -> None:
    assert not await ledger.owner_alive("o1")
    await ledger.heartbeat("o1")
    assert await ledger.owner_alive("o1")
    await ledger.retire("o1")
    assert not await ledger.owner_alive("o1")
