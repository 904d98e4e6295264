"""A sustained run: minutes of paced load on one worker; is memory flat and lag bounded?

    python bench/bench_sustained.py --rate 30 --minutes 4
    python bench/bench_sustained.py --share 0.8 --minutes 4   # 80 % of the last measured max

Too long for CI (the fault tests in tests/integration/test_faults.py are the CI part), so it
lives here. One worker, 4 partitions, loadgen comments at ``--rate`` (or ``--share`` of the
pipeline rate bench_pipeline.py last recorded in .stack/bench/results.jsonl). Every
``--every`` seconds it samples:

- *backlog*: comments sent minus comments decided (a decision read back from ``decisions``);
- *group lag*: records the worker's consumer group has not committed, over all its inputs
  (raw, the stage topics, the fan-outs), from the broker;
- the worker's resident memory and CPU share.

It ends with a verdict: memory growth per minute over the second half (flat: the per-author
state of new authors is all that should grow) and whether the backlog stayed bounded (its
maximum in the second half no more than in the first, plus one sampling interval of input).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_pipeline import (  # noqa: E402
    RESULTS,
    Conditions,
    cpu_seconds,
    new_run,
    record,
    rss_bytes,
    start_workers,
)
from bench.loadgen import LoadGenerator, Mix, send_paced  # noqa: E402
from streams import topics as specs  # noqa: E402
from workers.kafka_clients import kafka_options  # noqa: E402
from workers.local_run import LocalPipeline  # noqa: E402


@dataclass(frozen=True)
class Sample:
    t_s: float
    sent: int
    decided: int
    group_lag: int
    rss_mib: float
    cpu_share: float

    @property
    def backlog(self) -> int:
        return self.sent - self.decided


class DecisionCounter:
    """Counts decisions that answer a raw comment, as they arrive."""

    def __init__(self, run: LocalPipeline) -> None:
        self.run = run
        self.count = 0
        self._prefix = run.topic(specs.RAW.name) + "["
        self._stop = asyncio.Event()

    async def run_forever(self) -> None:
        from aiokafka import AIOKafkaConsumer, TopicPartition

        consumer = AIOKafkaConsumer(
            **kafka_options(self.run.settings), enable_auto_commit=False, group_id=None
        )
        await consumer.start()
        try:
            topic = self.run.topic(specs.DECISIONS.name)
            tps = [TopicPartition(topic, p) for p in range(self.run.partitions)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            while not self._stop.is_set():
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for r in records:
                        if (
                            orjson.loads(r.value or b"{}")
                            .get("source", "")
                            .startswith(self._prefix)
                        ):
                            self.count += 1
        finally:
            await consumer.stop()

    def stop(self) -> None:
        self._stop.set()


async def group_lag(run: LocalPipeline) -> int:
    """Records the worker's group has not committed, over every partition it has committed."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**kafka_options(run.settings))
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(run.settings.group_id)
    finally:
        await admin.close()
    if not committed:
        return 0
    consumer = AIOKafkaConsumer(**kafka_options(run.settings), group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(list(committed))
    finally:
        await consumer.stop()
    return sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items() if tp in ends)


def last_max_rate() -> float:
    if not RESULTS.exists():
        raise SystemExit("no recorded max rate: run bench/bench_pipeline.py first, or --rate")
    for line in reversed(RESULTS.read_text().splitlines()):
        entry = json.loads(line)
        if entry.get("phase") == "throughput":
            return float(entry["pipeline"]["rate"])
    raise SystemExit("no throughput phase in results.jsonl: run bench_pipeline.py first")


async def sustained(args: argparse.Namespace) -> None:
    rate = args.rate or args.share * last_max_rate()
    seconds = args.minutes * 60
    run = new_run(4, "sus", args.worker_env)
    await run.create_topics()
    gen = LoadGenerator(Mix(), seed=args.seed)
    messages = gen.take(int(rate * seconds))
    cond = Conditions()
    samples: list[Sample] = []
    try:
        await start_workers(run, ["worker"])
        pid = run.processes["worker"].pid
        counter = DecisionCounter(run)
        counting = asyncio.create_task(counter.run_forever())
        started = time.monotonic()
        sending = asyncio.create_task(
            send_paced(run.settings, run.topic(specs.RAW.name), messages, rate)
        )
        print(f"one worker, {rate:.1f} comments/s for {args.minutes:g} min, load {cond.before}")
        print("\n| t s | sent | decided | backlog | group lag | RSS MiB | CPU share |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        cpu_before, at_before = cpu_seconds(pid), time.monotonic()
        while not sending.done():
            await asyncio.sleep(args.every)
            now = time.monotonic()
            cpu_now = cpu_seconds(pid)
            elapsed = now - started
            sample = Sample(
                t_s=elapsed,
                sent=min(len(messages), int(elapsed * rate)),
                decided=counter.count,
                group_lag=await group_lag(run),
                rss_mib=rss_bytes(pid) / 2**20,
                cpu_share=(cpu_now - cpu_before) / (now - at_before),
            )
            cpu_before, at_before = cpu_now, now
            samples.append(sample)
            print(
                f"| {sample.t_s:.0f} | {sample.sent} | {sample.decided} | {sample.backlog} | "
                f"{sample.group_lag} | {sample.rss_mib:.0f} | {sample.cpu_share:.2f} |",
                flush=True,
            )
        await sending
        counter.stop()
        await counting
    finally:
        await run.close()
    cond.done()
    verdict(samples, rate, args.every, cond)


def verdict(samples: Sequence[Sample], rate: float, every: float, cond: Conditions) -> None:
    half = len(samples) // 2
    first, second = samples[:half], samples[half:]
    if not first or not second:
        print("too few samples for a verdict")
        return
    span_min = (second[-1].t_s - second[0].t_s) / 60 or 1.0
    growth = (second[-1].rss_mib - second[0].rss_mib) / span_min
    bound = max(s.backlog for s in first) + rate * every
    worst = max(s.backlog for s in second)
    bounded = worst <= bound
    figures = {
        "rate": rate,
        "samples": len(samples),
        "rss_growth_mib_per_min": growth,
        "backlog_max_first_half": max(s.backlog for s in first),
        "backlog_max_second_half": worst,
        "group_lag_max": max(s.group_lag for s in samples),
        "bounded": bounded,
        "conditions": str(cond),
    }
    record("sustained", figures)
    print(
        f"\nmemory: {growth:+.1f} MiB/min over the second half; backlog: max "
        f"{figures['backlog_max_first_half']} in the first half, {worst} in the second → "
        f"{'bounded' if bounded else 'GROWING: this rate is above what one worker sustains'}"
        f"; {cond}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=0.0, help="comments/s")
    parser.add_argument("--share", type=float, default=0.8, help="of the last max (no --rate)")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--every", type=float, default=15.0, help="seconds between samples")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--worker-env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    asyncio.run(sustained(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
