"""The stage boundary: every failure becomes a dead letter with the original bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.deadletter import DeadLetter
from streams.runtime import BadRecord, guarded
from workers.metrics import Metrics


@dataclass(frozen=True)
class _Message:
    topic: str = "comments.raw"
    partition: int = 3
    offset: int = 42


@dataclass
class _Event:
    value: Any
    key: Any = b"k"
    message: _Message = _Message()


class _Topic:
    def __init__(self) -> None:
        self.sent: list[tuple[Any, Any]] = []

    async def send(self, *, key: Any = None, value: Any = None) -> None:
        self.sent.append((key, value))


async def _run(handler: Any, value: bytes = b"\xffraw") -> tuple[_Topic, Metrics]:
    dl, metrics = _Topic(), Metrics.create()
    await guarded(_Event(value), stage="s", handler=handler, deadletter=dl, metrics=metrics)
    return dl, metrics


async def test_success_counts_the_outcome_and_sends_no_dead_letter() -> None:
    async def ok(value: bytes, key: bytes | None, source: str) -> str:
        assert source == "comments.raw[3]@42"
        return "clean"

    dl, metrics = await _run(ok)
    assert dl.sent == []
    sample = metrics.registry.get_sample_value(
        "modstream_events_out_total", {"stage": "s", "outcome": "clean"}
    )
    assert sample == 1.0


async def test_bad_record_is_dead_lettered_with_reason_source_and_original_bytes() -> None:
    async def bad(value: bytes, key: bytes | None, source: str) -> str:
        raise BadRecord("invalid_record", "Verdict: KeyError")

    dl, _ = await _run(bad)
    [(key, value)] = dl.sent
    letter = DeadLetter.from_bytes(value)
    assert key == b"k"
    assert (letter.reason, letter.stage, letter.source) == (
        "invalid_record",
        "s",
        "comments.raw[3]@42",
    )
    assert letter.original() == b"\xffraw"


async def test_an_unexpected_exception_is_dead_lettered_not_lost() -> None:
    async def boom(value: bytes, key: bytes | None, source: str) -> str:
        raise ZeroDivisionError

    dl, metrics = await _run(boom)
    letter = DeadLetter.from_bytes(dl.sent[0][1])
    assert (letter.reason, letter.detail) == ("processing_error", "ZeroDivisionError")
    assert (
        metrics.registry.get_sample_value(
            "modstream_dead_letters_total", {"stage": "s", "reason": "processing_error"}
        )
        == 1.0
    )
