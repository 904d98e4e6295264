"""What runs around the composed steps that is not a step: where an input came from, the wall
clock for operational stamps, and the stage boundary.

The stage boundary (``guarded_step``: decode, run the step, dead-letter any failure) is shared
by the live worker (``workers.processes.pipeline.run_step``: Faust acks a message whose
handler raised and restarts the actor, so an escaped exception would lose the event) and the
offline runner's inputs read from a topic (replay's reviews), so both answer a bad input with
the same letter.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from schemas.codec import RecordError
from schemas.deadletter import DeadLetter
from streams import topics as specs
from streams.composition import Composition, Outputs, Record
from streams.registry import Input

log = logging.getLogger(__name__)


def source_of(event: Any) -> str:
    """``topic[partition]@offset``: how operators and auditors find the input again."""
    msg = event.message
    return f"{msg.topic}[{msg.partition}]@{msg.offset}"


def wall_ms() -> int:
    # Wall clock is only for operational fields (dead-letter time, latency metrics), never
    # for decisions, which run on event time so replay is deterministic.
    return int(time.time() * 1000)


def guarded_step(
    composition: Composition,
    item: Input,
    value: bytes,
    key: bytes | None,
    source: str,
    *,
    failed_at_ms: int,
) -> Outputs:
    """Decode and run one input's step; anything it raises becomes this input's dead letter,
    stamped ``failed_at_ms`` (the wall clock live; a constant in replay)."""
    try:
        decoded = item.decode(value)
    except RecordError as exc:
        # Names the field that was wrong ("Verdict at comment.event_time_ms: Expected int, got
        # str"), never its value, which may be comment text or an account id.
        detail, reason = str(exc), "invalid_record"
    except (ValueError, TypeError, KeyError) as exc:
        detail, reason = f"{item.topic.record}: {type(exc).__name__}", "invalid_record"
    else:
        try:
            return item.step(composition, decoded, key, source)
        except Exception as exc:
            log.exception("%s failed on %s", item.stage, source)
            detail, reason = type(exc).__name__, "processing_error"
    letter = DeadLetter.of(
        value,
        reason=reason,
        detail=detail,
        stage=item.stage,
        source=source,
        failed_at_ms=failed_at_ms,
    )
    return Outputs(
        records=[Record(specs.DEADLETTER, key or b"", letter)],
        outcomes=[(item.stage, "dead_letter")],
        dead_letter=letter,
    )


def guarded_batch(
    composition: Composition,
    item: Input,
    inputs: Sequence[tuple[bytes, bytes | None, str]],
    *,
    failed_at_ms: int,
) -> list[Outputs]:
    """Several inputs of one partition, in offset order, each through ``guarded_step``: the
    same outputs as one at a time, with each key's table writes coalesced into one per table
    for the batch (``Stores.batch``). Each input is ``(value, key, source)``."""
    with composition.stores.batch():
        return [
            guarded_step(composition, item, value, key, source, failed_at_ms=failed_at_ms)
            for value, key, source in inputs
        ]
