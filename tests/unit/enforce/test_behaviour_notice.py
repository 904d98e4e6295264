"""Behaviour found after the comment was decided (a campaign across accounts)."""

from __future__ import annotations

from dataclasses import replace

from schemas.verdict import BehaviourFinding, BehaviourNotice
from streams.enforce.logic import on_behaviour
from streams.enforce.state import AuthorState

from .enforce_builders import CFG, london

CAMPAIGN = BehaviourFinding(
    kind="cross_author_spamming",
    window_s=600,
    count=5,
    threshold=5,
    window_start_ms=london(2026, 3, 3, 10),
    comment_ids=("facebook:1_1", "facebook:1_2", "facebook:1_3", "facebook:1_4", "facebook:1_5"),
)


def _notice(kind: BehaviourFinding = CAMPAIGN, comment: str = "facebook:1_3") -> BehaviourNotice:
    return BehaviourNotice(
        author_key="author-c",
        comment_id=comment,
        platform="facebook",
        event_time_ms=london(2026, 3, 3, 10, 5),
        source="rate_windows.bands[1]@7",
        policy_version="v1",
        behaviour=(kind,),
    )


def test_a_campaign_hides_the_comment_and_limits_posting_with_the_evidence() -> None:
    follow = on_behaviour(None, _notice(), CFG)
    kinds = sorted(a.kind for a in follow.actions)
    assert kinds == ["hide_post", "limit_posting"]
    hide = next(a for a in follow.actions if a.kind == "hide_post")
    assert hide.target_comment == "facebook:1_3"
    assert hide.behaviour == (CAMPAIGN,)
    assert hide.reasons == ("cross_author_spamming",)
    [decision] = follow.decisions
    assert decision.action_ids == tuple(a.action_id for a in follow.actions)


def test_the_same_notice_again_is_acted_on_once() -> None:
    first = on_behaviour(None, _notice(), CFG)
    again = on_behaviour(first.state, _notice(), CFG)
    assert first.actions and again.actions == () and again.decisions == ()
    # Without the state (a fresh replay), the same notice yields the same ids.
    fresh = on_behaviour(None, _notice(), CFG)
    assert [a.action_id for a in fresh.actions] == [a.action_id for a in first.actions]


def test_behaviour_the_policy_does_not_act_on_alone_does_nothing() -> None:
    flooding = BehaviourFinding("flooding", 600, 20, 15, london(2026, 3, 3, 10))
    follow = on_behaviour(None, _notice(flooding), CFG)
    assert follow.actions == () and follow.decisions == ()


def test_a_notice_is_decided_on_the_standing_at_its_comments_time_not_on_arrival() -> None:
    # The author is blocked an hour after the comment the notice is about. Live, the notice
    # may arrive before or after that block (it comes from another partition); either way the
    # decision is the one for the standing at the comment's time: free, so posting is limited.
    blocked_later = AuthorState(
        author_key="author-c", blocked=True, blocked_ms=london(2026, 3, 3, 11), blocked_for=""
    )
    before = on_behaviour(None, _notice(), CFG)
    after = on_behaviour(blocked_later, _notice(), CFG)
    assert [d.to_bytes() for d in after.decisions] == [d.to_bytes() for d in before.decisions]
    assert sorted(a.kind for a in after.actions) == ["hide_post", "limit_posting"]
    # Blocked before the comment: the block already stands, nothing to limit.
    blocked_earlier = replace(blocked_later, blocked_ms=london(2026, 3, 3, 9))
    earlier = on_behaviour(blocked_earlier, _notice(), CFG)
    assert [a.kind for a in earlier.actions] == ["hide_post"]
