"""Linking that does not depend on arrival order (issue 17, docs/replay.md "Linking in event
time"): the identity graph meets a ring's signals in whatever order the raw partitions
interleaved, live in one order and in replay in another. The graph, the memberships' edges and
the linked blocks (decisions and actions, cited evidence included) must be the same bytes.

The signals are the real ones: a ring of three accounts on one device posting near-copies and
co-timed replies, one of them blocked for its rants, and a fourth account that joins the ring
only after the block (so the block reaches it later, citing the chain as of when it joined).
"""

from __future__ import annotations

import random
from collections.abc import Iterable

import orjson
import pytest

from schemas.action import Action
from schemas.identity import LinkSignal
from streams import topics as specs
from streams.composition import Outputs
from streams.linking.graph import IdentityGraph
from streams.stage_configs import StageConfigs
from tests.integration.envelopes import T0_MS
from tests.integration.test_linking import RING, _round
from tests.unit.shipped_composition import PSEUDONYMS, shipped_stages
from tests.unit.shipped_composition import in_memory_composition as composition

MIN = 60_000
LATE_JOINER = ("3004", "Taff Truth")
BLOCKED = PSEUDONYMS.author_key("facebook", RING[0][0])
JOINER = PSEUDONYMS.author_key("facebook", LATE_JOINER[0])
# The blocked author's three rants within the hour (frequent inflammatory posting): the
# third, at T0 + 29 min, blocks. They are one partition's records, in this order always.
RANTS = [raw for n in (1, 2, 3) for raw in _round(n, T0_MS + (2 + 9 * n) * MIN, RING[:1])]
BLOCK_MS = T0_MS + 29 * MIN
# The rest of the ring, before the block, and the fourth account on the ring's device with
# the ring's text and co-timed replies, after it (it links at T0 + 50 min or so).
# (Round numbers are comment numbers / 100: distinct from the rants'.)
OTHERS = [
    *_round(11, T0_MS + 2 * MIN + 5_000, RING[1:]),
    *_round(12, T0_MS + 11 * MIN + 5_000, RING[1:]),
    *_round(14, T0_MS + 40 * MIN, [RING[1], LATE_JOINER]),
    *_round(15, T0_MS + 50 * MIN, [RING[2], LATE_JOINER]),
    *_round(16, T0_MS + 60 * MIN, [LATE_JOINER, RING[1]]),
]


@pytest.fixture(scope="module")
def stages() -> StageConfigs:
    return shipped_stages()


@pytest.fixture(scope="module")
def signals(stages: StageConfigs) -> list[LinkSignal]:
    """What the index and band steps find in every comment, fed once in event-time order."""
    c = composition(stages)
    found: list[LinkSignal] = []
    comments = sorted(
        (*RANTS, *OTHERS), key=lambda kv: orjson.loads(kv[1])["payload"]["created_time"]
    )
    for offset, (key, value) in enumerate(comments):
        out = c.on_raw(value, key, f"{specs.RAW.name}[0]@{offset}")
        for record in out.records:
            if record.topic is specs.SIDE:
                side = c.on_side(record.value, record.key, record.topic.name)
                found += side.of(specs.IDENTITY_SIGNALS)
    kinds = {s.kind for s in found}
    assert {"shared_signal", "co_timing", "near_duplicate"} <= kinds, kinds
    assert any(s.event_time_ms >= BLOCK_MS for s in found), "some evidence comes after the block"
    return found


def _event_order(signal: LinkSignal) -> tuple[int, str, str, str]:
    return (signal.event_time_ms, signal.kind, signal.author_a, signal.author_b)


class Worker:
    """One worker holding the graph and the blocked author's partition; ``restart`` is a new
    one with its tables restored from their changelogs and the graph rebuilt from the
    ``identity.signals`` log it had folded, as the live worker does."""

    def __init__(self, stages: StageConfigs) -> None:
        self.stages = stages
        self.c = composition(stages)
        self.log: list[bytes] = []
        self.decisions: set[bytes] = set()
        self.actions: set[bytes] = set()

    def rant(self, offset: int) -> None:
        key, value = RANTS[offset]
        self._keep(self.c.on_raw(value, key, f"{specs.RAW.name}[0]@{offset}"))

    def signal(self, signal: LinkSignal) -> None:
        self.log.append(signal.to_bytes())
        out = self.c.on_signal(signal, None, specs.IDENTITY_SIGNALS.name)
        for membership in out.of(specs.IDENTITY_CLUSTERS):
            source = f"{specs.IDENTITY_CLUSTERS.name}[0]@{len(self.log)}"
            self._keep(self.c.on_cluster(membership, None, source))

    def restart(self) -> None:
        before = self.c
        self.c = composition(self.stages)
        for name in ("windows", "enforcement"):
            getattr(self.c.stores, name).table.update(getattr(before.stores, name).table)
        self.c.stores.enforcement.rescan()
        self.c.stores.clusters.update(before.stores.clusters)
        self.c.rebuild_graph(self.log)

    def _keep(self, out: Outputs) -> None:
        self.decisions |= {d.to_bytes() for d in out.of(specs.DECISIONS)}
        self.actions |= {a.to_bytes() for a in out.of(specs.ACTIONS)}


def run(
    stages: StageConfigs, signals: Iterable[LinkSignal], seed: int, *, restarts: int = 0
) -> Worker:
    """The rants (in their partition's order) interleaved at random with the signals. The
    signals older than the block come in any order, before the block meets the membership;
    the later ones (the fourth account joining) anywhere, before the block or after it, in
    event-time order among themselves: the account is cited as of the moment it joined, as far
    as the graph knew when it first named it (docs/replay.md, "Linking in event time")."""
    rng = random.Random(seed)
    before = [s for s in signals if s.event_time_ms < BLOCK_MS]
    after = sorted((s for s in signals if s.event_time_ms >= BLOCK_MS), key=_event_order)
    rng.shuffle(before)
    steps: list[object] = [*before]
    # The rants keep their order (a partition is read in offset order); the third blocks.
    first, second = sorted(rng.randint(0, len(before)) for _ in range(2))
    steps.insert(second, 1)
    steps.insert(first, 0)
    steps.append(2)
    low = 0
    for signal in after:
        low = rng.randint(low, len(steps))
        steps.insert(low, signal)
        low += 1
    for _ in range(restarts):
        steps.insert(rng.randint(0, len(steps)), "restart")
    worker = Worker(stages)
    for step in steps:
        if step == "restart":
            worker.restart()
        elif isinstance(step, int):
            worker.rant(step)
        else:
            assert isinstance(step, LinkSignal)
            worker.signal(step)
    return worker


def test_the_graph_is_the_same_bytes_whatever_order_its_signals_came_in(
    stages: StageConfigs, signals: list[LinkSignal]
) -> None:
    expected = IdentityGraph(stages.linking)
    for s in signals:
        expected.add(s)
    for seed in range(8):
        shuffled = list(signals)
        random.Random(seed).shuffle(shuffled)
        graph = IdentityGraph(stages.linking)
        for s in shuffled:
            graph.add(s)
        assert graph.to_bytes() == expected.to_bytes(), seed
        for author in (BLOCKED, JOINER):
            assert graph.membership(author, 0) == expected.membership(author, 0), seed
    assert JOINER in expected.members(BLOCKED)


@pytest.mark.parametrize("restarts", [0, 1, 2])
def test_linked_blocks_are_the_same_bytes_in_any_order(
    stages: StageConfigs, signals: list[LinkSignal], restarts: int
) -> None:
    runs = [run(stages, signals, seed, restarts=restarts) for seed in range(6)]
    first = runs[0]
    blocks = [a for a in map(Action.from_bytes, first.actions) if a.kind == "block_account"]
    reached = {a.target_author for a in blocks}
    assert len(reached) == 4, "the author, the ring's other two, and the account that joined later"
    for seed, other in enumerate(runs[1:], 1):
        assert other.decisions == first.decisions, seed
        assert other.actions == first.actions, seed
    joiner = next(a for a in blocks if a.target_author == JOINER)
    ring = [a for a in blocks if a.linked_evidence and a.target_author != JOINER]
    # The ring's accounts are cited as of just before the block; the fourth as of when it joined.
    assert all(" as of 2026-03-03T10:28:59.999Z " in a.linked_evidence[0] for a in ring)
    assert " as of 2026-03-03T10:28:59.999Z " not in joiner.linked_evidence[0]
