"""The live main line's batch helpers: a batch split by partition in consumed order, and
Faust's current event named for the table writes of each part (their changelog partition)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from faust.streams import current_event as faust_current_event

from workers.processes.pipeline import by_partition, current_event


class Event:
    """What the helpers read of a Faust event (weak-referenceable, as Faust's are)."""

    def __init__(self, topic: str, partition: int, offset: int) -> None:
        self.message = SimpleNamespace(topic=topic, partition=partition, offset=offset)


def event(topic: str, partition: int, offset: int) -> Any:
    return Event(topic, partition, offset)


def test_a_batch_is_split_by_partition_keeping_each_partitions_order() -> None:
    batch = [event("raw", p, o) for p, o in [(1, 10), (0, 5), (1, 11), (2, 7), (0, 6), (1, 12)]]
    parts = by_partition(batch)
    assert [[(e.message.partition, e.message.offset) for e in part] for part in parts] == [
        [(1, 10), (1, 11), (1, 12)],
        [(0, 5), (0, 6)],
        [(2, 7)],
    ]


def test_the_current_event_is_set_for_the_block_and_restored_after() -> None:
    assert faust_current_event() is None
    first, second = event("raw", 3, 1), event("raw", 0, 2)
    with current_event(first):
        assert faust_current_event() is first
        with current_event(second):
            assert faust_current_event() is second
        assert faust_current_event() is first
    assert faust_current_event() is None
