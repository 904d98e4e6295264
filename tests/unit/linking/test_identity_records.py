"""The identity records: byte round trips, a pair always in one order, closed vocabularies,
and shapes the JSON Schema generator can publish."""

from __future__ import annotations

import pytest

from schemas import jsonschema as generator
from schemas.identity import (
    ClusterEdge,
    ClusterMembership,
    LinkOverride,
    LinkSignal,
    ordered_pair,
)

A = "1a2b3c4d5e6f70819a2b3c4d5e6f7081"
B = "9f8e7d6c5b4a39281f0e1d2c3b4a5968"

SIGNAL = LinkSignal(
    kind="co_timing",
    author_a=A,
    author_b=B,
    weight=1.0,
    evidence="replied to the same post 12 s apart (1 other(s) within 60 s)",
    event_time_ms=1_772_535_737_000,
    source_ids=("x:1", "x:2"),
)
MEMBERSHIP = ClusterMembership(
    cluster_id="c-0011223344556677",
    author_key=B,
    members=(A, B),
    edges=(ClusterEdge(A, B, 0.92, ("name", "shared_signal")),),
    score=0.92,
    event_time_ms=1_772_535_737_000,
)
OVERRIDE = LinkOverride(
    author_a=A,
    author_b=B,
    action="split",
    reviewer="comms-team-7",
    reason="mother and daughter sharing a tablet",
    at_ms=1_772_600_000_000,
)


@pytest.mark.parametrize("record", [SIGNAL, MEMBERSHIP, OVERRIDE], ids=lambda r: type(r).__name__)
def test_bytes_round_trip(record: LinkSignal | ClusterMembership | LinkOverride) -> None:
    assert type(record).from_bytes(record.to_bytes()) == record
    # Same content, same bytes: replay compares records byte for byte.
    assert type(record).from_bytes(record.to_bytes()).to_bytes() == record.to_bytes()


def test_ordered_pair_sorts_and_refuses_a_pair_of_one() -> None:
    assert ordered_pair(B, A) == (A, B) == ordered_pair(A, B)
    with pytest.raises(ValueError, match="two different accounts"):
        ordered_pair(A, A)


def test_a_signal_pair_must_be_sorted() -> None:
    with pytest.raises(ValueError, match="sort strictly before"):
        LinkSignal("name", B, A, 0.5, "identical display names", 0, ())


def test_a_signal_kind_and_weight_are_checked() -> None:
    with pytest.raises(ValueError, match="kind"):
        LinkSignal("same_vibes", A, B, 0.5, "", 0, ())
    with pytest.raises(ValueError, match="between 0 and 1"):
        LinkSignal("name", A, B, 1.5, "", 0, ())


def test_an_override_needs_a_known_action_a_reviewer_and_a_reason() -> None:
    with pytest.raises(ValueError, match="action"):
        LinkOverride(A, B, "ignore", "comms-team-7", "because", 0)
    with pytest.raises(ValueError, match="reviewer and a reason"):
        LinkOverride(A, B, "split", "comms-team-7", "  ", 0)


@pytest.mark.parametrize("record", [LinkSignal, ClusterMembership, LinkOverride])
def test_the_schema_generator_can_publish_each_record(record: type) -> None:
    schema = generator.record_schema(record)
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"])
