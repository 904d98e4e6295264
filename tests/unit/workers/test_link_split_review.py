"""A moderator's split of two linked accounts reaches the identity graph: enforcement undoes
what the link caused, and the graph stops linking the pair, live, after a rebuild, and in
replay (the override is a record on identity.overrides, read by the linking step)."""

from __future__ import annotations

import pytest

from schemas.identity import LinkOverride, LinkSignal
from schemas.review import Review, review_id
from streams import topics as specs
from streams.composition import Composition, link_split
from streams.registry import input_for
from streams.stage_configs import StageConfigs
from tests.unit.shipped_composition import (
    PSEUDONYMS,
    SETTINGS,
    in_memory_composition,
    shipped_stages,
)
from workers.processes.pipeline import run_step

from ..linking.linking_builders import DAY_MS, T0, strong_pair

A, B = "author-a", "author-b"


@pytest.fixture(scope="module")
def stages() -> StageConfigs:
    return shipped_stages()


def composition(stages: StageConfigs) -> Composition:
    return in_memory_composition(stages, wall_clock=lambda: T0 + DAY_MS)


def splitting(author: str, other: str, verb: str = "split_link") -> Review:
    at_ms = T0 + DAY_MS
    return Review(
        review_id=review_id("facebook:c1", verb, "morgan", at_ms),
        verb=verb,
        author_key=author,
        comment_id="facebook:c1",
        platform="facebook",
        policy_version="v",
        reviewer="morgan",
        role="moderator",
        reason="siblings on one tablet",
        at_ms=at_ms,
        actions=(),
        other_author=other if verb == "split_link" else "",
    )


def linked(c: Composition, signals: list[LinkSignal]) -> list[tuple[str, tuple[str, ...]]]:
    """The memberships the linking step emits for these signals, as (author, members)."""
    out = []
    for s in signals:
        step = run_step(c, input_for(specs.IDENTITY_SIGNALS), s.to_bytes(), b"k", "sig")
        out += [(m.author_key, m.members) for m in step.of(specs.IDENTITY_CLUSTERS)]
    return out


def test_a_split_review_becomes_the_graphs_override_of_the_sorted_pair() -> None:
    split = link_split(splitting(B, A))
    assert split == LinkOverride(A, B, "split", "morgan", "siblings on one tablet", T0 + DAY_MS)
    assert link_split(splitting(A, "", verb="reject")) is None


def test_the_split_unlinks_the_pair_live_and_after_a_rebuild(stages: StageConfigs) -> None:
    live = composition(stages)
    memberships = linked(live, strong_pair(A, B))
    assert (A, (A, B)) in memberships  # linked: a block of A would reach B

    reviewed = run_step(
        live, input_for(specs.REVIEWS), splitting(A, B).to_bytes(), A.encode(), "rev"
    )
    [override] = reviewed.of(specs.IDENTITY_OVERRIDES)
    applied = run_step(
        live, input_for(specs.IDENTITY_OVERRIDES), override.to_bytes(), b"a|b", "ovr"
    )
    assert {(m.author_key, m.members) for m in applied.of(specs.IDENTITY_CLUSTERS)} == {
        (A, (A,)),
        (B, (B,)),
    }
    # More evidence after the split never links them again.
    assert all(
        len(members) == 1 for _, members in linked(live, strong_pair(A, B, at_ms=T0 + 2 * DAY_MS))
    )

    # Whoever takes the partition next rebuilds from both logs and agrees.
    rebuilt = composition(stages)
    history = [s.to_bytes() for s in strong_pair(A, B)]
    graph = rebuilt.rebuild_graph(history, [override.to_bytes()])
    assert graph.membership(A, T0 + DAY_MS).members == (A,)


def test_the_offline_runner_follows_the_review_to_the_graph(stages: StageConfigs) -> None:
    # Replay meets the review on `reviews` and follows its override record to the linking step,
    # as it follows every record to the step that reads its topic (streams.registry.INPUTS).
    from workers.offline.offline_pipeline import OfflinePipeline

    offline = OfflinePipeline(stages, PSEUDONYMS, SETTINGS.max_payload_bytes)
    offline.composition.rebuild_graph([s.to_bytes() for s in strong_pair(A, B)])
    offline.review(splitting(A, B).to_bytes(), A.encode(), "ns.reviews[0]@0")
    graph = offline.composition.graph
    assert graph is not None and graph.membership(A, T0 + DAY_MS).members == (A,)
