"""A block reaches the accounts linked to its author by decisions that do not depend on when
the cluster membership arrived: before the block, after it, after a restart in between, or
twice (docs/replay.md, *Linking that had not caught up live*). Live, the membership comes from
the identity graph, which runs behind the main line by however much it lags; in replay it
comes at once. Both must give the same decisions and actions, byte for byte."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from schemas.action import Action, Decision
from schemas.identity import ClusterEdge, ClusterMembership
from streams import topics as specs
from streams.composition import Composition, Outputs
from streams.linking.graph import cluster_id
from streams.stage_configs import StageConfigs
from tests.integration.envelopes import T0_MS
from tests.integration.test_linking import RING, _round
from tests.unit.shipped_composition import PSEUDONYMS, shipped_stages
from tests.unit.shipped_composition import in_memory_composition as composition

MIN = 60_000
BLOCKED, LINKED = (PSEUDONYMS.author_key("facebook", account) for account, _ in RING[:2])
# Three rants within the hour from one account: frequent inflammatory posting, the third blocks.
RANTS = [raw for n in (1, 2, 3) for raw in _round(n, T0_MS + (2 + 9 * n) * MIN, RING[:1])]


@pytest.fixture(scope="module")
def stages() -> StageConfigs:
    return shipped_stages()


def membership(score: float = 0.9) -> ClusterMembership:
    members = tuple(sorted((BLOCKED, LINKED)))
    edge = ClusterEdge(members[0], members[1], score, ("near_duplicate", "shared_signal"))
    return ClusterMembership(
        cluster_id=cluster_id(members),
        author_key=BLOCKED,
        members=members,
        edges=(edge,),
        score=score,
        event_time_ms=T0_MS + 25 * MIN,
    )


def restarted(before: Composition, stages: StageConfigs) -> Composition:
    """A new worker: its tables restored from their changelogs (the bytes), nothing else."""
    after = composition(stages)
    after.stores.windows.table.update(before.stores.windows.table)
    after.stores.enforcement.table.update(before.stores.enforcement.table)
    after.stores.enforcement.rescan()
    after.stores.clusters.update(before.stores.clusters)
    return after


def run(stages: StageConfigs, steps: Iterable[str | int]) -> tuple[set[bytes], set[bytes]]:
    """Decisions and actions (as bytes) after ``steps``: a rant's index, "membership" (a
    membership of the blocked author naming the linked one), or "restart"."""
    c = composition(stages)
    decisions: set[bytes] = set()
    actions: set[bytes] = set()
    for step in steps:
        out: Outputs
        if step == "restart":
            c = restarted(c, stages)
            continue
        if step == "membership":
            out = c.on_cluster(membership(), None, f"{specs.IDENTITY_CLUSTERS.name}[0]@0")
        else:
            assert isinstance(step, int)
            key, value = RANTS[step]
            out = c.on_raw(value, key, f"{specs.RAW.name}[0]@{step}")
        decisions |= {d.to_bytes() for d in out.of(specs.DECISIONS)}
        actions |= {a.to_bytes() for a in out.of(specs.ACTIONS)}
    return decisions, actions


ORDERS: dict[str, list[str | int]] = {
    "membership, then the block": ["membership", 0, 1, 2],
    "the block, then the membership": [0, 1, 2, "membership"],
    "the block, a restart, then the membership": [0, 1, 2, "restart", "membership"],
    "a restart before the block": [0, 1, "restart", 2, "membership"],
    "the membership delivered twice": [0, 1, 2, "membership", "restart", "membership"],
    "the block delivered again": ["membership", 0, 1, 2, "restart", 2],
}


def test_the_same_decisions_whatever_the_order(stages: StageConfigs) -> None:
    results = {name: run(stages, steps) for name, steps in ORDERS.items()}
    decisions, actions = results["membership, then the block"]
    for name, (got_decisions, got_actions) in results.items():
        assert got_decisions == decisions, name
        assert got_actions == actions, name
    blocks = [a for a in map(Action.from_bytes, actions) if a.kind == "block_account"]
    assert sorted(a.target_author for a in blocks) == sorted((BLOCKED, LINKED))
    linked = next(a for a in blocks if a.target_author == LINKED)
    assert cluster_id((BLOCKED, LINKED)) in linked.linked_evidence[0]
    # The author's own decision names the author's block alone; the linked account's block
    # is its own decision about the same comment.
    by_id = {d.decision_id: d for d in map(Decision.from_bytes, decisions)}
    (own,) = (
        d for d in by_id.values() if d.trigger == "comment" and "block_account" in d.action_kinds
    )
    assert own.trigger == "comment" and own.action_kinds.count("block_account") == 1
    assert by_id[linked.decision_id].trigger == "linked_block"
    assert by_id[linked.decision_id].comment_id == own.comment_id


def test_a_membership_evidence_is_the_one_first_seen_with_the_block(stages: StageConfigs) -> None:
    # The graph learns on: a later membership with a higher score changes nothing already
    # decided, and sends nothing (a redelivery of the same membership would send it again).
    c = composition(stages)
    for i, (key, value) in enumerate(RANTS):
        c.on_raw(value, key, f"{specs.RAW.name}[0]@{i}")
    first = c.on_cluster(membership(0.8), None, "identity.clusters[0]@0").of(specs.ACTIONS)
    assert [a.target_author for a in first] == [LINKED]
    assert c.on_cluster(membership(0.95), None, "identity.clusters[0]@1").records == []
    again = c.on_cluster(membership(0.95), None, "identity.clusters[0]@1")
    assert again.records == []
    redelivered = c.on_cluster(membership(0.8), None, "identity.clusters[0]@0")
    assert [a.to_bytes() for a in redelivered.of(specs.ACTIONS)] == [a.to_bytes() for a in first]


def test_a_membership_of_an_author_never_blocked_decides_nothing(stages: StageConfigs) -> None:
    c = composition(stages)
    key, value = RANTS[0]
    c.on_raw(value, key, f"{specs.RAW.name}[0]@0")
    stored = c.stores.enforcement.table.get(BLOCKED.encode())
    out = c.on_cluster(membership(), None, "identity.clusters[0]@0")
    assert out.of(specs.DECISIONS) == [] and out.of(specs.ACTIONS) == []
    assert c.stores.enforcement.table.get(BLOCKED.encode()) == stored


def test_the_authors_later_comments_send_nothing_again(stages: StageConfigs) -> None:
    c = composition(stages)
    c.on_cluster(membership(), None, "identity.clusters[0]@0")
    sent = []
    for i, (key, value) in enumerate(RANTS):
        sent += c.on_raw(value, key, f"{specs.RAW.name}[0]@{i}").of(specs.DECISIONS)
    key, value = _round(4, T0_MS + 40 * MIN, RING[:1])[0]
    later = c.on_raw(value, key, f"{specs.RAW.name}[0]@3").of(specs.DECISIONS)
    assert [d.trigger for d in sent].count("linked_block") == 1
    assert [d.trigger for d in later] == ["comment"]
