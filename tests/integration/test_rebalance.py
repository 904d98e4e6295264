"""Partitions move while the main line holds a batch: two workers share ``comments.raw``, a
third joins mid-stream, then one of the first two is stopped (SIGTERM) and later the third is
killed (SIGKILL): three rebalances in one run, so the workers' start-up (some 30 s each on a
busy machine, compiling the classifier) is paid once.

The main line consumes in batches (``take_events``, workers/processes/pipeline.py) and
acknowledges a batch's inputs only once it has sent everything they led to. The claim under
test (docs/benchmarks.md, *Batches and rebalances*): a rebalance that revokes a partition
while a batch of it is buffered still gets that batch processed and its state written to the
partition's changelog; whoever takes the partition next restores that state, and the
redelivery memos answer the inputs it reads again as the first time. So, after the moves:
every input has exactly one answer, no action id carries two contents, and every comment's
decision is the one an offline replay of the same inputs (one process, no rebalance, the same
step functions) gives, byte for byte: state lost in a handover would show there as a
decision taken on too little history (a missed limit or block).

The linger is raised so that a worker nearly always holds a batch when the group moves; the
workers log each revocation that met taken, unacknowledged input records
(``workers.processes.recovery_consumer``), and the test requires at least one such line.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from bench.answers import Message, send
from bench.bench_pipeline import start_workers
from schemas.action import TRIGGER_COMMENT, Decision
from tests.integration.conftest import _namespace
from tests.integration.test_faults import (
    BASE_ENV,
    assert_one_content_per_action,
    assert_one_content_per_decision,
    check_exactly_once,
    until_decided,
)
from workers.dev.local_run import LocalPipeline, free_port
from workers.dev.sample_feed import sample_envelopes
from workers.offline.replay import DECISIONS_FILE, ReplayOptions, replay
from workers.settings import DEFAULT_POLICY

SEED = 20_261_208
CHUNK_EVERY_S = 0.25
# About 60 comments/s once the third worker is in: steady, and the workers keep up with it.
# Until then a trickle (12/s): enough for a batch in each take buffer at the join, and it
# leaves the CPU to the joiner's start-up (compiling the classifier) on a busy machine.
CHUNK, TRICKLE = 15, 3
# A batch waits this long for company (the default is 10 ms): at the feed's rate each worker
# holds a few comments in its take buffer nearly all the time, so a rebalance meets a batch.
LINGER_MS = 500
# The broker's minimum: a killed member's partitions wait this long before they move.
SESSION_TIMEOUT_MS = 6000
STOPPED, JOINER = "worker-b", "worker-c"
IN_FLIGHT = re.compile(r"revoking \d+ partitions with (\d+) input records taken")

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
async def run() -> AsyncIterator[LocalPipeline]:
    env = {
        **BASE_ENV,
        "MODSTREAM_RAW_BATCH_LINGER_MS": str(LINGER_MS),
        "MODSTREAM_SESSION_TIMEOUT_MS": str(SESSION_TIMEOUT_MS),
    }
    async with _namespace(LocalPipeline(extra_env=env)) as pipeline:
        yield pipeline


async def feed_until(
    stop: asyncio.Event, full: asyncio.Event, run: LocalPipeline, sources: list[str]
) -> None:
    """The sample feed (repeated texts: campaigns, blocks, limits), a trickle and then, once
    ``full`` is set, a chunk at a time, until ``stop`` is set."""
    feed: Sequence[Message] = sample_envelopes(4_000, seed=SEED)
    sent = 0
    while not stop.is_set():
        if sent >= len(feed):
            raise AssertionError("the feed ran out before the workers moved")
        chunk = feed[sent : sent + (CHUNK if full.is_set() else TRICKLE)]
        sources += await send(run, chunk)
        sent += len(chunk)
        await asyncio.sleep(CHUNK_EVERY_S)


def revoked_in_flight(run: LocalPipeline, names: tuple[str, ...]) -> list[int]:
    """Per revocation that met a taken, unacknowledged batch: how many input records."""
    return [int(n) for name in names for n in IN_FLIGHT.findall(run.log_of(name))]


async def replayed_decisions(run: LocalPipeline, out_dir: Path) -> set[bytes]:
    await replay(ReplayOptions(settings=run.settings, policy_path=DEFAULT_POLICY, out_dir=out_dir))
    return set((out_dir / DECISIONS_FILE).read_bytes().splitlines())


async def test_partitions_moving_while_batches_are_buffered_lose_and_double_nothing(
    run: LocalPipeline, tmp_path: Path
) -> None:
    started = time.monotonic()
    await start_workers(run, ("worker", STOPPED))
    sources: list[str] = []
    stop_feeding, full_rate = asyncio.Event(), asyncio.Event()
    feeding = asyncio.create_task(feed_until(stop_feeding, full_rate, run, sources))
    moves: list[str] = []

    def moved(what: str) -> None:
        counts = revoked_in_flight(run, ("worker", STOPPED, JOINER))
        moves.append(f"{what} at {time.monotonic() - started:.0f}s: {len(counts)} ({sum(counts)})")

    # The third worker starts now, while the feed flows: it takes some 30 s to load on a busy
    # machine (compiling the classifier) and then joins; the group's rebalance revokes every
    # partition of the two busy workers (eager assignment), each holding a batch.
    joiner_port = free_port()
    run.start_worker(JOINER, web_port=joiner_port)
    await run.wait_ready(timeout_s=180, port=joiner_port)
    full_rate.set()
    await asyncio.sleep(2)
    moved("join")
    # A graceful stop: the stopping worker finishes its batch, the others' are revoked.
    # run.kill waits for the process: in a thread, so the feed keeps flowing meanwhile.
    await asyncio.to_thread(run.kill, STOPPED, signal.SIGTERM)
    await asyncio.sleep(4)
    moved("SIGTERM")
    # A crash: the joiner, whose partitions came from the other two, dies mid-batch; its
    # partitions move once its session has timed out, and the last worker takes them all.
    await asyncio.to_thread(run.kill, JOINER, signal.SIGKILL)
    await asyncio.sleep(SESSION_TIMEOUT_MS / 1000 + 4)
    moved("SIGKILL")
    stop_feeding.set()
    await feeding

    got = await until_decided(run, set(sources), timeout_s=180)
    print(
        f"\n[rebalance] decided in {time.monotonic() - started:.0f}s; revocations meeting "
        f"a batch, cumulative (records): {'; '.join(moves)}"
    )
    assert_one_content_per_action(got, check_exactly_once(got, set(sources), set(), "rebalance"))
    assert_one_content_per_decision(got)
    assert revoked_in_flight(run, ("worker", STOPPED, JOINER)), (
        "no rebalance met a buffered batch: the test did not test it"
    )

    # Nothing of a handed-over partition's state was lost: replayed in one process without
    # any rebalance, every comment gets the decision the moving workers gave it.
    live = {d.to_bytes() for d in got.answering()}
    replayed = {
        line
        for line in await replayed_decisions(run, tmp_path / "replay")
        if Decision.from_bytes(line).trigger == TRIGGER_COMMENT
    }
    only_live, only_replay = live - replayed, replayed - live
    print(f"[rebalance] live {len(live)}, replayed {len(replayed)}, differing {len(only_live)}")
    assert not only_live and not only_replay, (
        f"{len(only_live)} live decisions differ from the replay, e.g. "
        f"{sorted(Decision.from_bytes(b).comment_id for b in only_live)[:3]}"
    )
