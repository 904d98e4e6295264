"""Sampling a worker under sustained paced load: shared by bench/bench_sustained.py and the
sustained-load fault test (tests/integration/test_faults.py), so the bench and CI measure the
same thing the same way.

While comments are sent at a fixed rate, every ``every`` seconds a ``Sample`` records:

- *backlog*: comments sent minus comments decided (a decision read back from ``decisions``
  whose source is a raw comment);
- *group lag*: records the worker's consumer group has not committed, over all its inputs
  (raw, the stage topics, the fan-outs), from the broker;
- the worker's resident memory and CPU share.

``Verdict`` turns the samples into the two questions a sustained run answers: does memory grow
in the second half (a least-squares slope, so one sample caught mid-collection does not decide
it), and is the backlog bounded (its second-half maximum no more than the first half's plus
one sampling interval of input).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson

from bench.bench_pipeline import cpu_seconds, rss_bytes, wait_quiet
from bench.loadgen import LoadGenerator, Message, Sent, send_paced
from schemas.action import TRIGGER_COMMENT
from streams import topics as specs
from workers.dev.local_run import LocalPipeline
from workers.kafka_clients import kafka_options

TABLE_HEADER = (
    "| t s | sent | decided | backlog | group lag | RSS MiB | CPU share |\n"
    "|---:|---:|---:|---:|---:|---:|---:|"
)


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

    def row(self) -> str:
        return (
            f"| {self.t_s:.0f} | {self.sent} | {self.decided} | {self.backlog} | "
            f"{self.group_lag} | {self.rss_mib:.0f} | {self.cpu_share:.2f} |"
        )


class DecisionCounter:
    """Counts decisions that answer a raw comment, as they arrive (from the topic's start)."""

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
                        decision = orjson.loads(r.value or b"{}")
                        # Only the decision that answers a comment: campaign notices name the
                        # comment's raw input too.
                        if decision.get("trigger", TRIGGER_COMMENT) != TRIGGER_COMMENT:
                            continue
                        if decision.get("source", "").startswith(self._prefix):
                            self.count += 1
        finally:
            await consumer.stop()

    def stop(self) -> None:
        self._stop.set()

    async def wait_for(self, target: int, size: int, timeout_s: float) -> None:
        """Until ``target`` decisions have been counted (``size`` of them just sent)."""
        deadline = time.monotonic() + timeout_s
        while self.count < target:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{target - self.count} of {size} comments undecided")
            await asyncio.sleep(0.2)


@dataclass(frozen=True)
class GroupProgress:
    lag: int  # records not yet committed, over every partition the group has committed
    committed: int  # records committed: the work done so far, in the lag's own units


async def group_progress(run: LocalPipeline) -> GroupProgress:
    """Where the worker's consumer group stands on every partition it has committed."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**kafka_options(run.settings))
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(run.settings.group_id)
    finally:
        await admin.close()
    if not committed:
        return GroupProgress(0, 0)
    consumer = AIOKafkaConsumer(**kafka_options(run.settings), group_id=None)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(list(committed))
    finally:
        await consumer.stop()
    lag = sum(max(0, ends[tp] - meta.offset) for tp, meta in committed.items() if tp in ends)
    return GroupProgress(lag, sum(max(0, meta.offset) for meta in committed.values()))


async def sample_paced(
    run: LocalPipeline,
    messages: Sequence[Message],
    rate: float,
    every: float,
    counter: DecisionCounter,
    on_sample: Callable[[Sample], None] = lambda _: None,
) -> tuple[list[Sample], list[Sent]]:
    """Send ``messages`` at ``rate`` to the running worker, sampling every ``every`` seconds
    until the last is sent. ``decided`` counts from the counter's value at the start, so
    decisions of earlier traffic do not count. Returns the samples and where each landed."""
    pid = run.processes["worker"].pid
    decided_before = counter.count
    started = time.monotonic()
    sending = asyncio.create_task(
        send_paced(run.settings, run.topic(specs.RAW.name), messages, rate)
    )
    samples: list[Sample] = []
    cpu_before, at_before = cpu_seconds(pid), time.monotonic()
    while not sending.done():
        await asyncio.wait({sending}, timeout=every)
        if sending.done():
            break  # the last partial interval would skew the per-interval figures
        now = time.monotonic()
        cpu_now = cpu_seconds(pid)
        elapsed = now - started
        sample = Sample(
            t_s=elapsed,
            # Paced sending is on schedule unless the producer stalls: send_paced tops up to
            # the schedule every 10 ms.
            sent=min(len(messages), int(elapsed * rate)),
            decided=counter.count - decided_before,
            group_lag=(await group_progress(run)).lag,
            rss_mib=rss_bytes(pid) / 2**20,
            cpu_share=(cpu_now - cpu_before) / (now - at_before),
        )
        cpu_before, at_before = cpu_now, now
        samples.append(sample)
        on_sample(sample)
    return samples, await sending


async def measure_max_rate(
    run: LocalPipeline,
    gen: LoadGenerator,
    counter: DecisionCounter,
    *,
    warm_up: int = 200,
    seconds: float = 25.0,
    probe_s: float = 20.0,
    timeout_s: float = 300.0,
) -> tuple[float, list[Message], list[Sent]]:
    """Comments/s the running worker gets through on this machine now, measured rather than
    assumed (the rate changes with the code and with whatever else the machine runs).

    A warm-up of ``warm_up`` comments, then a backlog of about ``seconds`` of work at the
    warm-up's rate, sent at once; the rate is the backlog over the time from sending it until
    every comment is decided and the worker has gone quiet: the linking and cross-author
    branches run behind the decisions, and a rate that left them behind is not sustainable.
    Then a paced probe at half that rate (below). Returns the rate and the messages sent with
    where they landed."""
    pid = run.processes["worker"].pid
    raw = run.topic(specs.RAW.name)
    messages: list[Message] = []
    landed: list[Sent] = []
    rate = 0.0
    for size in (warm_up, 0):
        size = size or max(warm_up, int(rate * seconds))
        batch = gen.take(size)
        target = counter.count + size
        started = time.time()
        landed += await send_paced(run.settings, raw, batch, 0)
        messages += batch
        await counter.wait_for(target, size, timeout_s)
        rate = size / (await wait_quiet([pid]) - started)
    # A backlog overstates what a worker sustains: drained, its produce batches fill and the
    # per-comment cost falls; paced, each comment pays more (bench_pipeline's latency phase:
    # 15.5 CPU ms per comment at 90% against 12.1 draining). So also pace half that rate and
    # read the worker's CPU share: the rate at which it would use a whole core, assuming cost
    # per comment flat in the rate, is a floor on what it sustains (fixed overheads only make
    # the true figure higher), and the smaller of the two is the maximum.
    probe_rate = rate / 2
    probe = gen.take(max(warm_up, int(probe_rate * probe_s)))
    target = counter.count + len(probe)
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    landed += await send_paced(run.settings, raw, probe, probe_rate)
    sent_s = time.monotonic() - t0
    messages += probe
    await counter.wait_for(target, len(probe), timeout_s)
    await wait_quiet([pid])
    # All the probe's work, side branches included, over the time it took to offer it.
    share = (cpu_seconds(pid) - cpu0) / sent_s
    if share > 0:
        rate = min(rate, probe_rate / share)
    return rate, messages, landed


def slope_per_minute(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per minute."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return 0.0
    return 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / spread


@dataclass(frozen=True)
class Verdict:
    rate: float
    every: float
    samples: int
    rss_growth_mib_per_min: float  # second half, least squares
    backlog_max_first_half: int
    backlog_max_second_half: int
    group_lag_max_first_half: int
    group_lag_max_second_half: int

    @property
    def backlog_bound(self) -> float:
        """The first half's worst backlog plus one sampling interval of input."""
        return self.backlog_max_first_half + self.rate * self.every

    @property
    def bounded(self) -> bool:
        return self.backlog_max_second_half <= self.backlog_bound

    @classmethod
    def of(cls, samples: Sequence[Sample], rate: float, every: float) -> Verdict | None:
        half = len(samples) // 2
        first, second = samples[:half], samples[half:]
        if not first or len(second) < 2:
            return None
        return cls(
            rate=rate,
            every=every,
            samples=len(samples),
            rss_growth_mib_per_min=slope_per_minute([(s.t_s, s.rss_mib) for s in second]),
            backlog_max_first_half=max(s.backlog for s in first),
            backlog_max_second_half=max(s.backlog for s in second),
            group_lag_max_first_half=max(s.group_lag for s in first),
            group_lag_max_second_half=max(s.group_lag for s in second),
        )

    def line(self) -> str:
        state = "bounded" if self.bounded else "GROWING: above what one worker sustains"
        return (
            f"memory: {self.rss_growth_mib_per_min:+.1f} MiB/min over the second half; "
            f"backlog: max {self.backlog_max_first_half} in the first half, "
            f"{self.backlog_max_second_half} in the second (bound {self.backlog_bound:.0f}) → "
            f"{state}; group lag: max {self.group_lag_max_first_half} / "
            f"{self.group_lag_max_second_half}"
        )
