"""A restarted worker fetches no input record before recovery has seeked and cleared,
and never fetches records of partitions it did not ask for.

Faust's recovery resumes input partitions, seeks them to the committed offsets, then clears
every agent's queue (workers/processes/recovery_consumer.py). Records fetched between the
resume and the clear were dropped and, through a bogus offset gap, committed past: inputs lost
after a kill -9. These tests pin that input partitions stay unfetched until the flow resumes after a
completed seek, and that the Faust sequence this relies on has not changed.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterator

import faust
import pytest
from faust.tables.recovery import Recovery
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message

from workers.processes.recovery_consumer import RecoverySafeConsumer, install

INPUT = TP("ns.comments.verdicts", 0)
OTHER_INPUT = TP("ns.comments.normalised", 1)


@pytest.fixture
def app() -> Iterator[faust.App]:
    app = faust.App("seek-first-test", broker="kafka://127.0.0.1:1", autodiscover=False)
    install(app)
    app.Table("state", partitions=2)  # a changelog topic, so changelog partitions exist
    yield app


def changelog_tp(app: faust.App) -> TP:
    (topic,) = app.tables.changelog_topics
    return TP(topic, 0)


def consumer_of(app: faust.App, monkeypatch: pytest.MonkeyPatch) -> RecoverySafeConsumer:
    consumer = app.consumer
    assert isinstance(consumer, RecoverySafeConsumer)
    assigned = {INPUT, OTHER_INPUT, changelog_tp(app)}
    monkeypatch.setattr(consumer, "assignment", lambda: assigned)

    async def committed() -> dict[TP, int]:
        return {INPUT: 7, OTHER_INPUT: 20}

    # perform_seek's only broker call; the rest of it (read offsets) is Faust's own code.
    monkeypatch.setattr(consumer, "seek_to_committed", committed)
    # As after an assignment: Faust pauses everything until recovery resumes it.
    consumer.pause_partitions(assigned)
    return consumer


def fetching(consumer: RecoverySafeConsumer) -> set[TP]:
    return set(consumer._get_active_partitions())


async def test_inputs_are_not_fetched_between_resume_and_the_flow_after_the_seek(
    app: faust.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = consumer_of(app, monkeypatch)
    changelog = changelog_tp(app)

    # Recovery.on_recovery_completed, step by step.
    consumer.resume_partitions({INPUT, OTHER_INPUT, changelog})
    assert fetching(consumer) == {changelog}, "recovery reads changelogs; inputs must wait"
    await consumer.perform_seek()
    assert fetching(consumer) == {changelog}, "still before flow_control.resume() clears"
    assert consumer._read_offset[INPUT] == 7
    consumer.resume_flow()
    assert fetching(consumer) == {INPUT, OTHER_INPUT, changelog}
    assert not consumer.held_for_seek


async def test_a_flow_resume_without_a_seek_does_not_release_inputs(
    app: faust.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = consumer_of(app, monkeypatch)
    consumer.resume_partitions({INPUT})
    consumer.resume_flow()  # e.g. recovery resuming standby changelogs
    assert INPUT not in fetching(consumer)
    await consumer.perform_seek()
    consumer.resume_flow()
    assert INPUT in fetching(consumer)


async def test_partitions_revoked_while_held_are_not_resumed(
    app: faust.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    consumer = consumer_of(app, monkeypatch)
    consumer.resume_partitions({INPUT, OTHER_INPUT})
    monkeypatch.setattr(consumer, "assignment", lambda: {INPUT})
    await consumer.perform_seek()
    consumer.resume_flow()
    assert fetching(consumer) == {INPUT}


def test_install_refuses_an_app_whose_transport_exists() -> None:
    app = faust.App("seek-first-late", broker="kafka://127.0.0.1:1", autodiscover=False)
    app.transport  # noqa: B018 - creating it is the point
    with pytest.raises(RuntimeError):
        install(app)


def test_faust_recovery_still_resumes_seeks_clears_then_resumes_flow() -> None:
    # The fix releases inputs in resume_flow(), which must come after the seek and after
    # flow_control.resume() (the queue clear). If Faust reorders this, revisit
    # workers/processes/recovery_consumer.py.
    for method in (Recovery.on_recovery_completed, Recovery._resume_streams):
        source = inspect.getsource(method)
        steps = [
            "consumer.resume_partitions(",
            "consumer.perform_seek()",
            "flow_control.resume()",
            "consumer.resume_flow()",
        ]
        positions = [source.index(step) for step in steps]
        assert positions == sorted(positions), method.__name__


async def test_each_fetch_gets_a_copy_of_the_active_partitions(
    app: faust.App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # aiokafka reads the set later, in the consumer thread, and takes an empty one for
    # "every partition"; Faust then drops the records of partitions that are not active.
    consumer = consumer_of(app, monkeypatch)
    consumer.resume_partitions({changelog_tp(app)})
    asked: list[set[TP] | None] = []

    async def getmany(active: set[TP] | None, _timeout: float) -> dict[TP, list[object]]:
        asked.append(active)
        return {}

    monkeypatch.setattr(consumer._thread, "getmany", getmany)
    live = consumer._get_active_partitions()
    await consumer._getmany(live, 1.0)
    live.clear()  # recovery pausing the changelogs while the fetch is pending
    assert asked == [{changelog_tp(app)}]
    assert asked[0] is not live
    assert await consumer._getmany(live, 1.0) == {}, "an empty set must not fetch everything"
    assert len(asked) == 1


async def test_a_revocation_that_meets_taken_input_records_says_how_many(
    app: faust.App, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # tests/integration/test_rebalance.py reads this line to know a rebalance met a batch.
    consumer = consumer_of(app, monkeypatch)
    revoked_by_faust: list[set[TP]] = []

    async def faust_revocation(self: object, revoked: set[TP]) -> None:
        revoked_by_faust.append(revoked)

    monkeypatch.setattr(faust_aiokafka.Consumer, "on_partitions_revoked", faust_revocation)
    taken = [
        Message(tp.topic, tp.partition, offset, 0.0, 0, None, b"k", b"v", None, tp=tp)
        for tp, offset in [(INPUT, 1), (INPUT, 2), (OTHER_INPUT, 5), (changelog_tp(app), 9)]
    ]
    for message in taken:  # a WeakSet: the list keeps them alive
        consumer._unacked_messages.add(message)
    with caplog.at_level(logging.INFO, logger="workers.processes.recovery_consumer"):
        await consumer.on_partitions_revoked({INPUT, changelog_tp(app)})
        await consumer.on_partitions_revoked({TP("ns.comments.raw", 3)})
    lines = [r.getMessage() for r in caplog.records]
    # Two taken on the revoked input; the changelog's and the kept partition's do not count.
    assert lines == [
        "revoking 2 partitions with 2 input records taken and not acknowledged, on 1 of them"
    ]
    assert revoked_by_faust == [{INPUT, changelog_tp(app)}, {TP("ns.comments.raw", 3)}]
