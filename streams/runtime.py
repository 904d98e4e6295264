"""What the live worker needs around the composed steps that is not a step: where an input came
from, and the wall clock for operational stamps.

The stage boundary itself (decode, run the step, dead-letter any failure) is
``workers.pipeline.run_step``: Faust acks a message whose handler raised and restarts the actor,
so an escaped exception would lose the event.
"""

from __future__ import annotations

import time
from typing import Any


def source_of(event: Any) -> str:
    """``topic[partition]@offset``: how operators and auditors find the input again."""
    msg = event.message
    return f"{msg.topic}[{msg.partition}]@{msg.offset}"


def wall_ms() -> int:
    # Wall clock is only for operational fields (dead-letter time, latency metrics), never
    # for decisions, which run on event time so replay is deterministic.
    return int(time.time() * 1000)
