"""Faults while comments flow: a worker killed with SIGKILL again and again, the Kafka broker
restarted, Redis gone for 30 s, a storm of malformed input. After each, every input has
exactly one outcome and no action carries two different contents under one id.

Decisions go to a compacted topic keyed by decision id, and at-least-once processing may
write one twice after a crash: downstream deduplicates by decision id. So the check per
comment is one *distinct* decision id (and each extra record of it is counted and printed,
as "duplicate records"), never two different decisions.

The broker restart and the Redis outage run against a private stack (its own broker and
Redis on free ports, in its own directory), so they do not disturb other suites using the
shared one. Each test prints its figures: inputs, decisions, duplicate records, lost.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import subprocess
import time
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.answers import Message, Outcomes, read_back, send, wait_answered
from bench.bench_pipeline import end_offsets
from schemas.action import Action, ActionResult
from streams import topics as specs
from workers.dev.local_run import LocalPipeline, free_ports
from workers.dev.sample_feed import sample_envelopes
from workers.executor.platform_adapters import DRY_RUN_RECORD
from workers.kafka_clients import kafka_options
from workers.settings import REPO_ROOT

STACK = REPO_ROOT / "deploy" / "local" / "stack"
SEED = 20_260_310

pytestmark = pytest.mark.timeout(600)

# A SIGKILLed member stays in the group until its session times out, and the restarted
# worker's rebalance waits for that: the worker's own settings keep it short
# (MODSTREAM_SESSION_TIMEOUT_MS, docs/operations.md "Recovery after a crash").
BASE_ENV = {"MODSTREAM_WALL_CLOCK_TIMERS": "false"}


# --- reading and checking -------------------------------------------------------------------


async def until_decided(
    run: LocalPipeline, sources: set[str], *, timeout_s: float, settle_s: float = 3.0
) -> Outcomes:
    """Read back until every input source has an outcome, then once more after ``settle_s``
    so late duplicates are counted too; fail, with the processes' logs, at the timeout."""
    got = await wait_answered(run, sources, timeout_s=timeout_s, settle_s=settle_s)
    missing = len(sources - got.decided_sources())
    if missing:
        logs = "\n".join(run.log_of(n)[-2000:] for n in ("worker", "executor"))
        raise AssertionError(f"{missing} of {len(sources)} inputs undecided:\n{logs}")
    return got


def check_exactly_once(got: Outcomes, good: set[str], bad: set[str], title: str) -> list[str]:
    """One distinct decision per good input, one dead letter per bad one, none for anything
    else. Prints the figures; returns the action ids that were emitted with two different
    contents (the caller decides what that means for its fault)."""
    ids_by_source: dict[str, set[str]] = defaultdict(set)
    ids_by_comment: dict[str, set[str]] = defaultdict(set)
    decision_contents: dict[str, set[bytes]] = defaultdict(set)
    for d in got.answering():
        ids_by_source[d.source].add(d.decision_id)
        ids_by_comment[d.comment_id].add(d.decision_id)
        decision_contents[d.decision_id].add(d.to_bytes())
    letters_by_source = Counter(dl.source for dl in got.letters)
    action_contents: dict[str, set[bytes]] = defaultdict(set)
    for raw_action in got.actions:
        action_contents[Action.from_bytes(raw_action).action_id].add(raw_action)
    changed_actions = sorted(a for a, c in action_contents.items() if len(c) > 1)
    changed_decisions = sum(1 for c in decision_contents.values() if len(c) > 1)

    records = len(got.answering())
    distinct = sum(len(ids) for ids in ids_by_source.values())
    lost = (good - set(ids_by_source)) | (bad - set(letters_by_source))
    print(
        f"\n[{title}] inputs {len(good) + len(bad)} (malformed {len(bad)}); decisions "
        f"{distinct} distinct, {records} records ({records - distinct} duplicate records, "
        f"{changed_decisions} ids re-emitted with other content); dead letters "
        f"{len(got.letters)}; actions {len(action_contents)} distinct, {len(got.actions)} "
        f"records ({len(changed_actions)} ids with two contents); lost {len(lost)}"
    )
    assert not lost, f"{len(lost)} inputs without an outcome, e.g. {sorted(lost)[:3]}"
    assert set(ids_by_source) == good, "a decision answers something that was not a good input"
    assert set(letters_by_source) >= bad
    assert not set(letters_by_source) & good, "a good input was dead-lettered"
    split = {c: ids for c, ids in ids_by_comment.items() if len(ids) > 1}
    assert not split, f"{len(split)} comments with two different decisions: {list(split)[:3]}"
    return changed_actions


def assert_one_content_per_action(got: Outcomes, changed: list[str]) -> None:
    if not changed:
        return
    first = [
        Action.from_bytes(a) for a in got.actions if Action.from_bytes(a).action_id == changed[0]
    ]
    fields = [
        f for f in Action.__dataclass_fields__ if getattr(first[0], f) != getattr(first[1], f)
    ]
    raise AssertionError(
        f"{len(changed)} action ids emitted with two different contents; the first "
        f"({first[0].kind}) differs in {fields}"
    )


def assert_one_content_per_decision(got: Outcomes) -> None:
    contents: dict[str, set[bytes]] = defaultdict(set)
    for d in got.decisions:
        contents[d.decision_id].add(d.to_bytes())
    changed = sorted(i for i, c in contents.items() if len(c) > 1)
    assert not changed, f"{len(changed)} decision ids emitted with two different contents"


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")


async def _at_least(count: Awaitable[int], n: int) -> bool:
    return await count >= n


async def _count(items: Awaitable[Sequence[object]]) -> int:
    return len(await items)


async def decisions_written(run: LocalPipeline) -> int:
    """How many records the decisions topic holds (its end offsets, summed)."""
    ends = await end_offsets(run.settings, run.topic(specs.DECISIONS.name))
    return sum(ends.values())


async def first_new_decision(run: LocalPipeline, before: int, since: float) -> float:
    """Seconds from ``since`` (a restart) to the first decision written after it: how long a
    crash stops moderation. The killed worker writes nothing more, so any growth is new."""
    while True:
        if await decisions_written(run) > before:
            return time.monotonic() - since
        await asyncio.sleep(0.25)


# --- 1. SIGKILL, again and again --------------------------------------------------------------


@pytest.fixture
async def run() -> AsyncIterator[LocalPipeline]:
    pipeline = LocalPipeline(extra_env=BASE_ENV)
    await pipeline.create_topics()
    try:
        yield pipeline
    finally:
        pipeline.stop()


async def test_worker_killed_three_times_mid_stream_decides_every_input_once(
    run: LocalPipeline,
) -> None:
    # The kill points are seeded; MODSTREAM_FAULT_SEED moves them (the feed stays the same).
    kill_seed = int(os.environ.get("MODSTREAM_FAULT_SEED", SEED))
    rng = random.Random(kill_seed)
    feed: list[Message] = list(sample_envelopes(900, seed=SEED))
    chunks = [feed[i : i + 60] for i in range(0, len(feed), 60)]
    # Seeded kill points: after these chunks, plus a seeded fraction of a second. Chunks
    # arrive faster than one worker decides them, so every kill lands with work in flight.
    kill_after = sorted(rng.sample(range(1, len(chunks) - 1), 3))
    run.start_worker()
    await run.wait_ready()
    sources: list[str] = []
    kills = 0
    recoveries: list[asyncio.Task[float]] = []
    for i, chunk in enumerate(chunks):
        sources += await send(run, chunk)
        await asyncio.sleep(0.3)
        if i in kill_after:
            await asyncio.sleep(rng.uniform(0.0, 1.5))
            run.kill("worker", signal.SIGKILL)
            kills += 1
            before = await decisions_written(run)
            restarted = time.monotonic()
            run.start_worker()
            first_new = asyncio.create_task(first_new_decision(run, before, restarted))
            await run.wait_ready(timeout_s=120)
            recoveries.append(first_new)
    assert kills == 3
    recovery_s = [await asyncio.wait_for(task, 240) for task in recoveries]
    print(
        f"\n[kill -9 x{kills}] seed {kill_seed}: killed after chunks {kill_after} of "
        f"{len(chunks)} (60 each); restart to first new decision: "
        + ", ".join(f"{s:.1f}s" for s in recovery_s)
    )

    got = await until_decided(run, set(sources), timeout_s=240)
    # A redelivered input meets state that already holds it and what came after it; the
    # stages answer it as the first time (docs/benchmarks.md, "Fault tolerance"), so every
    # re-emitted record is a byte-identical duplicate.
    title = f"kill -9 x{kills}"
    assert_one_content_per_action(got, check_exactly_once(got, set(sources), set(), title))
    assert_one_content_per_decision(got)


# --- 4. a poison-pill storm -----------------------------------------------------------------


def poison(rng: random.Random, good: Sequence[Message]) -> list[Message]:
    """Malformed raw messages of every kind a connector or an attacker could send."""
    key, value = good[0]
    envelope = orjson.loads(value)
    missing = orjson.loads(value)
    missing["payload"] = {k: v for k, v in missing["payload"].items() if k != "from"}
    wrong_type = orjson.loads(value)
    wrong_type["payload"]["created_time"] = 12
    nested: object = {}
    for _ in range(200):
        nested = {"a": nested}
    kinds: list[Message] = [
        (key, value[: rng.randrange(5, len(value) - 5)]),  # cut off
        (key, value.replace(b"{", b"{\xff\xfe", 1)),  # not UTF-8
        (key, b""),  # empty
        (None, b"null"),  # JSON, not an object, and no key
        (key, orjson.dumps([envelope])),  # an array
        (b"tiktok:1", orjson.dumps({"platform": "tiktok", "payload": {"id": "1"}})),
        (key, orjson.dumps(missing)),
        (key, orjson.dumps(wrong_type)),
        (key, orjson.dumps({"platform": "facebook", "payload": nested})),
        (key, bytes(rng.randrange(256) for _ in range(300))),  # noise
        (key, b'{"platform": "facebook", "payload": ' + b"[" * 5000),  # deep, truncated
        (key, value + b" trailing"),
    ]
    return [kinds[i % len(kinds)] for i in range(len(kinds) * 4 + 2)]


async def test_a_poison_pill_storm_is_dead_lettered_and_every_good_input_decided(
    run: LocalPipeline,
) -> None:
    rng = random.Random(SEED + 4)
    good: list[Message] = list(sample_envelopes(450, seed=SEED + 4))
    bad = poison(rng, good)  # 50: one message in ten
    mixed = [(m, True) for m in good] + [(m, False) for m in bad]
    rng.shuffle(mixed)
    run.start_worker()
    await run.wait_ready()
    sources = await send(run, [m for m, _ in mixed])
    good_sources = {s for s, (_, ok) in zip(sources, mixed, strict=True) if ok}
    bad_sources = set(sources) - good_sources

    got = await until_decided(run, set(sources), timeout_s=180)
    assert_one_content_per_action(
        got, check_exactly_once(got, good_sources, bad_sources, "poison pills 10%")
    )
    reasons = Counter(dl.reason for dl in got.letters if dl.source in bad_sources)
    print(f"[poison pills 10%] dead letters by reason: {dict(reasons)}")
    assert sum(reasons.values()) == len(bad_sources)


# --- a private stack for the broker and Redis faults ----------------------------------------


@dataclass(frozen=True)
class PrivateStack:
    directory: Path
    env: dict[str, str]  # for deploy/local/stack
    client_env: dict[str, str]  # for the pipeline's processes

    async def stack(self, command: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            str(STACK),
            command,
            env=self.env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(proc.communicate(), timeout=300)
        assert proc.returncode == 0, f"stack {command} failed:\n{err.decode()[-3000:]}"

    async def stop(self, service: str) -> float:
        """Stop the broker ("kafka") or "redis" by its pid file; returns seconds taken."""
        pid_file = self.directory / service / f"{service}.pid"
        pid = int(pid_file.read_text().strip())
        started = time.monotonic()
        os.kill(pid, signal.SIGTERM)
        while time.monotonic() - started < 60:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return time.monotonic() - started
            await asyncio.sleep(0.2)
        os.kill(pid, signal.SIGKILL)
        return time.monotonic() - started


@pytest.fixture(scope="module")
def private_stack() -> Iterator[PrivateStack]:
    kafka_port, controller_port, redis_port = free_ports(3)
    directory = REPO_ROOT / ".stack" / f"faults-{uuid.uuid4().hex[:8]}"
    (directory / "kafka").mkdir(parents=True)
    shared_libs = REPO_ROOT / ".stack" / "kafka" / "libs"
    if shared_libs.is_dir():
        # The shared stack's jars (with their completeness stamp): no Maven run here.
        (directory / "kafka" / "libs").symlink_to(shared_libs)
    env = {
        **os.environ,
        "MODSTREAM_STACK_DIR": str(directory),
        "MODSTREAM_KAFKA_PORT": str(kafka_port),
        "MODSTREAM_KAFKA_CONTROLLER_PORT": str(controller_port),
        "MODSTREAM_REDIS_PORT": str(redis_port),
        "MODSTREAM_KAFKA_HEAP": "512m",
    }
    for name in ("MODSTREAM_KAFKA_SASL", "MODSTREAM_REDIS_PASSWORD"):
        env.pop(name, None)
    try:
        up = subprocess.run(
            [str(STACK), "up"], env=env, capture_output=True, text=True, timeout=400, check=False
        )
        assert up.returncode == 0, f"private stack did not start:\n{up.stderr[-3000:]}"
        yield PrivateStack(
            directory,
            env,
            {
                "MODSTREAM_KAFKA_BOOTSTRAP": f"127.0.0.1:{kafka_port}",
                "MODSTREAM_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            },
        )
    finally:
        subprocess.run([str(STACK), "down"], env=env, capture_output=True, timeout=120, check=False)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def private_run(private_stack: PrivateStack) -> AsyncIterator[LocalPipeline]:
    pipeline = LocalPipeline(extra_env={**BASE_ENV, **private_stack.client_env})
    await pipeline.create_topics()
    try:
        yield pipeline
    finally:
        pipeline.stop()


# --- 2. the broker restarts -----------------------------------------------------------------


async def decided_count(run: LocalPipeline) -> int:
    return len((await read_back(run)).answering())


async def test_broker_restart_mid_stream_loses_and_splits_nothing(
    private_stack: PrivateStack, private_run: LocalPipeline
) -> None:
    run = private_run
    feed: list[Message] = list(sample_envelopes(600, seed=SEED + 2))
    first, second = feed[:400], feed[400:]
    run.start_worker()
    await run.wait_ready(timeout_s=120)
    sources = await send(run, first)
    await eventually(lambda: _at_least(decided_count(run), 100), 120, "100 decisions")
    at_stop = await decided_count(run)
    assert at_stop < len(first), "the worker finished before the restart: send more"

    stopped_s = await private_stack.stop("kafka")
    await asyncio.sleep(5)  # down long enough for every client to notice
    await private_stack.stack("up")
    print(f"\n[broker restart] stopped in {stopped_s:.1f}s at {at_stop} decisions; back up")
    sources += await send(run, second)

    got = await until_decided(run, set(sources), timeout_s=240)
    assert run.processes["worker"].poll() is None, "the worker died instead of reconnecting"
    assert_one_content_per_action(
        got, check_exactly_once(got, set(sources), set(), "broker restart")
    )


# --- 3. Redis is gone for 30 s ----------------------------------------------------------------


def _metric(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        body = response.read().decode()
    for line in body.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def action_results(run: LocalPipeline) -> list[ActionResult]:
    consumer = AIOKafkaConsumer(
        **kafka_options(run.settings), enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    try:
        topic = run.topic(specs.ACTION_RESULTS.name)
        tps = [TopicPartition(topic, p) for p in range(run.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        results: list[ActionResult] = []
        remaining = {tp for tp, end in ends.items() if end > 0}
        while remaining:
            for tp, records in (await consumer.getmany(*remaining, timeout_ms=1000)).items():
                results += [ActionResult.from_bytes(r.value or b"") for r in records]
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return results
    finally:
        await consumer.stop()


async def test_redis_down_for_30s_pauses_the_executor_which_then_catches_up(
    private_stack: PrivateStack, private_run: LocalPipeline
) -> None:
    run = private_run
    metrics_port = run.web_port + 100  # the executor's metrics (workers.executor.executor.main)
    # Event times in March 2026, so every action is already due: the dry-run executor
    # performs each as it arrives rather than parking it in Redis.
    feed: list[Message] = list(sample_envelopes(400, seed=SEED + 3))
    run.start_worker()
    run.start_executor()
    await run.wait_ready(timeout_s=120)
    sources = await send(run, feed[:200])
    await eventually(lambda: _at_least(_count(action_results(run)), 1), 120, "a first result")

    await private_stack.stop("redis")
    down_at = time.monotonic()
    sources += await send(run, feed[200:])  # keeps flowing: the stream stages need no Redis
    paused_seen = False
    while time.monotonic() - down_at < 30:
        with suppress(OSError):
            paused_seen = paused_seen or _metric(metrics_port, "modstream_executor_paused") == 1
        await asyncio.sleep(0.5)
    results_while_down = len(await action_results(run))
    await private_stack.stack("up")  # the same Redis, its append-only file intact
    print(
        f"\n[redis down 30s] results before restart {results_while_down}; paused seen {paused_seen}"
    )

    got = await until_decided(run, set(sources), timeout_s=180)
    assert_one_content_per_action(
        got, check_exactly_once(got, set(sources), set(), "redis down 30s")
    )
    ids = {Action.from_bytes(a).action_id for a in got.actions}
    deadline = time.monotonic() + 120
    while True:
        results = await action_results(run)
        if ids <= {r.action_id for r in results} or time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    await asyncio.sleep(2)
    results = await action_results(run)
    performed_file = run.rundir / DRY_RUN_RECORD
    performed = Counter(
        orjson.loads(line)["action_id"] for line in performed_file.read_bytes().splitlines()
    )
    log = run.log_of("executor")
    print(
        f"[redis down 30s] actions {len(ids)}; results {len(results)} "
        f"({len({r.action_id for r in results})} distinct); performed {sum(performed.values())}"
        f" ({len(performed)} distinct); lost {len(ids - {r.action_id for r in results})}"
    )
    assert paused_seen, "modstream_executor_paused never read 1 while Redis was down"
    assert "Redis unreachable: executor paused" in log
    assert "executor resumed" in log
    assert _metric(metrics_port, "modstream_executor_paused") == 0
    assert ids == {r.action_id for r in results}, "an action never got a result"
    assert all(n == 1 for n in performed.values()), "an action was performed twice"
    by_id: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in results:
        by_id[r.action_id].add((r.outcome, r.detail))
    assert all(len(v) == 1 for v in by_id.values()), "an action got two different results"


# --- 5. sustained load: minutes at 80 % of what one worker sustains ------------------------

SUSTAIN_S = 180.0
SAMPLE_EVERY_S = 10.0
SUSTAIN_SHARE = 0.8
# What legitimately grows under steady load is per-author state for authors not seen before
# (rate windows, style profiles, signal history). bench_pipeline.py's memory phase measured
# the whole worker at 6.8 and 11.2 KB per new author (6,637 and 10,941 MiB per 1M; two runs,
# .stack/bench/results.jsonl): allow 12 KiB each, plus 2 MiB/min for the allocator, which
# takes memory in 1 MiB pymalloc arenas and rarely gives it back. Anything above that grows
# with traffic rather than with authors: a leak.
NEW_AUTHOR_KIB = 12.0
ALLOCATOR_MIB_PER_MIN = 2.0


async def test_sustained_load_at_80_percent_keeps_memory_flat_and_lag_bounded(
    run: LocalPipeline,
) -> None:
    # The bench modules are imported here, not at the top: only this test needs them, and
    # the load generator builds a classified pool when it starts.
    from bench.loadgen import LoadGenerator, Mix
    from bench.sustained_load import (
        TABLE_HEADER,
        DecisionCounter,
        Verdict,
        group_progress,
        measure_max_rate,
        sample_paced,
    )

    started = time.monotonic()
    gen = LoadGenerator(Mix(), seed=SEED + 5)
    run.start_worker()
    await run.wait_ready(timeout_s=120)
    counter = DecisionCounter(run)
    counting = asyncio.create_task(counter.run_forever())
    try:
        max_rate, measured, landed = await measure_max_rate(run, gen, counter)
        rate = SUSTAIN_SHARE * max_rate
        messages = gen.take(int(rate * SUSTAIN_S))
        print(
            f"\n[sustained] one worker gets through {max_rate:.1f} comments/s here now "
            f"(measured on {len(measured)} comments); {rate:.1f}/s for {SUSTAIN_S:.0f} s, "
            f"load {os.getloadavg()[0]:.2f}\n{TABLE_HEADER}"
        )
        samples, sent = await sample_paced(
            run, messages, rate, SAMPLE_EVERY_S, counter, lambda s: print(s.row(), flush=True)
        )
    finally:
        counter.stop()
        await counting
    raw = run.topic(specs.RAW.name)
    sources = [f"{raw}[{s.partition}]@{s.offset}" for s in [*landed, *sent]]
    got = await until_decided(run, set(sources), timeout_s=240)
    assert_one_content_per_action(
        got, check_exactly_once(got, set(sources), set(), "sustained 80%")
    )

    verdict = Verdict.of(samples, rate, SAMPLE_EVERY_S)
    assert verdict is not None, f"only {len(samples)} samples"
    # New authors in the second half: keys first seen there (warm-up and burst count as seen).
    half_from, half_to = samples[len(samples) // 2].t_s, samples[-1].t_s
    first_i, last_i = int(half_from * rate), int(half_to * rate)
    seen = {k for k, _ in [*measured, *messages[:first_i]]}
    new_authors = len({k for k, _ in messages[first_i:last_i]} - seen)
    minutes = (half_to - half_from) / 60
    allowed = new_authors / minutes * NEW_AUTHOR_KIB / 1024 + ALLOCATOR_MIB_PER_MIN
    # The group lag counts records on every topic the worker reads, several per comment:
    # its bound is one interval of input in those units.
    per_input = (await group_progress(run)).committed / len(sources)
    lag_bound = verdict.group_lag_max_first_half + rate * SAMPLE_EVERY_S * per_input
    print(
        f"[sustained] {verdict.line()}\n[sustained] RSS samples MiB: "
        f"{[round(s.rss_mib) for s in samples]}; {new_authors} new authors in the second half "
        f"→ growth allowed {allowed:.1f} MiB/min; group lag bound {lag_bound:.0f} "
        f"({per_input:.1f} records per input); ran {time.monotonic() - started:.0f} s"
    )
    assert verdict.rss_growth_mib_per_min <= allowed, "memory grows faster than new authors"
    assert verdict.bounded, "the backlog grew: the worker fell behind at 80 % of its rate"
    assert verdict.group_lag_max_second_half <= lag_bound, "the group lag grew"
