"""The stage boundary of the live worker: every failure becomes one dead letter carrying a
bounded prefix of the original with its length, digest and offset; a dead letter that cannot be
sent holds the input until it goes."""

from __future__ import annotations

import hashlib
from typing import Any

from schemas.deadletter import ORIGINAL_PREFIX_BYTES, DeadLetter
from streams import topics as specs
from streams.composition import Composition, Outputs, Record
from streams.registry import Input
from workers.metrics import Metrics
from workers.pipeline import Counting, RecordSender, run_step

SOURCE = "comments.raw[3]@42"


def _input(step: Any, decode: Any = lambda v: v) -> Input:
    return Input(specs.BEHAVIOUR_NOTICES, "enforce", "enforce-notices", decode, step)


def _step(result: Outputs | Exception) -> Any:
    def step(composition: Composition, value: Any, key: bytes | None, source: str) -> Outputs:
        assert source == SOURCE
        if isinstance(result, Exception):
            raise result
        return result

    return step


def _letter(out: Outputs) -> DeadLetter:
    [record] = out.records
    assert record.topic is specs.DEADLETTER and record.key == b"k"
    assert isinstance(record.value, DeadLetter)
    return record.value


def test_success_returns_the_steps_outputs_and_counts_each_stage() -> None:
    done = Outputs(outcomes=[("enforce", "acted")])
    out = run_step(None, _input(_step(done)), b"{}", b"k", SOURCE)  # type: ignore[arg-type]
    assert out is done
    metrics = Metrics.create()
    Counting(metrics).count(out)
    sample = metrics.registry.get_sample_value(
        "modstream_events_out_total", {"stage": "enforce", "outcome": "acted"}
    )
    assert sample == 1.0


def test_a_value_that_does_not_decode_is_an_invalid_record() -> None:
    def decode(value: bytes) -> Any:
        raise KeyError("behaviour")

    out = run_step(None, _input(_step(Outputs()), decode), b"\xffraw", b"k", SOURCE)  # type: ignore[arg-type]
    letter = _letter(out)
    assert (letter.reason, letter.stage, letter.source) == ("invalid_record", "enforce", SOURCE)
    assert letter.original() == b"\xffraw"


def test_an_unexpected_exception_is_dead_lettered_not_lost() -> None:
    out = run_step(None, _input(_step(ZeroDivisionError("the text"))), b"x", b"k", SOURCE)  # type: ignore[arg-type]
    letter = _letter(out)
    assert (letter.reason, letter.detail) == ("processing_error", "ZeroDivisionError")
    metrics = Metrics.create()
    Counting(metrics).count(out)
    assert (
        metrics.registry.get_sample_value(
            "modstream_dead_letters_total", {"stage": "enforce", "reason": "processing_error"}
        )
        == 1.0
    )


def test_a_dead_letter_carries_a_bounded_prefix_its_length_and_digest() -> None:
    huge = b"{" + b"a" * (900 * 1024)
    out = run_step(None, _input(_step(RuntimeError())), huge, b"k", SOURCE)  # type: ignore[arg-type]
    letter = _letter(out)
    assert letter.original() == huge[:ORIGINAL_PREFIX_BYTES] and letter.truncated
    assert letter.original_length == len(huge)
    assert letter.original_sha256 == hashlib.sha256(huge).hexdigest()
    assert len(letter.to_bytes()) < 100 * 1024  # far under any broker's message limit


class _Delivered:
    def __await__(self) -> Any:
        return iter(())


class _FlakyTopic:
    """Refuses the first ``failures`` sends, as a producer that lost the broker would."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[tuple[bytes, bytes]] = []

    async def send(self, *, key: bytes, value: bytes, partition: int | None = None) -> _Delivered:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("broker gone")
        self.sent.append((key, value))
        return _Delivered()


async def test_a_dead_letter_that_fails_to_send_holds_the_input_until_it_goes() -> None:
    topic = _FlakyTopic(failures=3)
    metrics = Metrics.create()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    sender = RecordSender({specs.DEADLETTER.name: topic}, metrics, sleep=sleep)  # type: ignore[dict-item]
    letter = DeadLetter.of(
        b"x", reason="oversize", detail="d", stage="normalise", source=SOURCE, failed_at_ms=0
    )
    await sender.send_all([Record(specs.DEADLETTER, b"k", letter)])
    # send_all returned only once the letter went: the agent acks the input after that.
    assert topic.sent == [(b"k", letter.to_bytes())]
    assert slept == [0.5, 1.0, 2.0]
    failures = metrics.registry.get_sample_value(
        "modstream_send_failures_total", {"topic": specs.DEADLETTER.name}
    )
    assert failures == 3.0
