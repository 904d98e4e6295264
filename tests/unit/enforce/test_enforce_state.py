"""Author state: exact JSON round trip (it lives in a Faust table) and bounded size."""

from __future__ import annotations

from dataclasses import replace

import orjson

from streams.enforce.state import (
    ASKED_REMOVAL,
    COMPLIED,
    NOTICED,
    AuthorState,
    Case,
    Counts,
    prune,
)

from .enforce_builders import finding

DAY = 86_400_000


def case(comment_id: str, stage: str, opened: int, *, closed: int | None = None) -> Case:
    return Case(
        comment_id=comment_id,
        platform="x",
        post_id="x:p",
        stage=stage,
        opened_ms=opened,
        deadline_ms=opened + DAY,
        clauses=("abusive",),
        findings=(finding("abusive"),),
        sources=("comments.raw[3]@42",),
        policy_version="v1",
        closed_ms=closed,
    )


def test_state_round_trips_through_json() -> None:
    state = AuthorState(
        author_key="k",
        cases=(case("x:1", ASKED_REMOVAL, 0), case("x:2", COMPLIED, 5, closed=9)),
        blocked=True,
        blocked_ms=11,
        blocked_for="x:1",
        counts=Counts(verdicts=3, violations=2, requests=2),
    )
    data = state.to_bytes()
    assert AuthorState.from_bytes(data) == state
    assert AuthorState.from_dict(orjson.loads(orjson.dumps(state.to_dict()))) == state
    assert AuthorState.from_bytes(data).to_bytes() == data


def test_with_case_replaces_and_keeps_order() -> None:
    state = AuthorState("k").with_case(case("x:2", ASKED_REMOVAL, 20))
    state = state.with_case(case("x:1", ASKED_REMOVAL, 10))
    state = state.with_case(replace(case("x:2", ASKED_REMOVAL, 20), stage=NOTICED))
    assert [(c.comment_id, c.stage) for c in state.cases] == [
        ("x:1", ASKED_REMOVAL),
        ("x:2", NOTICED),
    ]
    assert state.next_deadline_ms() == 10 + DAY


def test_prune_drops_closed_cases_after_retention_never_open_ones() -> None:
    state = AuthorState(
        "k",
        cases=(
            case("x:old-open", ASKED_REMOVAL, 0),
            case("x:old-closed", COMPLIED, 0, closed=1 * DAY),
            case("x:recent-closed", COMPLIED, 0, closed=25 * DAY),
        ),
    )
    pruned = prune(state, now_ms=40 * DAY, retention_ms=30 * DAY, max_cases=100)
    assert [c.comment_id for c in pruned.cases] == ["x:old-open", "x:recent-closed"]
    assert prune(pruned, now_ms=40 * DAY, retention_ms=30 * DAY, max_cases=100) is pruned


def test_prune_caps_cases_by_dropping_the_oldest_closed() -> None:
    cases = tuple(case(f"x:{i}", COMPLIED, i, closed=i) for i in range(5))
    state = AuthorState("k", cases=(*cases, case("x:open", ASKED_REMOVAL, 0)))
    pruned = prune(state, now_ms=10, retention_ms=DAY, max_cases=3)
    assert sorted(c.comment_id for c in pruned.cases) == ["x:3", "x:4", "x:open"]


def test_idle_state_can_be_forgotten() -> None:
    assert AuthorState("k").is_idle
    assert not AuthorState("k", blocked=True).is_idle
