"""The synthetic population and the end-to-end figures on the held-out seed.

The population is smaller than the documented one (docs/quality.md) so the test stays fast;
the thresholds are the targets: pairwise precision ≥ 0.95 and recall ≥ 0.80 on a seed the
weights were not tuned on.
"""

from __future__ import annotations

import pytest

from streams.linking.config import LinkingConfig
from streams.linking.graph import kind_score
from streams.linking.population import (
    BEHAVIOURS,
    DAY_MS,
    START_MS,
    Population,
    PopulationSpec,
    generate,
)
from workers.offline.evaluate_linking import HELD_OUT_SEED, TUNING_SEED, Evaluation, evaluate, run

SMALL = PopulationSpec(seed=HELD_OUT_SEED, accounts=1000, rings=60)


@pytest.fixture(scope="module")
def population() -> Population:
    return generate(SMALL)


@pytest.fixture(scope="module")
def result(population: Population) -> Evaluation:
    return evaluate(population, LinkingConfig())


def test_the_held_out_seed_is_not_the_tuning_seed() -> None:
    assert HELD_OUT_SEED != TUNING_SEED


def test_the_same_seed_gives_the_same_comments_byte_for_byte(population: Population) -> None:
    again = generate(SMALL)
    assert [c.to_bytes() for c in again.comments] == [c.to_bytes() for c in population.comments]
    other = generate(PopulationSpec(seed=SMALL.seed + 1, accounts=50, rings=3))
    assert other.comments[0] != population.comments[0]


def test_rings_and_traps_are_as_specified(population: Population) -> None:
    assert len(population.rings) == SMALL.rings
    for ring in population.rings:
        assert 2 <= len(ring.members) <= 6
        assert len(ring.behaviours) >= SMALL.min_behaviours
        assert set(ring.behaviours) <= set(BEHAVIOURS)
    expected = sum(len(r.members) * (len(r.members) - 1) // 2 for r in population.rings)
    assert len(population.true_pairs) == expected
    # Households and campaigners are ordinary people: never puppets, never true pairs.
    assert population.households
    assert not {a for pair in population.households for a in pair} & population.puppets
    assert not set(population.households) & population.true_pairs
    assert len(population.campaigners) >= SMALL.campaigns
    # Comments are in event-time order, as the stages see them.
    times = [c.event_time_ms for c in population.comments]
    assert times == sorted(times)


def test_precision_and_recall_meet_the_targets_on_the_held_out_seed(result: Evaluation) -> None:
    assert result.scores.precision >= 0.95, result.scores
    assert result.scores.recall >= 0.80, result.scores


def test_every_link_rests_on_at_least_two_kinds_of_evidence(result: Evaluation) -> None:
    graph = result.replay.graph
    cfg = graph.config
    linked = [e for e in graph.edges() if e.linked]
    assert linked
    for edge in linked:
        kinds = [k for k, ev in edge.kinds.items() if kind_score(ev, k, cfg) > 0.0]
        assert len(kinds) >= 2, (edge.author_a, edge.author_b, kinds)


def test_a_replay_is_deterministic(population: Population) -> None:
    first_days = [c for c in population.comments if c.event_time_ms < START_MS + 2 * DAY_MS]
    one, two = run(first_days, LinkingConfig()), run(first_days, LinkingConfig())
    assert one.graph.to_bytes() == two.graph.to_bytes()
    clustered = sorted({m for c in one.graph.clusters() for m in c})
    assert clustered
    assert [one.graph.membership(a, 0) for a in clustered] == [
        two.graph.membership(a, 0) for a in clustered
    ]
