"""Replay throughput against live throughput, measured in the same run on the same comments.

    python bench/bench_replay.py                  # 2 000 sample comments (a few minutes here)
    python bench/bench_replay.py --comments 5000 --runs 3

Needs the local stack (deploy/local/stack up). One live worker (all stages, one process, as
``modstream worker`` runs) decides N sample comments in a fresh namespace: live time is from the
first message produced to the last comment's outcome (a decision or a dead letter) on the
broker, so it includes every topic hop between the stages. The worker is then stopped and the
same range of ``comments.raw`` is replayed in this process (``workers.offline.replay``) to a JSONL
directory: replay time is reading the range, running every stage and writing the files. Each
replay run also reports the time to build the stages from the policy, which a replay pays once.

Prints a Markdown table: comments/s of each, and replay / live as a ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas.action import Decision
from streams import topics as specs
from workers.dev.local_run import LocalPipeline
from workers.dev.sample_feed import sample_envelopes
from workers.offline.audit import decision_step
from workers.offline.replay import ReplayOptions, replay
from workers.settings import DEFAULT_POLICY


async def live_run(pipeline: LocalPipeline, comments: int, timeout_s: float) -> tuple[int, float]:
    """(inputs, seconds from first produce to every input's outcome on the broker)."""
    feed = sample_envelopes(comments, include_bad=True)
    consumer = AIOKafkaConsumer(
        pipeline.topic(specs.DECISIONS.name),
        pipeline.topic(specs.DEADLETTER.name),
        bootstrap_servers=pipeline.settings.kafka_bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        started = time.perf_counter()
        sent = await pipeline.produce(specs.RAW.name, feed)
        answered = 0
        deadline = time.monotonic() + timeout_s
        while answered < sent:
            if time.monotonic() > deadline:
                raise TimeoutError(f"live run: {answered}/{sent} after {timeout_s}s")
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                if tp.topic.endswith(specs.DEADLETTER.name):
                    answered += len(records)
                    continue
                answered += sum(
                    decision_step(Decision.from_bytes(r.value or b"")) == "comment" for r in records
                )
        return sent, time.perf_counter() - started
    finally:
        await consumer.stop()


async def replay_run(pipeline: LocalPipeline, out: Path) -> tuple[int, float, float]:
    """(inputs, seconds replaying, seconds from the call including building the stages)."""
    called = time.perf_counter()
    with open(os.devnull, "w") as quiet:  # noqa: ASYNC230 - /dev/null does not block
        summary = await replay(
            ReplayOptions(settings=pipeline.settings, policy_path=DEFAULT_POLICY, out_dir=out),
            progress_stream=quiet,
        )
    return int(summary["inputs"]), float(summary["elapsed_s"]), time.perf_counter() - called


async def main(comments: int, runs: int, timeout_s: float) -> None:
    pipeline = LocalPipeline(extra_env={"MODSTREAM_WALL_CLOCK_TIMERS": "false"})
    await pipeline.create_topics()
    pipeline.start_worker()
    try:
        await pipeline.wait_ready(timeout_s=240)
        inputs, live_s = await live_run(pipeline, comments, timeout_s)
    finally:
        await pipeline.close()
    replays = []
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(runs):
            replays.append(await replay_run(pipeline, Path(tmp) / f"run{run}"))
    _, replay_s, with_build_s = min(replays, key=lambda r: r[1])  # the best run, both ways
    live_rate = inputs / live_s
    replay_rate = inputs / replay_s
    print(f"{comments:,} sample comments + 5 malformed; namespace {pipeline.namespace}")
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at the end; replay: best of {runs}"
    )
    print()
    print("| run | inputs | seconds | inputs/s | × live |")
    print("|---|---:|---:|---:|---:|")
    print(
        f"| live worker (produce → last outcome) | {inputs:,} | {live_s:.1f} | "
        f"{live_rate:,.0f} | 1.0 |"
    )
    print(
        f"| replay (read, all stages, write JSONL) | {inputs:,} | {replay_s:.1f} | "
        f"{replay_rate:,.0f} | {replay_rate / live_rate:.1f} |"
    )
    print(
        f"| replay incl. building the stages | {inputs:,} | {with_build_s:.1f} | "
        f"{inputs / with_build_s:,.0f} | {inputs / with_build_s / live_rate:.1f} |"
    )
    if runs > 1:
        spread = [r[1] for r in replays]
        print(
            f"\nreplay seconds over {runs} runs: {', '.join(f'{s:.2f}' for s in spread)} "
            f"(median {statistics.median(spread):.2f})"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=1, help="replay runs (best is reported)")
    parser.add_argument("--timeout", type=float, default=900.0, help="for the live run, seconds")
    args = parser.parse_args()
    asyncio.run(main(args.comments, args.runs, args.timeout))
