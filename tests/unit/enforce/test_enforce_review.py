"""A person's decision from the console (``reviews``) as an enforcement input: on_review."""

from __future__ import annotations

import pytest

from schemas.action import Action, ActionResult
from schemas.review import Review, ReviewedAction, review_id
from streams.enforce.logic import decide, on_result, on_review, on_timer, reach_linked
from streams.enforce.state import ASKED_REMOVAL, OVERTURNED, AuthorState

from .enforce_builders import CFG, all_actions, decide_linked, inflammatory, london, verdict

TUE_10 = london(2026, 6, 2, 10)
TUE_11 = london(2026, 6, 2, 11)
NEXT_MON_10 = london(2026, 6, 15, 10)
SOURCE = "reviews[0]@7"


def review(
    verb: str, about: Action, actions: tuple[Action, ...] = (), *, author: str = "", **extra: str
) -> Review:
    return Review(
        review_id=review_id(about.target_comment, verb, "mod.jones", TUE_11),
        verb=verb,
        author_key=author or about.target_author,
        comment_id=about.target_comment or "x:1",
        platform=about.platform,
        policy_version=about.policy_version,
        reviewer="mod.jones",
        role="moderator",
        reason="not spam: a charity event",
        at_ms=TUE_11,
        actions=tuple(ReviewedAction.of(a) for a in actions),
        **extra,
    )


def spam_outcome() -> tuple[AuthorState, tuple[Action, ...]]:
    outcome = decide(None, verdict(TUE_10, "spamming"), CFG)
    return outcome.state, outcome.actions


def test_reject_undoes_the_hide_and_the_limit_and_records_one_decision() -> None:
    state, actions = spam_outcome()
    hide = next(a for a in actions if a.kind == "hide_post")
    follow = on_review(state, review("reject", hide, actions), SOURCE, CFG)
    assert sorted(a.kind for a in follow.actions) == ["lift_posting_limit", "unhide_post"]
    unhide = next(a for a in follow.actions if a.kind == "unhide_post")
    assert (unhide.target_author, unhide.target_comment) == (
        hide.target_author,
        hide.target_comment,
    )
    assert unhide.due_at_ms == TUE_11  # a person decided: nothing waits for monitoring hours
    assert unhide.reasons == hide.reasons
    (decision,) = follow.decisions
    assert decision.trigger == "review"
    assert decision.source == SOURCE
    assert decision.action_ids == tuple(a.action_id for a in follow.actions)
    assert decision.outcome == "actions"


def test_the_same_review_again_yields_the_same_bytes() -> None:
    state, actions = spam_outcome()
    hide = next(a for a in actions if a.kind == "hide_post")
    first = on_review(state, review("reject", hide, actions), SOURCE, CFG)
    again = on_review(first.state, review("reject", hide, actions), SOURCE, CFG)
    assert [a.to_bytes() for a in again.actions] == [a.to_bytes() for a in first.actions]
    assert again.decisions[0].to_bytes() == first.decisions[0].to_bytes()


def test_reject_stops_the_ladder_no_notice_follows() -> None:
    outcome = decide(None, verdict(TUE_10, "abusive"), CFG)
    reply = outcome.actions[0]
    assert outcome.state.cases[0].stage == ASKED_REMOVAL
    follow = on_review(outcome.state, review("reject", reply, outcome.actions), SOURCE, CFG)
    assert follow.actions == ()  # a reply cannot be unsaid
    assert follow.decisions[0].outcome == "no_action"
    assert follow.state.cases[0].stage == OVERTURNED
    assert on_timer(follow.state, NEXT_MON_10, CFG).actions == ()


@pytest.mark.parametrize("verb", ["approve", "escalate", "appeal_received", "appeal_dismissed"])
def test_verbs_that_keep_the_actions_undo_nothing(verb: str) -> None:
    state, actions = spam_outcome()
    hide = next(a for a in actions if a.kind == "hide_post")
    follow = on_review(state, review(verb, hide, actions), SOURCE, CFG)
    assert follow.actions == ()
    assert follow.state == state
    assert len(follow.decisions) == 1


def test_rejected_block_unblocks_once_the_executor_reports_it_done() -> None:
    assessed = verdict(TUE_10, "abusive", behaviour=(inflammatory(TUE_10, "x:a", "x:b"),))
    outcome, reached = decide_linked(None, assessed, CFG, [("linked-author", "cluster c1")])
    blocks = [a for a in all_actions(outcome, reached) if a.kind == "block_account"]
    assert {b.target_author for b in blocks} == {assessed.comment.author_key, "linked-author"}
    assert reached.state.blocked
    own = next(b for b in blocks if b.target_author == assessed.comment.author_key)
    follow = on_review(reached.state, review("appeal_upheld", own, (own,)), SOURCE, CFG)
    (unblock,) = follow.actions
    assert unblock.kind == "unblock_account" and unblock.target_comment == ""
    assert follow.state.blocked  # not until the executor has done it
    done = ActionResult(
        action_id=unblock.action_id,
        kind=unblock.kind,
        target_author=unblock.target_author,
        target_comment="",
        outcome="done",
        detail="",
        at_ms=TUE_11,
    )
    assert not on_result(follow.state, done, CFG).state.blocked
    # Nor does the reversed block reach an account linked to the author after it.
    later = reach_linked(follow.state, [("linked-author", "c1"), ("another", "c1")], CFG)
    assert later.decisions == () and later.state == follow.state


def test_split_link_unblocks_the_linked_account_only() -> None:
    assessed = verdict(TUE_10, "abusive", behaviour=(inflammatory(TUE_10, "x:a", "x:b"),))
    _, reached = decide_linked(None, assessed, CFG, [("linked-author", "cluster c1")])
    linked = next(a for a in reached.actions if a.target_author == "linked-author")
    split = review(
        "split_link",
        linked,
        (linked,),
        author=assessed.comment.author_key,
        other_author="linked-author",
    )
    follow = on_review(reached.state, split, SOURCE, CFG)
    assert [(a.kind, a.target_author) for a in follow.actions] == [
        ("unblock_account", "linked-author")
    ]
    # The author's own block stands, and still reaches another account linked later.
    later = reach_linked(follow.state, [("linked-author", "c1"), ("another", "c1")], CFG)
    assert [a.target_author for a in later.actions] == ["another"]


def _as_dict(record: Review) -> dict[str, object]:
    from schemas.codec import loads

    loaded: dict[str, object] = loads(record.to_bytes())
    return loaded


def test_review_round_trips_and_refuses_nonsense() -> None:
    _, actions = spam_outcome()
    hide = next(a for a in actions if a.kind == "hide_post")
    record = review("reject", hide, actions)
    assert Review.from_bytes(record.to_bytes()) == record
    with pytest.raises(ValueError, match="verb"):
        Review.from_dict({**_as_dict(record), "verb": "delete_everything"})
    with pytest.raises(ValueError, match="role"):
        Review.from_dict({**_as_dict(record), "role": "admin"})
    with pytest.raises(ValueError, match="other account"):
        Review.from_dict({**_as_dict(record), "verb": "split_link"})


def test_state_of_another_author_is_refused() -> None:
    _, actions = spam_outcome()
    hide = next(a for a in actions if a.kind == "hide_post")
    with pytest.raises(ValueError, match="author"):
        on_review(AuthorState(author_key="someone-else"), review("reject", hide), SOURCE, CFG)
