"""The evidence trail a reviewer reads: every kind named, weights, times, score vs threshold."""

from __future__ import annotations

from schemas.identity import LINK_KINDS, LinkOverride, LinkSignal
from streams.linking.config import LinkingConfig
from streams.linking.explain import explain_pair, render
from streams.linking.graph import IdentityGraph

from .linking_builders import DAY_MS, T0, signal, strong_pair

A, B, C = "author-a", "author-b", "author-c"


def graph_of(signals: list[LinkSignal]) -> IdentityGraph:
    graph = IdentityGraph(LinkingConfig())
    for s in signals:
        graph.add(s)
    return graph


def test_the_trail_names_every_kind_with_weights_times_and_the_score() -> None:
    graph = graph_of(
        [
            *strong_pair(A, B),
            signal("co_timing", A, B, evidence="replied to the same post 9 s apart"),
        ]
    )
    text = render(explain_pair(graph, B, A))
    assert text.startswith(f"Accounts {A} and {B}\n")
    assert "Verdict: LINKED: combined score 0.920 ≥ threshold 0.850" in text
    for kind in LINK_KINDS:
        assert f"- {kind} (kind weight" in text
    assert "- near_duplicate (kind weight 0.50, cap 0.70): no evidence" in text
    assert (
        "- shared_signal (kind weight 0.60, cap 0.80, needs 2 observations): 3 observations" in text
    )
    assert "accumulated 0.936; contributes 0.800 (capped)" in text
    assert "contributes 0.000 until 2 observations" in text  # one co-timing is not enough
    assert "2026-03-03 11:00:00Z  weight 1.00 × 0.60 = 0.600  test evidence [x:1, x:2]" in text
    assert "replied to the same post 9 s apart" in text
    assert "Combined score: 1 − (1 − 0.800) × (1 − 0.600) = 0.920" in text
    assert "Cluster: c-" in text and f"joined through {A} → {B}" in text


def test_the_structured_form_carries_the_same_figures() -> None:
    explanation = explain_pair(graph_of(strong_pair(A, B)), A, B)
    assert [t.kind for t in explanation.kinds] == list(LINK_KINDS)
    by_kind = {t.kind: t for t in explanation.kinds}
    assert by_kind["shared_signal"].count == 3 and by_kind["name"].contributes == 0.6
    assert explanation.linked and explanation.path == (A, B)


def test_a_pair_joined_only_through_a_third_account_shows_the_chain() -> None:
    graph = graph_of([*strong_pair(A, B), *strong_pair(B, C), signal("name", A, C)])
    text = render(explain_pair(graph, A, C))
    assert "Verdict: NOT LINKED: combined score 0.600 < threshold 0.850" in text
    assert f"joined through {A} → {B} → {C}" in text


def test_a_pair_with_no_evidence_says_so() -> None:
    text = render(explain_pair(IdentityGraph(LinkingConfig()), A, B))
    assert text.count(": no evidence") == len(LINK_KINDS)
    assert "Combined score: 0.000 (no kind contributes)" in text
    assert "Cluster: not in the same cluster" in text


def test_a_reviewers_split_is_shown_with_who_and_why() -> None:
    graph = graph_of(strong_pair(A, B))
    graph.override(LinkOverride(A, B, "split", "comms-team-7", "siblings", T0 + DAY_MS))
    text = render(explain_pair(graph, A, B))
    assert "Verdict: NOT LINKED: a reviewer split this pair; it never links again" in text
    assert "Reviewer decision: split by comms-team-7 at 2026-03-04 11:00:00Z: siblings" in text
