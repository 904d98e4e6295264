"""What a local run answered, read back from the broker and matched to its inputs.

Every raw input is named as the stages name it, ``topic[partition]@offset``: a decision that
answers a comment carries it as ``source``, and so does a dead letter. Producing with
``send`` returns those names, so a caller can tell, input by input, whether it was answered,
and how many times. The fault tests and ``bench/input_mix.py`` both count this way.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.bench_pipeline import end_offsets
from schemas.action import TRIGGER_COMMENT, Decision
from schemas.deadletter import DeadLetter
from streams import topics as specs
from workers.dev.local_run import LocalPipeline
from workers.kafka_clients import kafka_options

Message = tuple[bytes | None, bytes]


@dataclass
class Outcomes:
    """Everything the pipeline wrote about a run, as read back from the broker."""

    raw_topic: str
    decisions: list[Decision] = field(default_factory=list)
    letters: list[DeadLetter] = field(default_factory=list)
    actions: list[bytes] = field(default_factory=list)

    def answering(self) -> list[Decision]:
        """Decisions that answer an input comment (not a later behaviour notice or timer)."""
        return [d for d in self.decisions if d.trigger == TRIGGER_COMMENT]

    def decided_sources(self) -> set[str]:
        return {d.source for d in self.answering()} | {
            dl.source for dl in self.letters if dl.source.startswith(f"{self.raw_topic}[")
        }


async def send(run: LocalPipeline, messages: Sequence[Message]) -> list[str]:
    """Produce to the raw topic and return each message's ``topic[partition]@offset``."""
    producer = AIOKafkaProducer(**kafka_options(run.settings), acks="all", linger_ms=5)
    await producer.start()
    topic = run.topic(specs.RAW.name)
    try:
        futures = [await producer.send(topic, key=k, value=v) for k, v in messages]
        sent = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [f"{topic}[{m.partition}]@{m.offset}" for m in sent]


async def read_back(run: LocalPipeline) -> Outcomes:
    """Every record on decisions, dead letters and actions, up to their current ends."""
    names = {
        run.topic(specs.DECISIONS.name): "decisions",
        run.topic(specs.DEADLETTER.name): "letters",
        run.topic(specs.ACTIONS.name): "actions",
    }
    consumer = AIOKafkaConsumer(
        **kafka_options(run.settings), enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    out = Outcomes(run.topic(specs.RAW.name))
    try:
        tps = [TopicPartition(t, p) for t in names for p in range(run.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        remaining = {tp for tp, end in ends.items() if end > 0}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                for r in records:
                    value = r.value or b""
                    kind = names[tp.topic]
                    if kind == "decisions":
                        out.decisions.append(Decision.from_bytes(value))
                    elif kind == "letters":
                        out.letters.append(DeadLetter.from_bytes(value))
                    else:
                        out.actions.append(value)
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return out


async def answer_records(run: LocalPipeline) -> int:
    """How many records the decisions and dead-letter topics hold (their end offsets): a
    cheap upper bound on the answers, so the full read waits until it can be complete."""
    total = 0
    for topic in (specs.DECISIONS.name, specs.DEADLETTER.name):
        total += sum((await end_offsets(run.settings, run.topic(topic))).values())
    return total


async def wait_answered(
    run: LocalPipeline, sources: set[str], *, timeout_s: float, settle_s: float = 3.0
) -> Outcomes:
    """Read back until every input source has an answer (or the timeout), then once more
    after ``settle_s`` so late duplicates are counted too. What is missing at the timeout
    shows in the result: the caller says what that means."""
    deadline = time.monotonic() + timeout_s
    while True:
        if await answer_records(run) >= len(sources) or time.monotonic() > deadline:
            got = await read_back(run)
            if sources <= got.decided_sources() or time.monotonic() > deadline:
                break
        await asyncio.sleep(1.0)
    await asyncio.sleep(settle_s)
    return await read_back(run)
