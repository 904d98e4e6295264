"""The identity graph: how evidence combines, when pairs link, clusters, reviewers' overrides,
expiry, bounds, and snapshots that are a function of the input alone."""

from __future__ import annotations

from itertools import combinations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.identity import LINK_KINDS, ClusterMembership, LinkOverride, LinkSignal, ordered_pair
from streams.linking.config import LinkingConfig
from streams.linking.graph import Edge, IdentityGraph, cluster_id, combine

from .linking_builders import DAY_MS, MINUTE_MS, T0, signal, strong_pair

A, B, C, D = "author-a", "author-b", "author-c", "author-d"


def graph_of(signals: list[LinkSignal], cfg: LinkingConfig | None = None) -> IdentityGraph:
    graph = IdentityGraph(cfg or LinkingConfig())
    for s in signals:
        graph.add(s)
    return graph


def edge_of(graph: IdentityGraph, x: str, y: str) -> Edge:
    edge = graph.edge(x, y)
    assert edge is not None, f"no edge between {x} and {y}"
    return edge


def split(x: str, y: str, at_ms: int = T0 + DAY_MS) -> LinkOverride:
    a, b = ordered_pair(x, y)
    return LinkOverride(a, b, "split", "comms-team-7", "siblings on one tablet", at_ms)


def merge(x: str, y: str, at_ms: int = T0 + DAY_MS) -> LinkOverride:
    a, b = ordered_pair(x, y)
    return LinkOverride(a, b, "merge", "comms-team-7", "admitted in a DM", at_ms)


# --- combining evidence --------------------------------------------------------------------


def test_repeats_of_one_kind_combine_by_noisy_or_up_to_the_cap() -> None:
    graph = graph_of([signal("name", A, B, weight=0.5)])
    edge = graph.edge(A, B)
    assert edge is not None
    assert edge.kinds["name"].combined == pytest.approx(0.65 * 0.5)
    graph.add(signal("name", A, B, weight=0.5))
    assert edge.kinds["name"].combined == pytest.approx(1 - (1 - 0.325) ** 2)
    graph.add(signal("name", A, B, weight=1.0))
    assert edge.score == pytest.approx(0.6)  # the name cap


@pytest.mark.parametrize("kind", LINK_KINDS)
def test_no_amount_of_one_kind_of_evidence_links_a_pair(kind: str) -> None:
    flood = [signal(kind, A, B, at_ms=T0 + i * MINUTE_MS) for i in range(1000)]
    graph = graph_of(flood)
    edge = graph.edge(A, B)
    assert edge is not None and not edge.linked
    assert edge.score == pytest.approx(LinkingConfig().caps[kind])
    assert graph.clusters() == ()


def test_two_weak_kinds_that_strangers_share_do_not_link() -> None:
    # A look-alike name and a look-alike style: both things strangers share.
    graph = graph_of(
        [signal("name", A, B), signal("writing_style", A, B), signal("name", A, B, weight=0.5)]
    )
    assert edge_of(graph, A, B).score == pytest.approx(combine([0.6, 0.55]))
    assert graph.clusters() == ()


def test_a_strong_kind_with_corroboration_links_at_the_threshold() -> None:
    graph = graph_of(strong_pair(A, B))
    edge = graph.edge(A, B)
    assert edge is not None and edge.linked
    assert edge.score == pytest.approx(1 - (1 - 0.8) * (1 - 0.6))
    assert graph.clusters() == ((A, B),)


def test_co_timing_counts_only_once_repeated() -> None:
    once = graph_of([signal("co_timing", A, B), signal("shared_signal", A, B)] * 1)
    edge = once.edge(A, B)
    assert edge is not None and edge.score == 0.0  # neither kind has its repeats yet
    twice = graph_of([signal("co_timing", A, B), signal("shared_signal", A, B)] * 2)
    assert edge_of(twice, A, B).linked


def test_a_kind_with_weight_zero_is_ignored() -> None:
    cfg = LinkingConfig.from_dict({"weights": {"writing_style": 0}})
    graph = graph_of([signal("writing_style", A, B)], cfg)
    assert graph.edge(A, B) is None and graph.stats.ignored_disabled == 1


def test_writing_style_is_a_measurement_the_newest_replaces() -> None:
    graph = graph_of(
        [
            signal("writing_style", A, B, weight=0.9),
            signal("writing_style", A, B, weight=0.2, at_ms=T0 + 1),
        ]
    )
    assert edge_of(graph, A, B).kinds["writing_style"].combined == pytest.approx(0.2)


# --- clusters ------------------------------------------------------------------------------


def test_clusters_are_components_of_linked_pairs_with_a_stable_id() -> None:
    graph = IdentityGraph(LinkingConfig())
    changed: list[ClusterMembership] = []
    for s in [*strong_pair(A, B), *strong_pair(B, C, at_ms=T0 + DAY_MS)]:
        changed.extend(graph.add(s))
    assert graph.clusters() == ((A, B, C),)
    final = {m.author_key: m for m in changed}
    assert set(final) == {A, B, C}
    assert {m.cluster_id for m in final.values()} == {cluster_id([A, B, C])}
    assert final[C].members == (A, B, C)
    assert [(e.author_a, e.author_b) for e in final[C].edges] == [(A, B), (B, C)]
    assert final[C].edges[0].kinds == ("name", "shared_signal")
    assert final[C].score == pytest.approx(0.92)
    # A pair unrelated to the cluster changes nobody's membership.
    assert graph.add(signal("name", C, D)) == ()


def test_memberships_are_only_emitted_when_members_change() -> None:
    graph = graph_of(strong_pair(A, B))
    assert graph.add(signal("co_timing", A, B)) == ()


# --- reviewers' overrides ------------------------------------------------------------------


def test_a_split_pair_is_unlinked_and_never_links_again() -> None:
    graph = graph_of(strong_pair(A, B))
    changed = graph.override(split(A, B))
    assert {(m.author_key, m.members) for m in changed} == {(A, (A,)), (B, (B,))}
    assert graph.edge(A, B) is None
    for s in strong_pair(A, B, at_ms=T0 + 2 * DAY_MS):
        assert graph.add(s) == ()
    assert graph.edge(A, B) is None and graph.stats.refused_split == 4
    assert graph.clusters() == ()


def test_a_split_pair_is_not_joined_through_a_third_account() -> None:
    # A-B strongly linked, B-C linked more weakly; the reviewer says A and C are different
    # people, so the weaker link is the one that gives way.
    b_c = [*strong_pair(B, C), signal("near_duplicate", B, C)]
    a_b = [*strong_pair(A, B), signal("co_timing", A, B), signal("co_timing", A, B)]
    graph = graph_of([*b_c, *a_b])
    assert graph.clusters() == ((A, B, C),)
    graph.override(split(A, C))
    assert graph.clusters() == ((A, B),)
    assert graph.members(C) == (C,)
    # Still divided the same way after more evidence, and after a snapshot round trip.
    graph.add(signal("near_duplicate", B, C))
    assert graph.clusters() == ((A, B),)
    assert IdentityGraph.from_bytes(graph.to_bytes()).clusters() == ((A, B),)


def test_a_merge_links_whatever_the_evidence_and_a_later_split_undoes_it() -> None:
    graph = IdentityGraph(LinkingConfig())
    graph.override(merge(A, B))
    assert graph.clusters() == ((A, B),)
    assert graph.membership(A, T0).edges[0].kinds == ("reviewer_merge",)
    graph.override(split(A, B, at_ms=T0 + 2 * DAY_MS))
    assert graph.clusters() == ()


def test_an_older_decision_arriving_late_does_not_replace_a_newer_one() -> None:
    graph = graph_of(strong_pair(A, B))
    graph.override(split(A, B, at_ms=T0 + 2 * DAY_MS))
    assert graph.override(merge(A, B, at_ms=T0 + DAY_MS)) == ()
    decision = graph.override_for(A, B)
    assert decision is not None and decision.action == "split"
    assert graph.clusters() == ()


# --- bounds --------------------------------------------------------------------------------


def test_edges_without_new_evidence_expire_and_clusters_follow() -> None:
    cfg = LinkingConfig.from_dict({"expiry_days": 10})
    graph = graph_of([*strong_pair(A, B), *strong_pair(B, C, at_ms=T0 + 5 * DAY_MS)], cfg)
    assert graph.clusters() == ((A, B, C),)
    changed = graph.expire(T0 + 12 * DAY_MS)  # A-B is 12 days old, B-C 7
    assert {m.author_key for m in changed} == {A, B, C}
    assert graph.clusters() == ((B, C),) and graph.edge(A, B) is None
    assert graph.stats.expired == 1
    graph.expire(T0 + 16 * DAY_MS)
    assert graph.edge_count == 0 and graph.account_count == 0


def test_an_account_holds_a_bounded_number_of_edges() -> None:
    cfg = LinkingConfig.from_dict({"max_edges_per_account": 3})
    graph = graph_of(strong_pair(A, B), cfg)  # linked: never the one to make way
    for i, other in enumerate(["x1", "x2", "x3"]):
        graph.add(signal("name", A, other, at_ms=T0 + i * MINUTE_MS))
    assert graph.edge(A, "x1") is None  # the oldest unlinked edge made way
    assert graph.edge(A, "x3") is not None and graph.edge(A, B) is not None
    assert graph.stats.evicted == 1


def test_a_new_pair_is_dropped_when_every_edge_of_an_account_is_linked() -> None:
    cfg = LinkingConfig.from_dict({"max_edges_per_account": 1})
    graph = graph_of([*strong_pair(A, B), signal("name", A, C)], cfg)
    assert graph.edge(A, C) is None and graph.stats.dropped_full == 1


def test_each_kind_keeps_only_its_newest_observations() -> None:
    graph = graph_of([signal("name", A, B, at_ms=T0 + i) for i in range(10)])
    evidence = edge_of(graph, A, B).kinds["name"]
    assert evidence.count == 10
    assert [o.event_time_ms for o in evidence.recent] == [T0 + 7, T0 + 8, T0 + 9]


# --- determinism ---------------------------------------------------------------------------


def scenario() -> list[LinkSignal]:
    return [
        *strong_pair(A, B),
        signal("co_timing", C, D, at_ms=T0 + MINUTE_MS),
        *strong_pair(C, D, at_ms=T0 + 2 * MINUTE_MS),
        signal("near_duplicate", B, C, weight=0.7, at_ms=T0 + 3 * MINUTE_MS),
    ]


def test_the_same_signals_give_the_same_bytes_and_cluster_ids() -> None:
    one, two = graph_of(scenario()), graph_of(scenario())
    assert one.to_bytes() == two.to_bytes()
    assert [one.membership(a, T0) for a in (A, B, C, D)] == [
        two.membership(a, T0) for a in (A, B, C, D)
    ]


def test_a_snapshot_round_trip_keeps_everything() -> None:
    graph = graph_of(scenario())
    graph.override(split(A, D))
    restored = IdentityGraph.from_bytes(graph.to_bytes())
    assert restored.to_bytes() == graph.to_bytes()
    assert restored.clusters() == graph.clusters()
    assert restored.override_for(A, D) == graph.override_for(A, D)
    assert restored.config == graph.config


def test_a_snapshot_can_be_reweighed_under_a_new_policy_version() -> None:
    graph = graph_of(strong_pair(A, B))
    stricter = LinkingConfig.from_dict({"threshold": 0.95})
    assert IdentityGraph.from_bytes(graph.to_bytes(), stricter).clusters() == ()


def test_a_snapshot_of_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        IdentityGraph.from_dict({"format": 99})


AUTHORS = ["a", "b", "c", "d", "e"]
PAIRS = list(combinations(AUTHORS, 2))


@settings(max_examples=60, deadline=None)
@given(
    events=st.lists(
        st.tuples(
            st.sampled_from(PAIRS),
            st.sampled_from([*LINK_KINDS, "split", "merge"]),
            st.integers(0, 5 * DAY_MS),
        ),
        max_size=60,
    )
)
def test_clusters_never_hold_a_split_pair_and_snapshots_agree(
    events: list[tuple[tuple[str, str], str, int]],
) -> None:
    graph = IdentityGraph(LinkingConfig())
    for (x, y), what, at in events:
        if what in ("split", "merge"):
            graph.override(LinkOverride(x, y, what, "r", "because", T0 + at))
        else:
            graph.add(signal(what, x, y, at_ms=T0 + at))
    for x, y in PAIRS:
        decision = graph.override_for(x, y)
        if decision is not None and decision.action == "split":
            assert y not in graph.members(x)
    restored = IdentityGraph.from_bytes(graph.to_bytes())
    assert restored.clusters() == graph.clusters()
    assert restored.to_bytes() == graph.to_bytes()
