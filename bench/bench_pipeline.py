"""The whole pipeline through the real broker: throughput against a bare baseline, latency,
CPU and memory per unit of work, and scale-out.

    python bench/bench_pipeline.py                       # every phase, defaults below
    python bench/bench_pipeline.py --phases throughput --count 20000
    python bench/bench_pipeline.py --phases scaleout --count 10000

Phases (each prints a markdown table and appends a JSON line to .stack/bench/results.jsonl):

- ``throughput``: ``--count`` loadgen comments into ``comments.raw`` (4 partitions). First the
  pipeline (one worker process, every stage on) drains them; then, over the same backlog, a
  *baseline* process: bare aiokafka consume → orjson decode/encode → produce on 4 partitions,
  with the producer settings and commit cadence the Faust app has (acks=all, its linger, 16 KiB
  batches, commit every 500 messages or 1 s, after a flush). Rate = outputs over the span of
  their broker timestamps (first to last), the same rule for both; the figure that matters is
  pipeline / baseline, measured minutes apart under the same conditions.
  With ``--split-roles`` the pipeline is two worker processes (``MODSTREAM_WORKER_ROLE``): the
  main line in one, the side branches and the identity graph in the other; CPU is summed and
  also printed per process.
- ``latency``: the same worker, warm, fed at 50 % and 90 % of the rate it just reached, for
  ``--latency-seconds`` each. Latency = decision record timestamp − raw record timestamp
  (both CreateTime, one clock), joined on the decision's source offset; p50/p95/p99.
  CPU seconds per 1,000 comments come from the worker's /proc/<pid>/stat over each phase.
- ``memory``: the same worker, then ``--memory-authors`` comments each from a new account;
  resident memory growth, extrapolated linearly to 1M tracked authors (memory:// store).
  ``bench/bench_author_memory.py`` measures 1M in one process instead.
- ``scaleout``: a fresh namespace with 8 partitions, drained by one worker and then (another
  fresh namespace) by two; speed-up = two-worker rate / one-worker rate.
- ``rates``: a fresh worker fed at each of ``--rates`` comments/s for ``--latency-seconds``:
  latency and CPU per comment against the offered rate (per-comment cost falls as batches
  fill, and the rate where latency starts to climb is what one worker sustains).
- ``ceiling``: no Kafka at all: every stage's logic in-process
  (``workers.offline.offline_pipeline``, what replay runs; the linking stage is not in it) over
  the same comments, on one core. What a worker could approach if Kafka and Faust cost nothing;
  with ``hops``, what fusing is worth.
- ``state``: the bytes each table holds after comments from new authors, in-process: what
  ``memory``'s growth is made of.
- ``hops``: a Faust app of bare passthrough agents (decode, encode, send; the app's producer
  and commit settings) chained over 1 and then 5 topics: what Faust itself costs per hop.

The load average is sampled before and after each phase: on a shared machine read the figures
with it (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

SELF = Path(__file__).resolve()
ROOT = SELF.parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loadgen import LoadGenerator, Message, Mix, send_all, send_paced  # noqa: E402
from schemas.action import TRIGGER_COMMENT  # noqa: E402
from streams import topics as specs  # noqa: E402
from workers.dev.local_run import LocalPipeline, release_unclosed  # noqa: E402
from workers.kafka_clients import kafka_options  # noqa: E402
from workers.settings import REPO_ROOT, Settings  # noqa: E402

RESULTS = REPO_ROOT / ".stack" / "bench" / "results.jsonl"
PASSTHROUGH = "bench.passthrough"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# --- process figures ------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid: int) -> int:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE


def broker_pid() -> int | None:
    """The local broker's pid (deploy/local/stack writes it), to see what Kafka costs too."""
    path = REPO_ROOT / ".stack" / "kafka" / "kafka.pid"
    try:
        pid = int(path.read_text().strip())
        cpu_seconds(pid)
    except (OSError, ValueError):
        return None
    return pid


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


@dataclass
class Conditions:
    """The load average (1 min / 5 min) before and after a phase."""

    before: str = field(default_factory=load)
    after: str = ""

    def done(self) -> Conditions:
        self.after = load()
        return self

    def __str__(self) -> str:
        return f"load {self.before} → {self.after}"


def record(phase: str, figures: dict[str, Any]) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    line = {"phase": phase, "at": time.strftime("%Y-%m-%dT%H:%M:%S"), **figures}
    with RESULTS.open("a") as out:
        out.write(json.dumps(line, default=str) + "\n")


# --- reading outputs ----------------------------------------------------------------------


@dataclass
class Output:
    """Records read back from an output topic: broker timestamp and, for decisions, the
    raw offset the decision answers."""

    timestamps: list[int] = field(default_factory=list)
    sources: dict[str, int] = field(default_factory=dict)  # raw source -> decision timestamp
    outcomes: dict[str, int] = field(default_factory=dict)  # decision outcome -> count

    def rate(self) -> float:
        ts = sorted(self.timestamps)
        return (len(ts) - 1) / ((ts[-1] - ts[0]) / 1000) if len(ts) > 1 and ts[-1] > ts[0] else 0.0


async def read_outputs(
    settings: Settings,
    topic: str,
    *,
    until: int,
    raw_topic: str | None = None,
    start: dict[int, int] | None = None,
    timeout_s: float = 900.0,
) -> Output:
    """Read ``topic`` (from ``start`` offsets per partition, or the beginning) until ``until``
    records, or — with ``raw_topic`` — until ``until`` decisions that answer a raw comment."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(**kafka_options(settings), enable_auto_commit=False, group_id=None)
    await consumer.start()
    out = Output()
    try:
        # Every pipeline topic has the run's partition count (workers.topic_admin).
        tps = [TopicPartition(topic, p) for p in range(settings.partitions)]
        consumer.assign(tps)
        for tp in tps:
            if start and tp.partition in start:
                consumer.seek(tp, start[tp.partition])
            else:
                await consumer.seek_to_beginning(tp)
        deadline = time.monotonic() + timeout_s
        prefix = f"{raw_topic}[" if raw_topic else ""
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for msgs in batch.values():
                for m in msgs:
                    if raw_topic is None:
                        out.timestamps.append(m.timestamp)
                        continue
                    decision = orjson.loads(m.value or b"{}")
                    if decision.get("trigger", TRIGGER_COMMENT) != TRIGGER_COMMENT:
                        continue  # a campaign notice or a case moving on, not the answer
                    source = decision.get("source", "")
                    if source.startswith(prefix) and source not in out.sources:
                        out.sources[source] = m.timestamp
                        out.timestamps.append(m.timestamp)
                        outcome = decision.get("outcome", "")
                        out.outcomes[outcome] = out.outcomes.get(outcome, 0) + 1
            if len(out.timestamps) >= until:
                break
        return out
    finally:
        await consumer.stop()


async def first_timestamp(settings: Settings, topic: str, start: dict[int, int]) -> int:
    """The earliest broker timestamp among the first records after ``start`` (per partition):
    when the first stage emitted its first output, i.e. when processing began."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(**kafka_options(settings), enable_auto_commit=False, group_id=None)
    await consumer.start()
    firsts: dict[int, int] = {}
    try:
        tps = [TopicPartition(topic, p) for p in range(settings.partitions)]
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, start.get(tp.partition, 0))
        deadline = time.monotonic() + 60
        while len(firsts) < len(tps) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500, max_records=len(tps))
            for tp, msgs in batch.items():
                if msgs and tp.partition not in firsts:
                    firsts[tp.partition] = msgs[0].timestamp
                    consumer.pause(tp)
            if not batch and firsts:
                break  # a partition that got nothing
        return min(firsts.values())
    finally:
        await consumer.stop()


async def end_offsets(settings: Settings, topic: str) -> dict[int, int]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(**kafka_options(settings), group_id=None)
    await consumer.start()
    try:
        parts = range(settings.partitions)
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in parts])
        return {tp.partition: off for tp, off in ends.items()}
    finally:
        await consumer.stop()


# --- the baseline -------------------------------------------------------------------------


async def passthrough(namespace: str, count: int) -> dict[str, float]:
    """Bare consume → orjson decode/encode → produce, as a Faust app would commit."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    settings = Settings.from_env({**os.environ, "MODSTREAM_NAMESPACE": namespace})
    consumer = AIOKafkaConsumer(
        settings.topic(specs.RAW.name),
        **kafka_options(settings),
        group_id=f"{settings.group_id}.passthrough",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    # The Faust app's producer settings (acks=-1, its linger and batch size).
    producer = AIOKafkaProducer(
        **kafka_options(settings),
        acks="all",
        linger_ms=settings.producer_linger_ms,
        max_batch_size=16384,
    )
    await producer.start()
    await consumer.start()
    out_topic = settings.topic(PASSTHROUGH)
    seen = since_commit = 0
    last_commit = time.monotonic()
    cpu0 = time.process_time()
    positions: dict[Any, int] = {}
    try:
        while seen < count:
            batch = await consumer.getmany(timeout_ms=500)
            for tp, msgs in batch.items():
                for m in msgs:
                    value = orjson.dumps(orjson.loads(m.value or b"null"))
                    await producer.send(out_topic, key=m.key, value=value)
                    positions[tp] = m.offset + 1
                seen += len(msgs)
                since_commit += len(msgs)
            if since_commit >= 500 or time.monotonic() - last_commit > 1.0 or seen >= count:
                await producer.flush()
                if positions:
                    await consumer.commit(positions)
                since_commit, last_commit = 0, time.monotonic()
        return {"count": seen, "cpu_s": time.process_time() - cpu0}
    finally:
        await consumer.stop()
        await producer.stop()


async def run_baseline(run: LocalPipeline, count: int) -> dict[str, Any]:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(**kafka_options(run.settings))
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(run.topic(PASSTHROUGH), num_partitions=run.partitions, replication_factor=1)]
        )
    finally:
        await admin.close()
    cond = Conditions()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SELF),
        "passthrough",
        "--namespace",
        run.namespace,
        "--count",
        str(count),
        env=run.env,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await proc.communicate()
    inner = json.loads(stdout.decode().strip().splitlines()[-1])
    out = await read_outputs(run.settings, run.topic(PASSTHROUGH), until=count)
    cond.done()
    return {
        "count": len(out.timestamps),
        "rate": out.rate(),
        "cpu_per_1k": 1000 * inner["cpu_s"] / count,
        "conditions": str(cond),
    }


# --- the pipeline -------------------------------------------------------------------------


def worker_pid(run: LocalPipeline, name: str = "worker") -> int:
    return run.processes[name].pid


def new_run(partitions: int, tag: str, worker_env: Sequence[str] = ()) -> LocalPipeline:
    """A fresh namespace. ``worker_env`` (``NAME=value``) reaches the worker processes: Faust
    reads its own settings from the environment (``PRODUCER_LINGER=0.01``), which is how
    settings are compared before one is made the app's default."""
    extra = dict(item.split("=", 1) for item in worker_env)
    return LocalPipeline(
        namespace=f"bench{tag}{int(time.time()) % 100_000}",
        partitions=partitions,
        extra_env={
            # Deadlines are event time 24 working hours out; no wall-clock ticks in a bench.
            "MODSTREAM_WALL_CLOCK_TIMERS": "false",
            "MODSTREAM_LOG_LEVEL": "WARNING",
            **extra,
        },
    )


# --split-roles: the main line in "worker", the side branches and the identity graph in "side"
# (MODSTREAM_WORKER_ROLE, docs/operations.md "Worker roles").
SPLIT_ROLES = {"worker": "main", "side": "side"}


async def start_workers(
    run: LocalPipeline, names: Sequence[str], roles: Mapping[str, str] | None = None
) -> dict[str, int]:
    """Start the workers ``names``; ``roles`` gives each one's MODSTREAM_WORKER_ROLE."""
    ports: dict[str, int] = {}
    from workers.dev.local_run import free_port

    for name in names:
        ports[name] = run.web_port if name == "worker" else free_port()
        if roles:
            env = {"MODSTREAM_WEB_PORT": str(ports[name]), "MODSTREAM_WORKER_ROLE": roles[name]}
            run.start(name, "workers.processes.worker", env=env)
        else:
            run.start_worker(name, web_port=ports[name])
    for name in names:
        await run.wait_ready(timeout_s=180, port=ports[name])
    if len(names) > 1:
        # Each join rebalances the group: wait until every worker is ready again afterwards.
        await asyncio.sleep(5)
        for name in names:
            await run.wait_ready(timeout_s=180, port=ports[name])
    return ports


async def wait_quiet(pids: Sequence[int], quiet_s: float = 4.0, busy: float = 0.2) -> float:
    """Wait until the workers have been idle for ``quiet_s``; returns when (epoch seconds)
    they last worked. Decisions are not the end of the work: the cross-author bands and the
    linking stages run behind them, and a rate that ignored them could not be sustained."""
    last_busy = time.time()
    before, at = sum(cpu_seconds(p) for p in pids), time.monotonic()
    while time.time() - last_busy < quiet_s:
        await asyncio.sleep(0.5)
        now, now_at = sum(cpu_seconds(p) for p in pids), time.monotonic()
        if (now - before) / (now_at - at) > busy:
            last_busy = time.time()
        before, at = now, now_at
    return last_busy


async def drain(
    run: LocalPipeline, messages: Sequence[Message], names: Sequence[str]
) -> dict[str, Any]:
    """Send ``messages`` as fast as possible to running workers; wait for every decision."""
    cond = Conditions()
    pids = [worker_pid(run, n) for n in names]
    raw = run.topic(specs.RAW.name)
    decisions = run.topic(specs.DECISIONS.name)
    start = await end_offsets(run.settings, decisions)
    broker = broker_pid()
    broker0 = cpu_seconds(broker) if broker else 0.0
    cpu0 = sum(cpu_seconds(p) for p in pids)
    each0 = {n: cpu_seconds(p) for n, p in zip(names, pids, strict=True)}
    send_s = await send_all(run.settings, raw, messages)
    out = await read_outputs(
        run.settings, decisions, until=len(messages), raw_topic=raw, start=start
    )
    ended = await wait_quiet(pids)
    cpu1 = sum(cpu_seconds(p) for p in pids)
    each1 = {n: cpu_seconds(p) for n, p in zip(names, pids, strict=True)}
    broker1 = cpu_seconds(broker) if broker else 0.0
    cond.done()
    # From the first decision to the moment every stage went quiet: the main line is one hop,
    # so its first output is the first comment decided; the side branches (cross-author bands,
    # linking) finish behind the decisions, so the last decision alone would not do.
    began = await first_timestamp(run.settings, decisions, start) / 1000
    decided_s = max(out.timestamps) / 1000 - began if out.timestamps else 0.0
    return {
        "count": len(out.timestamps),
        "rate": len(out.timestamps) / (ended - began) if ended > began else 0.0,
        "decided_rate": len(out.timestamps) / decided_s if decided_s > 0 else 0.0,
        "send_s": send_s,
        "cpu_per_1k": 1000 * (cpu1 - cpu0) / max(1, len(out.timestamps)),
        "cpu_per_1k_by_worker": {
            n: 1000 * (each1[n] - each0[n]) / max(1, len(out.timestamps)) for n in names
        },
        # Includes sending the backlog and anything else using the shared broker meanwhile.
        "broker_cpu_per_1k": 1000 * (broker1 - broker0) / max(1, len(out.timestamps)),
        "outcomes": out.outcomes,
        "conditions": str(cond),
    }


async def paced(
    run: LocalPipeline, messages: Sequence[Message], rate: float, names: Sequence[str] = ("worker",)
) -> dict[str, Any]:
    cond = Conditions()
    pids = [worker_pid(run, n) for n in names]
    raw = run.topic(specs.RAW.name)
    decisions = run.topic(specs.DECISIONS.name)
    start = await end_offsets(run.settings, decisions)
    cpu0 = sum(cpu_seconds(p) for p in pids)
    sent = await send_paced(run.settings, raw, messages, rate)
    out = await read_outputs(
        run.settings, decisions, until=len(sent), raw_topic=raw, start=start, timeout_s=300
    )
    await wait_quiet(pids)
    cpu1 = sum(cpu_seconds(p) for p in pids)
    cond.done()
    latencies = sorted(
        out.sources[f"{raw}[{s.partition}]@{s.offset}"] - s.timestamp_ms
        for s in sent
        if f"{raw}[{s.partition}]@{s.offset}" in out.sources
    )
    span_s = (sent[-1].timestamp_ms - sent[0].timestamp_ms) / 1000
    return {
        "target_rate": rate,
        "achieved_rate": len(sent) / span_s if span_s else 0.0,
        "count": len(sent),
        "decided": len(latencies),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": latencies[-1] if latencies else 0,
        "cpu_per_1k": 1000 * (cpu1 - cpu0) / max(1, len(latencies)),
        "conditions": str(cond),
    }


def percentile(sorted_values: Sequence[int], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    if len(sorted_values) == 1:
        return float(sorted_values[0])
    return float(statistics.quantiles(sorted_values, n=100, method="inclusive")[int(pct) - 1])


# --- phases -------------------------------------------------------------------------------


async def phase_throughput(args: argparse.Namespace) -> None:
    run = new_run(4, "t", args.worker_env)
    await run.create_topics()
    gen = LoadGenerator(Mix(), seed=args.seed)
    backlog = gen.take(args.count)
    roles = SPLIT_ROLES if args.split_roles else None
    names = list(roles or ["worker"])
    try:
        await start_workers(run, names, roles)
        piped = await drain(run, backlog, names)
        rss = rss_bytes(worker_pid(run))
        # Latency and memory run on the same worker, warm, right after its maximum was found.
        latency_rows = []
        if "latency" in args.phases:
            for share in (0.5, 0.9):
                rate = share * piped["rate"]
                n = int(rate * args.latency_seconds)
                lat = await paced(run, gen.take(n), rate, names)
                lat["share"] = share
                latency_rows.append(lat)
                record("latency", {**lat, "namespace": run.namespace})
        memory = await phase_memory(run, args) if "memory" in args.phases else None
    except BaseException:
        await run.close()
        raise
    run.stop()  # the baseline reads the same comments.raw: delete the topics only after it
    try:
        # Over everything in comments.raw by now (the backlog and any later phases' comments):
        # the baseline is fast, and a longer run measures it better.
        raw_total = sum((await end_offsets(run.settings, run.topic(specs.RAW.name))).values())
        base = await run_baseline(run, raw_total)
        one_hop = await faust_one_hop(run, raw_total)
    finally:
        await run.close()
    ratio = piped["rate"] / base["rate"] if base["rate"] else 0.0
    hop_ratio = piped["rate"] / one_hop["rate"] if one_hop["rate"] else 0.0
    record(
        "throughput",
        {
            "pipeline": piped,
            "baseline": base,
            "faust_one_hop": one_hop,
            "ratio": ratio,
            "ratio_faust_one_hop": hop_ratio,
            "namespace": run.namespace,
        },
    )
    workers = "one worker process" if roles is None else "two worker processes: main + side roles"
    print(f"\n### Throughput ({args.count} comments, 4 partitions, {workers})\n")
    print("| | comments/s | CPU s per 1k | conditions |")
    print("|---|---:|---:|---|")
    print(
        f"| baseline passthrough ({base['count']} messages) | {base['rate']:,.0f} | "
        f"{base['cpu_per_1k']:.2f} | {base['conditions']} |"
    )
    print(
        f"| pipeline, all stages ({piped['count']} comments) | {piped['rate']:,.0f} | "
        f"{piped['cpu_per_1k']:.2f} | {piped['conditions']} |"
    )
    print(
        f"| bare Faust one-hop passthrough ({one_hop['count']} messages) | "
        f"{one_hop['rate']:,.0f} | {one_hop['cpu_per_1k']:.2f} | {one_hop['conditions']} |"
    )
    print(
        f"\npipeline / aiokafka baseline = **{ratio:.3f}**; pipeline / Faust one hop = "
        f"**{hop_ratio:.3f}** (worker RSS after: {rss / 2**20:.0f} MiB)"
    )
    print(f"broker CPU s per 1k comments meanwhile: {piped['broker_cpu_per_1k']:.2f}")
    if roles:
        each = ", ".join(f"{n} {c:.2f}" for n, c in piped["cpu_per_1k_by_worker"].items())
        print(f"worker CPU s per 1k comments by process: {each}")
    print(
        f"(the last decision came out at {piped['decided_rate']:,.0f}/s; the side branches — "
        "cross-author bands, linking — finished later, and the rate above waits for them)"
    )
    print(f"decision outcomes: {piped['outcomes']}")
    if latency_rows:
        print("\n### End-to-end latency (raw produced → decision emitted)\n")
        print(
            "| load | target/s | achieved/s | decided | p50 ms | p95 ms | p99 ms | max ms | "
            "CPU s per 1k | conditions |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in latency_rows:
            print(
                f"| {r['share']:.0%} of max | {r['target_rate']:,.0f} | "
                f"{r['achieved_rate']:,.0f} | {r['decided']}/{r['count']} | {r['p50_ms']:.0f} | "
                f"{r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {r['max_ms']:.0f} | "
                f"{r['cpu_per_1k']:.2f} | {r['conditions']} |"
            )
    if memory:
        print("\n### Memory per tracked author (extrapolated)\n")
        print(
            f"{memory['authors']:,} new authors: RSS {memory['rss_before_mib']:.0f} → "
            f"{memory['rss_middle_mib']:.0f} → {memory['rss_after_mib']:.0f} MiB; "
            f"**{memory['mib_per_1m']:,.0f} MiB per 1M authors** (extrapolated linearly; "
            f"memory:// store); the second half added "
            f"{memory['second_half_b_per_author']:,.0f} B per author — {memory['conditions']}"
        )
    if memory and "control_comments" in memory:
        print(
            f"control: {memory['control_comments']:,} more comments from 200 accounts already "
            f"seen added {memory['control_b_per_comment']:,.0f} B per comment"
        )


async def phase_memory(run: LocalPipeline, args: argparse.Namespace) -> dict[str, Any]:
    pid = worker_pid(run)
    # Let the last phase's garbage go before the first reading.
    await asyncio.sleep(3)
    before = rss_bytes(pid)
    gen = LoadGenerator(Mix(fresh_authors=True, burst_every=0, authors=10), seed=args.seed + 1)
    # In two halves: the first also grows buffers and allocator arenas that any load grows
    # once; the second half's growth is what each further author adds.
    half = args.memory_authors // 2
    result = await drain(run, gen.take(half), ["worker"])
    await asyncio.sleep(3)
    middle = rss_bytes(pid)
    result = await drain(run, gen.take(args.memory_authors - half), ["worker"])
    await asyncio.sleep(3)
    after = rss_bytes(pid)
    control: dict[str, float] = {}
    if args.memory_control:
        # The same number of comments again, from 200 accounts the worker has already seen
        # (their state is at its bounds after a few posts each): growth here is per comment,
        # not per author, and a flat line is what a worker with no leak shows.
        seen = LoadGenerator(Mix(authors=200, burst_every=0), seed=args.seed + 3)
        await drain(run, seen.take(2_000), ["worker"])
        await asyncio.sleep(3)
        start = rss_bytes(pid)
        n = args.memory_authors - half
        await drain(run, seen.take(n), ["worker"])
        await asyncio.sleep(3)
        control = {"control_comments": n, "control_b_per_comment": (rss_bytes(pid) - start) / n}
    figures = {
        **control,
        "authors": args.memory_authors,
        "rss_before_mib": before / 2**20,
        "rss_middle_mib": middle / 2**20,
        "rss_after_mib": after / 2**20,
        "mib_per_1m": (after - before) / 2**20 * 1_000_000 / args.memory_authors,
        "second_half_b_per_author": (after - middle) / (args.memory_authors - half),
        "rate": result["rate"],
        "conditions": result["conditions"],
    }
    record("memory", {**figures, "namespace": run.namespace})
    return figures


async def phase_scaleout(args: argparse.Namespace) -> None:
    gen = LoadGenerator(Mix(), seed=args.seed)
    backlog = gen.take(args.count)
    rows = {}
    for workers in (1, 2):
        run = new_run(8, f"s{workers}", args.worker_env)
        await run.create_topics()
        names = ["worker", *(f"worker{i}" for i in range(2, workers + 1))]
        try:
            await start_workers(run, names)
            rows[workers] = await drain(run, backlog, names)
        finally:
            await run.close()
    speedup = rows[2]["rate"] / rows[1]["rate"] if rows[1]["rate"] else 0.0
    record("scaleout", {"one": rows[1], "two": rows[2], "speedup": speedup})
    print(f"\n### Scale-out ({args.count} comments, 8 partitions)\n")
    print("| workers | comments/s | worker CPU s per 1k | broker CPU s per 1k | conditions |")
    print("|---:|---:|---:|---:|---|")
    for n, r in rows.items():
        print(
            f"| {n} | {r['rate']:,.0f} | {r['cpu_per_1k']:.2f} | {r['broker_cpu_per_1k']:.2f} | "
            f"{r['conditions']} |"
        )
    print(f"\nspeed-up, two workers / one = **{speedup:.2f}×**")


async def phase_rates(args: argparse.Namespace) -> None:
    run = new_run(4, "r", args.worker_env)
    await run.create_topics()
    gen = LoadGenerator(Mix(), seed=args.seed + 2)
    rows = []
    try:
        await start_workers(run, ["worker"])
        for rate in (float(r) for r in args.rates.split(",")):
            row = await paced(run, gen.take(int(rate * args.latency_seconds)), rate)
            record("rates", {**row, "namespace": run.namespace})
            rows.append(row)
    finally:
        await run.close()
    print("\n### Latency and CPU against offered rate (one worker, 4 partitions)\n")
    print(
        "| offered/s | decided | p50 ms | p95 ms | p99 ms | max ms | CPU s per 1k | CPU share |"
        " conditions |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['target_rate']:g} | {r['decided']}/{r['count']} | {r['p50_ms']:.0f} | "
            f"{r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {r['max_ms']:.0f} | "
            f"{r['cpu_per_1k']:.1f} | {r['cpu_per_1k'] * r['target_rate'] / 1000:.2f} | "
            f"{r['conditions']} |"
        )


def phase_state(args: argparse.Namespace) -> None:
    """What the RSS growth of ``memory`` is made of: the bytes each table holds after
    ``--state-authors`` comments from new accounts, replayed in-process
    (workers.offline.offline_pipeline holds state exactly as the tables' bytes; the linking
    stage's index and graph are not in it)."""
    from streams.normalise.pseudonymise import Pseudonymiser
    from streams.policy import parse_policy
    from streams.stage_configs import build_stage_configs
    from workers.offline.offline_pipeline import OfflinePipeline

    settings = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
    stages = build_stage_configs(
        parse_policy(Path(settings.policy_path).read_bytes()), settings.registry_path
    )
    offline = OfflinePipeline(
        stages, Pseudonymiser(settings.pseudonym_key), settings.max_payload_bytes
    )
    gen = LoadGenerator(Mix(fresh_authors=True, burst_every=0, authors=10), seed=args.seed + 1)
    n = args.state_authors
    for i, (_, value) in enumerate(gen.take(n)):
        offline.process(value, f"raw[0]@{i}")
    print(f"\n### State held after {n:,} comments from {n:,} new authors (in-process)\n")
    print("| table | keys | key+value bytes | bytes per new author |")
    print("|---|---:|---:|---:|")
    tables = {
        "rate-windows (per author)": offline.window_table,
        "rate-window-bands (per fingerprint slice)": offline.band_table,
        "enforcement (per author with an open case)": offline.enforcement_table,
    }
    rows = {}
    for name, table in tables.items():
        size = sum(len(k) + len(v) for k, v in table.items())
        rows[name] = {"keys": len(table), "bytes": size}
        print(f"| {name} | {len(table):,} | {size:,} | {size / n:,.0f} |")
    record("state", {"authors": n, "tables": rows})


def phase_ceiling(args: argparse.Namespace) -> None:
    from streams.normalise.ingest import ingest
    from streams.normalise.pseudonymise import Pseudonymiser
    from streams.policy import parse_policy
    from streams.stage_configs import build_stage_configs
    from workers.offline.offline_pipeline import OfflinePipeline

    settings = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
    stages = build_stage_configs(
        parse_policy(Path(settings.policy_path).read_bytes()), settings.registry_path
    )
    pseudonymiser = Pseudonymiser(settings.pseudonym_key)
    messages = LoadGenerator(Mix(), seed=args.seed).take(args.count)
    cond = Conditions()
    offline = OfflinePipeline(stages, pseudonymiser, settings.max_payload_bytes)
    cpu0, t0 = time.process_time(), time.perf_counter()
    for i, (_, value) in enumerate(messages):
        offline.process(value, f"raw[0]@{i}")
    all_s, all_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    comments = [
        ingest(v, source="raw[0]@0", pseudonymiser=pseudonymiser, max_bytes=1 << 20, failed_at_ms=0)
        for _, v in messages
    ]
    t0 = time.perf_counter()
    for _, v in messages:
        ingest(v, source="raw[0]@0", pseudonymiser=pseudonymiser, max_bytes=1 << 20, failed_at_ms=0)
    ingest_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for c in comments:
        stages.classifier.classify(c)  # type: ignore[arg-type]
    classify_s = time.perf_counter() - t0
    cond.done()
    n = len(messages)
    figures = {
        "count": n,
        "rate": n / all_s,
        "cpu_per_1k": 1000 * all_cpu / n,
        "ingest_ms": 1000 * ingest_s / n,
        "classify_ms": 1000 * classify_s / n,
        "all_ms": 1000 * all_s / n,
        "conditions": str(cond),
    }
    record("ceiling", figures)
    print(f"\n### Logic ceiling ({n} comments, in-process, no Kafka, one core)\n")
    print(
        f"every stage's logic: **{figures['rate']:,.0f} comments/s** "
        f"({figures['all_ms']:.2f} ms each: ingest {figures['ingest_ms']:.2f}, classify "
        f"{figures['classify_ms']:.2f}, rate windows + bands + enforce the rest) — {cond}"
    )


def chain_topics(namespace: str, hops: int) -> list[str]:
    return [f"{namespace}.chain{i}" for i in range(hops + 1)]


def faust_chain(namespace: str, hops: int, web_port: int, source: str = "") -> None:
    """A Faust worker whose agents pass each message along ``hops`` topics (run by the bench);
    ``source``: read the first hop from this topic instead of ``<namespace>.chain0``."""
    import faust

    from workers.processes.worker import QuietWorker

    settings = Settings.from_env({**os.environ, "MODSTREAM_NAMESPACE": namespace})
    app = faust.App(
        f"{namespace}.chain",
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://",
        web_port=web_port,
        topic_partitions=settings.partitions,
        consumer_auto_offset_reset="earliest",
        autodiscover=False,
        producer_acks=-1,
        producer_linger=settings.producer_linger_ms / 1000,
        key_serializer="raw",
        value_serializer="raw",
        broker_commit_every=500,
        broker_commit_interval=1.0,
    )
    names = chain_topics(namespace, hops)
    if source:
        names[0] = source
    topics = [
        app.topic(n, key_type=bytes, value_type=bytes, partitions=settings.partitions)
        for n in names
    ]

    def hop(source: Any, target: Any, i: int) -> None:
        async def passthrough(stream: Any) -> None:
            async for event in stream.events():
                value = orjson.dumps(orjson.loads(event.value))
                await target.send(key=event.key, value=value)

        passthrough.__name__ = f"hop{i}"
        app.agent(source, name=f"hop{i}")(passthrough)

    for i in range(hops):
        hop(topics[i], topics[i + 1], i)
    QuietWorker(app, loglevel="warning", quiet=True).execute_from_commandline()


async def run_faust_chain(
    run: LocalPipeline, names: Sequence[str], count: int, *, source: str = ""
) -> dict[str, Any]:
    """Drain ``count`` messages from ``names[0]`` (or ``source``) through a bare Faust chain
    process over ``names``; its rate over the span from its first output to going quiet."""
    from workers.dev.local_run import free_port

    cond = Conditions()
    hops = len(names) - 1
    argv = ["faust-chain", "--namespace", run.namespace, "--hops", str(hops)]
    argv += ["--port", str(free_port())] + (["--source", source] if source else [])
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SELF),
        *argv,
        env=run.env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        cpu0 = cpu_seconds(proc.pid)
        out = await read_outputs(run.settings, names[-1], until=count)
        ended = await wait_quiet([proc.pid])
        cpu1 = cpu_seconds(proc.pid)
    finally:
        proc.terminate()
        await proc.wait()
    first = await read_outputs(run.settings, names[1], until=1)
    began = min(first.timestamps) / 1000
    cond.done()
    return {
        "count": len(out.timestamps),
        "rate": len(out.timestamps) / (ended - began),
        "cpu_per_1k": 1000 * (cpu1 - cpu0) / len(out.timestamps),
        "conditions": str(cond),
    }


async def create_chain_topics(run: LocalPipeline, names: Sequence[str]) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(**kafka_options(run.settings))
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(n, num_partitions=4, replication_factor=1) for n in names]
        )
    finally:
        await admin.close()


async def faust_one_hop(run: LocalPipeline, count: int) -> dict[str, Any]:
    """The bare Faust one-hop passthrough over the pipeline's own ``comments.raw``: what one
    agent costs with nothing in it, the baseline a one-hop pipeline is measured against."""
    names = chain_topics(run.namespace, 1)
    names[0] = run.topic(specs.RAW.name)
    await create_chain_topics(run, names[1:])
    return await run_faust_chain(run, names, count, source=names[0])


async def phase_hops(args: argparse.Namespace) -> None:
    messages = LoadGenerator(Mix(), seed=args.seed).take(args.count)
    rows = {}
    for hops in (1, 5):
        run = new_run(4, f"h{hops}", args.worker_env)
        names = chain_topics(run.namespace, hops)
        await create_chain_topics(run, names)
        await send_all(run.settings, names[0], messages)
        rows[hops] = await run_faust_chain(run, names, len(messages))
    record("hops", {"rows": rows})
    print(f"\n### Faust alone: bare passthrough agents ({args.count} messages, 4 partitions)\n")
    print("| hops | messages/s through all hops | CPU s per 1k | conditions |")
    print("|---:|---:|---:|---|")
    for hops, r in rows.items():
        print(f"| {hops} | {r['rate']:,.0f} | {r['cpu_per_1k']:.2f} | {r['conditions']} |")


async def main_async(args: argparse.Namespace) -> None:
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, load {load()}")
    if args.worker_env:
        print(f"worker environment: {' '.join(args.worker_env)}")
    try:
        if "throughput" in args.phases:
            await phase_throughput(args)
        if "scaleout" in args.phases:
            await phase_scaleout(args)
        if "rates" in args.phases:
            await phase_rates(args)
        if "hops" in args.phases:
            await phase_hops(args)
        if "ceiling" in args.phases:
            phase_ceiling(args)
        if "state" in args.phases:
            phase_state(args)
    finally:
        # Every namespace a phase made and did not close (the hops chains, a phase that
        # failed): their topics go too, unless MODSTREAM_KEEP_TOPICS=1.
        await release_unclosed()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    inner = sub.add_parser("passthrough", help="the baseline process (run by the bench)")
    inner.add_argument("--namespace", required=True)
    inner.add_argument("--count", type=int, required=True)
    chain = sub.add_parser("faust-chain", help="the Faust hop-cost app (run by the bench)")
    chain.add_argument("--namespace", required=True)
    chain.add_argument("--hops", type=int, required=True)
    chain.add_argument("--port", type=int, required=True)
    chain.add_argument("--source", default="", help="first topic (default: <namespace>.chain0)")
    parser.add_argument(
        "--memory-control",
        action="store_true",
        help="after the memory phase, as many comments again from authors already seen",
    )
    parser.add_argument("--phases", default="throughput,latency,memory,scaleout,rates,hops,ceiling")
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--latency-seconds", type=float, default=30.0)
    parser.add_argument("--memory-authors", type=int, default=100_000)
    parser.add_argument("--rates", default="5,15,30,40", help="offered rates for 'rates'")
    parser.add_argument("--state-authors", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--split-roles",
        action="store_true",
        help="throughput/latency with two workers: the main line and the side branches",
    )
    parser.add_argument(
        "--worker-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="environment for the worker processes, e.g. PRODUCER_LINGER=0.01 (repeatable)",
    )
    args = parser.parse_args(argv)
    if args.command == "faust-chain":
        faust_chain(args.namespace, args.hops, args.port, args.source)
        return 0
    if args.command == "passthrough":
        figures = asyncio.run(passthrough(args.namespace, args.count))
        print(json.dumps(figures))
        return 0
    args.phases = set(args.phases.split(","))
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
