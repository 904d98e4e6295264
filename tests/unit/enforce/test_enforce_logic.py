"""The decision procedure, path by path, with explicit event times (Europe/London).

The week used: Monday 1 June 2026 to Friday 5 June, weekend 6-7 June, no bank holidays.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from schemas.action import ACTION_KINDS, Action, ActionResult, Decision
from schemas.codec import replace as replace_record
from schemas.verdict import Verdict
from streams.enforce.logic import FollowUp, Outcome, decide, on_result, on_timer
from streams.enforce.state import (
    ASKED_REMOVAL,
    BLOCKED,
    COMPLIED,
    FAILED,
    HIDDEN,
    NOTICED,
    REMOVED,
    REVIEW,
    AuthorState,
)

from .enforce_builders import (
    CFG,
    all_actions,
    all_decisions,
    config,
    decide_linked,
    finding,
    inflammatory,
    london,
    spamming,
    verdict,
)

TUE_10 = london(2026, 6, 2, 10)
FRI_10 = london(2026, 6, 5, 10)  # TUE_10 + 24 working hours
NEXT_WED_10 = london(2026, 6, 10, 10)  # FRI_10 + 24 working hours
SAT_14 = london(2026, 6, 6, 14)
SUN_3AM = london(2026, 6, 7, 3)
MON_9 = london(2026, 6, 8, 9)


def kinds(actions: tuple[Action, ...]) -> list[str]:
    return [a.kind for a in actions]


def only(actions: tuple[Action, ...], kind: str) -> Action:
    found = [a for a in actions if a.kind == kind]
    assert len(found) == 1, kinds(actions)
    return found[0]


def result(action: Action, outcome: str, at_ms: int) -> ActionResult:
    return ActionResult(
        action_id=action.action_id,
        kind=action.kind,
        target_author=action.target_author,
        target_comment=action.target_comment,
        outcome=outcome,
        detail="",
        at_ms=at_ms,
    )


def assert_decision_matches(decision: Decision, actions: tuple[Action, ...]) -> None:
    assert decision.action_ids == tuple(a.action_id for a in actions)
    assert decision.action_kinds == tuple(a.kind for a in actions)
    assert all(a.decision_id == decision.decision_id for a in actions)
    assert all(a.kind in ACTION_KINDS for a in actions)
    assert len({a.action_id for a in actions}) == len(actions)


# --- one verdict, every path: table-driven --------------------------------------------------

# (id, verdict, expected kinds in order, outcome, case stage or None)
SINGLE_VERDICT_PATHS = [
    ("clean", verdict(TUE_10), [], "no_action", None),
    ("abusive", verdict(TUE_10, "abusive"), ["reply_ask_removal"], "actions", ASKED_REMOVAL),
    (
        "allegation",
        verdict(TUE_10, "allegation"),
        ["preserve_evidence", "delete_post"],
        "actions",
        REMOVED,
    ),
    (
        "hate-critical",
        verdict(TUE_10, "hate", severity="critical"),
        ["preserve_evidence", "delete_post"],
        "actions",
        REMOVED,
    ),
    (
        "threat-critical-finding",
        verdict(TUE_10, "abusive", severity="critical"),
        ["preserve_evidence", "delete_post"],
        "actions",
        REMOVED,
    ),
    (
        "investigated-post",
        verdict(TUE_10, post_id="facebook:p-investigated"),
        ["preserve_evidence", "delete_post"],
        "actions",
        REMOVED,
    ),
    (
        "investigated-comment",
        verdict(TUE_10, "abusive", comment_id="facebook:c-investigated"),
        ["preserve_evidence", "delete_post"],
        "actions",
        REMOVED,
    ),
    (
        "spamming-clause",
        verdict(TUE_10, "spamming"),
        ["hide_post", "limit_posting"],
        "actions",
        HIDDEN,
    ),
    (
        "spamming-behaviour",
        verdict(TUE_10, behaviour=(spamming(TUE_10),)),
        ["hide_post", "limit_posting"],
        "actions",
        HIDDEN,
    ),
    (
        "safeguarding",
        verdict(TUE_10, "safeguarding"),
        ["preserve_evidence", "refer_safeguarding", "queue_human_review"],
        "actions",
        None,
    ),
    (
        "personal-care",
        verdict(TUE_10, "personal_care"),
        ["redirect_personal_care"],
        "actions",
        None,
    ),
    (
        "personal-care-and-abusive",
        verdict(TUE_10, "personal_care", "abusive"),
        ["reply_ask_removal", "redirect_personal_care"],
        "actions",
        ASKED_REMOVAL,
    ),
    (
        "trolling-review",
        verdict(TUE_10, "trolling"),
        ["queue_human_review"],
        "actions",
        None,
    ),
    (
        "allegation-beats-abusive",
        verdict(TUE_10, "abusive", "allegation"),
        ["preserve_evidence", "delete_post"],
        "actions",
        REMOVED,
    ),
    (
        "emergency-in-hours",
        verdict(TUE_10, "emergency"),
        ["emergency_signpost", "queue_human_review"],
        "actions",
        None,
    ),
    (
        "unknown-clause-goes-to-a-person",
        verdict(TUE_10, "brand_new_clause"),
        ["queue_human_review"],
        "actions",
        None,
    ),
    (
        "abusive-outside-hours",
        verdict(SAT_14, "abusive"),
        ["reply_ask_removal", "queue_human_review"],
        "deferred",
        ASKED_REMOVAL,
    ),
]

INVESTIGATING = config(under_investigation=["facebook:p-investigated", "facebook:c-investigated"])


@pytest.mark.parametrize(
    ("v", "expected_kinds", "outcome", "stage"),
    [pytest.param(*row[1:], id=row[0]) for row in SINGLE_VERDICT_PATHS],
)
def test_single_verdict_paths(
    v: Verdict, expected_kinds: list[str], outcome: str, stage: str | None
) -> None:
    out = decide(None, v, INVESTIGATING)
    assert kinds(out.actions) == expected_kinds
    assert out.decision.outcome == outcome
    assert out.decision.comment_id == v.comment.comment_id
    assert_decision_matches(out.decision, out.actions)
    case = out.state.case(v.comment.comment_id)
    assert (case.stage if case else None) == stage
    for action in out.actions:
        assert action.policy_version == "v1"
        assert action.source == ("comments.raw[0]@7",)
        assert action.platform == "facebook"
        assert action.reasons, action.kind


def test_every_action_carries_its_reasons_and_evidence() -> None:
    out = decide(None, verdict(TUE_10, "personal_care", "abusive"), CFG)
    reply = only(out.actions, "reply_ask_removal")
    redirect = only(out.actions, "redirect_personal_care")
    assert reply.reasons == ("abusive",)
    assert [f.clause for f in reply.evidence] == ["abusive"]
    assert redirect.reasons == ("personal_care",)
    assert [f.clause for f in redirect.evidence] == ["personal_care"]
    assert out.decision.clauses == ("abusive", "personal_care")


def test_reply_explains_in_plain_words_and_gives_the_deadline() -> None:
    out = decide(None, verdict(TUE_10, "abusive", "obscene"), CFG)
    reply = only(out.actions, "reply_ask_removal")
    assert reply.due_at_ms == TUE_10
    assert "abusive or threatening language" in reply.message
    assert "obscene, profane or sexually explicit content" in reply.message
    assert "remove it by 10am on Friday 5 June 2026" in reply.message
    assert "let you know before" in reply.message
    assert "some words here" not in reply.message  # never quotes the comment back
    assert out.state.case("facebook:c1").deadline_ms == FRI_10  # type: ignore[union-attr]


def test_immediate_removal_keeps_a_copy_first_and_explains() -> None:
    out = decide(None, verdict(SUN_3AM, "allegation"), CFG)
    preserve, delete = out.actions
    assert (preserve.kind, delete.kind) == ("preserve_evidence", "delete_post")
    # Automatic under the policy: at once, even at 3am on a Sunday, and no reply asking.
    assert preserve.due_at_ms == delete.due_at_ms == SUN_3AM
    assert "allegations against staff" in delete.message
    assert "removed your comment" in delete.message
    assert on_timer(out.state, london(2026, 7, 1), CFG).decisions == ()


# --- the ladder: reply -> deadline -> notice -> deadline -> block ----------------------------


def ladder_to_notice() -> tuple[Outcome, FollowUp]:
    asked = decide(None, verdict(TUE_10, "abusive"), CFG)
    assert on_timer(asked.state, FRI_10 - 1, CFG).decisions == ()
    noticed = on_timer(asked.state, FRI_10, CFG)
    return asked, noticed


def test_ladder_reply_notice_block() -> None:
    asked, noticed = ladder_to_notice()
    (decision,) = noticed.decisions
    notice = only(noticed.actions, "notice_of_block")
    assert decision.comment_id == "facebook:c1"
    assert decision.event_time_ms == FRI_10
    assert decision.decision_id != asked.decision.decision_id
    assert_decision_matches(decision, noticed.actions)
    assert notice.due_at_ms == FRI_10
    assert notice.source == ("comments.raw[0]@7",)
    assert "10am on Wednesday 10 June 2026" in notice.message
    case = noticed.state.case("facebook:c1")
    assert case is not None and case.stage == NOTICED and case.deadline_ms == NEXT_WED_10
    assert noticed.state.counts.notices == 1

    assert on_timer(noticed.state, NEXT_WED_10 - 1, CFG).decisions == ()
    blocked = on_timer(noticed.state, NEXT_WED_10, CFG)
    block = only(blocked.actions, "block_account")
    assert block.target_author == "author-a"
    assert block.target_comment == "facebook:c1"  # the executor checks the post is still up
    assert block.due_at_ms == NEXT_WED_10
    assert block.reasons == ("abusive",)
    assert blocked.state.blocked
    assert blocked.state.case("facebook:c1").stage == BLOCKED  # type: ignore[union-attr]
    # Nothing more fires once blocked.
    assert on_timer(blocked.state, london(2026, 7, 1), CFG).decisions == ()


def test_a_late_timer_decides_as_if_on_time() -> None:
    _, on_time = ladder_to_notice()
    asked = decide(None, verdict(TUE_10, "abusive"), CFG)
    late = on_timer(asked.state, FRI_10 + 3 * 3_600_000, CFG)
    assert late.decisions == on_time.decisions
    assert late.actions == on_time.actions


def test_author_removed_post_after_reply_means_no_notice_no_block() -> None:
    asked = decide(None, verdict(TUE_10, "abusive"), CFG)
    reply = only(asked.actions, "reply_ask_removal")
    complied = on_result(asked.state, result(reply, "post_already_deleted", FRI_10 - 5), CFG)
    assert complied.decisions == () and complied.actions == ()
    assert complied.state.case("facebook:c1").stage == COMPLIED  # type: ignore[union-attr]
    later = on_timer(complied.state, london(2026, 7, 1), CFG)
    assert later.actions == ()


def test_author_removed_post_after_notice_means_no_block() -> None:
    _, noticed = ladder_to_notice()
    notice = only(noticed.actions, "notice_of_block")
    complied = on_result(noticed.state, result(notice, "post_already_deleted", FRI_10 + 1), CFG)
    assert on_timer(complied.state, london(2026, 7, 1), CFG).actions == ()
    assert not complied.state.blocked


def test_block_called_off_when_executor_finds_post_gone() -> None:
    # Two cases; the first one's block finds its post removed at the last moment.
    first = decide(None, verdict(TUE_10, "abusive", comment_id="facebook:c1"), CFG)
    second = decide(
        first.state,
        verdict(TUE_10 + 60_000, "obscene", comment_id="facebook:c2", offset=8),
        CFG,
    )
    noticed = on_timer(second.state, FRI_10 + 60_000, CFG)
    assert [d.comment_id for d in noticed.decisions] == ["facebook:c1", "facebook:c2"]
    # c2's notice deadline is a minute after c1's, so only c1's block fires.
    blocked = on_timer(noticed.state, NEXT_WED_10, CFG)
    assert [d.comment_id for d in blocked.decisions] == ["facebook:c1"]
    assert blocked.state.case("facebook:c2").stage == BLOCKED  # type: ignore[union-attr]
    block = only(blocked.actions, "block_account")

    called_off = on_result(blocked.state, result(block, "post_already_deleted", NEXT_WED_10), CFG)
    assert not called_off.state.blocked
    assert called_off.state.case("facebook:c1").stage == COMPLIED  # type: ignore[union-attr]
    # c2 goes back to its own ladder, which has passed its notice deadline.
    assert called_off.state.case("facebook:c2").stage == NOTICED  # type: ignore[union-attr]
    resumed = on_timer(called_off.state, NEXT_WED_10 + 60_000, CFG)
    assert [a.target_comment for a in resumed.actions if a.kind == "block_account"] == [
        "facebook:c2"
    ]


def test_a_removed_post_stays_closed_when_a_block_is_called_off() -> None:
    # c2's post is removed while c1's block has closed its case; calling the block off later
    # must not bring c2 back onto the ladder.
    first = decide(None, verdict(TUE_10, "abusive", comment_id="facebook:c1"), CFG)
    second = decide(first.state, verdict(TUE_10 + 60_000, "obscene", comment_id="facebook:c2"), CFG)
    noticed = on_timer(second.state, FRI_10 + 60_000, CFG)
    c2_notice = next(a for a in noticed.actions if a.target_comment == "facebook:c2")
    blocked = on_timer(noticed.state, NEXT_WED_10, CFG)
    block = only(blocked.actions, "block_account")
    gone = on_result(blocked.state, result(c2_notice, "post_already_deleted", NEXT_WED_10), CFG)
    assert gone.state.case("facebook:c2").stage == COMPLIED  # type: ignore[union-attr]
    called_off = on_result(gone.state, result(block, "post_already_deleted", NEXT_WED_10), CFG)
    assert not called_off.state.blocked
    assert on_timer(called_off.state, london(2026, 7, 1), CFG).actions == ()


def test_confirmed_block_cannot_be_called_off() -> None:
    _, noticed = ladder_to_notice()
    blocked = on_timer(noticed.state, NEXT_WED_10, CFG)
    block = only(blocked.actions, "block_account")
    done = on_result(blocked.state, result(block, "done", NEXT_WED_10 + 1), CFG)
    late = on_result(done.state, result(block, "post_already_deleted", NEXT_WED_10 + 2), CFG)
    assert late.state.blocked


def test_author_replied_goes_to_a_person_not_a_block() -> None:
    asked = decide(None, verdict(TUE_10, "abusive"), CFG)
    reply = only(asked.actions, "reply_ask_removal")
    replied = on_result(asked.state, result(reply, "author_replied", TUE_10 + 3_600_000), CFG)
    (decision,) = replied.decisions
    review = only(replied.actions, "queue_human_review")
    assert_decision_matches(decision, replied.actions)
    assert review.due_at_ms == TUE_10 + 3_600_000
    assert "replied" in review.message
    assert replied.state.case("facebook:c1").stage == REVIEW  # type: ignore[union-attr]
    assert on_timer(replied.state, london(2026, 7, 1), CFG).actions == ()


def test_undelivered_request_goes_to_a_person_at_the_deadline() -> None:
    asked = decide(None, verdict(TUE_10, "abusive"), CFG)
    reply = only(asked.actions, "reply_ask_removal")
    failed = on_result(asked.state, result(reply, "failed", TUE_10 + 1), CFG)
    assert failed.state.case("facebook:c1").delivery == FAILED  # type: ignore[union-attr]
    assert failed.state.case("facebook:c1").stage == ASKED_REMOVAL  # type: ignore[union-attr]
    fired = on_timer(failed.state, FRI_10, CFG)
    assert kinds(fired.actions) == ["queue_human_review"]
    assert "could not be delivered" in fired.actions[0].message
    assert fired.state.case("facebook:c1").stage == REVIEW  # type: ignore[union-attr]


def test_late_delivery_moves_the_deadline() -> None:
    asked = decide(None, verdict(TUE_10, "abusive"), CFG)
    reply = only(asked.actions, "reply_ask_removal")
    thu_10 = london(2026, 6, 4, 10)
    delivered = on_result(asked.state, result(reply, "done", thu_10), CFG)
    # 24 working hours from Thursday 10:00 is Tuesday 10:00.
    expected = london(2026, 6, 9, 10)
    assert delivered.state.next_deadline_ms() == expected
    assert on_timer(delivered.state, FRI_10, CFG).actions == ()
    assert kinds(on_timer(delivered.state, expected, CFG).actions) == ["notice_of_block"]


def test_stale_results_change_nothing() -> None:
    _, noticed = ladder_to_notice()
    asked = decide(None, verdict(TUE_10, "abusive"), CFG)
    reply = only(asked.actions, "reply_ask_removal")
    # A late failure report about the request must not stall the notice stage.
    assert on_result(noticed.state, result(reply, "failed", FRI_10 + 1), CFG).state == (
        noticed.state
    )
    assert on_result(noticed.state, result(reply, "duplicate", FRI_10 + 1), CFG).state == (
        noticed.state
    )


# --- immediate block: frequent inflammatory posting, linked accounts -------------------------


def _third_inflammatory() -> tuple[Outcome, Verdict]:
    """An earlier abusive comment, and the one that makes the author frequently inflammatory."""
    earlier = decide(None, verdict(TUE_10, "abusive", comment_id="facebook:c0"), CFG)
    v = verdict(
        TUE_10 + 600_000,
        "abusive",
        comment_id="facebook:c5",
        behaviour=(inflammatory(TUE_10, "facebook:c0", "facebook:c5"),),
    )
    return earlier, v


def test_frequent_inflammatory_blocks_author_and_linked_accounts() -> None:
    earlier, v = _third_inflammatory()
    linked = [
        ("author-b", "same device hash as author-a"),
        ("author-c", "near-identical text posted 40s apart"),
        ("author-b", "listed twice"),
        ("author-a", "the author itself"),
    ]
    out, reached = decide_linked(earlier.state, v, CFG, linked)
    blocks = [a for a in all_actions(out, reached) if a.kind == "block_account"]
    assert [b.target_author for b in blocks] == ["author-a", "author-b", "author-c"]
    blocking = out.decision.decision_id
    assert [b.linked_evidence for b in blocks] == [
        (),
        ("same device hash as author-a", f"blocked with author-a: decision {blocking}"),
        ("near-identical text posted 40s apart", f"blocked with author-a: decision {blocking}"),
    ]
    assert all(b.due_at_ms == v.comment.event_time_ms for b in blocks)
    assert all(b.reasons == ("frequent_inflammatory",) for b in blocks)
    assert all(b.behaviour == v.behaviour for b in blocks)
    assert len({b.action_id for b in blocks}) == 3
    # The author's own decision names the author's block only; each linked account's block is
    # a decision of its own, about the same comment, one action each.
    assert out.decision.action_kinds.count("block_account") == 1
    assert [d.trigger for d in reached.decisions] == ["linked_block", "linked_block"]
    assert [d.comment_id for d in reached.decisions] == ["facebook:c5", "facebook:c5"]
    assert [d.source for d in reached.decisions] == [v.comment.source] * 2
    assert all(len(d.action_ids) == 1 and d.outcome == "actions" for d in reached.decisions)
    # Blocked now: no request to remove, the post is hidden instead, earlier case closed.
    assert "reply_ask_removal" not in kinds(out.actions)
    assert only(out.actions, "hide_post").target_comment == "facebook:c5"
    assert out.state.blocked and out.state.blocked_for == ""
    assert out.state.case("facebook:c0").stage == BLOCKED  # type: ignore[union-attr]
    assert on_timer(out.state, london(2026, 7, 1), CFG).actions == ()


def test_linked_account_learns_of_its_block_from_the_result() -> None:
    v = verdict(TUE_10, behaviour=(inflammatory(TUE_10, "facebook:c1"),))
    _, reached = decide_linked(None, v, CFG, [("author-b", "shared signal")])
    linked_block = next(a for a in reached.actions if a.target_author == "author-b")
    learned = on_result(None, result(linked_block, "done", TUE_10 + 5), CFG)
    assert learned.state.author_key == "author-b" and learned.state.blocked


# --- a blocked author ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clauses", "expected"),
    [
        (("abusive",), ["hide_post"]),
        (("allegation",), ["preserve_evidence", "delete_post"]),
        (("spamming",), ["hide_post"]),
        (("personal_care",), []),
        (("emergency",), ["emergency_signpost", "queue_human_review"]),
        ((), []),
    ],
)
def test_blocked_author_gets_no_new_replies(clauses: tuple[str, ...], expected: list[str]) -> None:
    state = AuthorState("author-a", blocked=True, blocked_ms=TUE_10 - 1)
    out = decide(state, verdict(TUE_10, *clauses), CFG)
    assert kinds(out.actions) == expected


def test_frequent_inflammatory_does_not_block_a_blocked_author_twice() -> None:
    state = AuthorState("author-a", blocked=True, blocked_ms=TUE_10 - 1)
    v = verdict(TUE_10, behaviour=(inflammatory(TUE_10, "facebook:c1"),))
    out, reached = decide_linked(state, v, CFG, [("author-b", "shared signal")])
    assert [a.target_author for a in all_actions(out, reached) if a.kind == "block_account"] == [
        "author-b"
    ]


# --- routes and monitoring hours -------------------------------------------------------------


def test_emergency_at_3am_sunday_is_signposted_at_once_and_flagged_urgent() -> None:
    out = decide(None, verdict(SUN_3AM, "emergency", "abusive"), CFG)
    signpost = only(out.actions, "emergency_signpost")
    review = only(out.actions, "queue_human_review")
    reply = only(out.actions, "reply_ask_removal")
    assert signpost.due_at_ms == SUN_3AM
    assert "999" in signpost.message
    assert review.due_at_ms == SUN_3AM
    assert review.message.startswith("URGENT")
    assert set(review.reasons) == {"emergency", "abusive"}
    assert reply.due_at_ms == MON_9  # the request still waits for staff
    assert out.decision.outcome == "actions"
    assert kinds(out.actions)[0] == "emergency_signpost"


def test_outside_hours_the_reply_waits_for_monday_9am() -> None:
    out = decide(None, verdict(SAT_14, "abusive"), CFG)
    reply = only(out.actions, "reply_ask_removal")
    review = only(out.actions, "queue_human_review")
    assert reply.due_at_ms == review.due_at_ms == MON_9
    assert "outside monitoring hours" in review.message
    assert out.decision.outcome == "deferred"
    # The author's time only starts when staff are back: 24 working hours from Monday 09:00.
    deadline = london(2026, 6, 10, 17)
    assert out.state.next_deadline_ms() == deadline
    assert "5pm on Wednesday 10 June 2026" in reply.message
    # The notice falls due at Wednesday's closing time, so it waits for Thursday morning.
    noticed = on_timer(out.state, deadline, CFG)
    assert only(noticed.actions, "notice_of_block").due_at_ms == london(2026, 6, 11, 9)


def test_safeguarding_out_of_hours_copies_at_once_and_refers_when_staff_are_in() -> None:
    out = decide(None, verdict(SAT_14, "safeguarding"), CFG)
    assert only(out.actions, "preserve_evidence").due_at_ms == SAT_14
    assert only(out.actions, "refer_safeguarding").due_at_ms == MON_9
    review = only(out.actions, "queue_human_review")
    assert review.due_at_ms == MON_9
    assert "Safeguarding" in review.message
    assert out.decision.outcome == "actions"


def test_spam_is_hidden_at_once_whatever_the_hour() -> None:
    out = decide(None, verdict(SUN_3AM, behaviour=(spamming(SUN_3AM),)), CFG)
    assert [(a.kind, a.due_at_ms) for a in out.actions] == [
        ("hide_post", SUN_3AM),
        ("limit_posting", SUN_3AM),
    ]
    limit = only(out.actions, "limit_posting")
    assert limit.target_comment == "" and limit.reasons == ("spamming",)
    assert limit.behaviour == out.decision.behaviour


@pytest.mark.parametrize(
    ("at", "deadline"),
    [
        pytest.param(london(2026, 6, 5, 16), london(2026, 6, 10, 16), id="friday-4pm"),
        pytest.param(london(2026, 3, 27, 16), london(2026, 4, 1, 16), id="bst-starts"),
        pytest.param(london(2026, 10, 23, 16), london(2026, 10, 28, 16), id="bst-ends"),
        pytest.param(london(2026, 12, 23, 16), london(2026, 12, 30, 16), id="christmas"),
        pytest.param(london(2026, 4, 2, 16), london(2026, 4, 9, 16), id="easter"),
    ],
)
def test_reply_deadlines_count_working_hours(at: int, deadline: int) -> None:
    out = decide(None, verdict(at, "abusive"), CFG)
    assert out.state.next_deadline_ms() == deadline
    assert kinds(on_timer(out.state, deadline, CFG).actions) == ["notice_of_block"]


# --- determinism and bookkeeping -------------------------------------------------------------


def test_same_input_gives_same_ids_and_bytes() -> None:
    v = verdict(SAT_14, "abusive", "safeguarding", behaviour=(spamming(SAT_14),))
    one, two = decide(None, v, CFG), decide(None, v, CFG)
    assert one.decision.to_bytes() == two.decision.to_bytes()
    assert [a.to_bytes() for a in one.actions] == [a.to_bytes() for a in two.actions]
    assert one.state.to_bytes() == two.state.to_bytes()
    other_version = decide(None, replace_record(v, policy_version="v2"), CFG)
    assert other_version.decision.decision_id != one.decision.decision_id


def test_repeated_verdict_does_not_rewind_the_case() -> None:
    _, noticed = ladder_to_notice()
    again = decide(noticed.state, verdict(TUE_10, "abusive"), CFG)
    assert again.state.case("facebook:c1").stage == NOTICED  # type: ignore[union-attr]
    # Same decision id and action ids as the first time, so the executor drops the repeat.
    first = decide(None, verdict(TUE_10, "abusive"), CFG)
    assert again.decision.decision_id == first.decision.decision_id
    assert again.decision.action_ids == first.decision.action_ids


def _bytes(out: Outcome, reached: FollowUp) -> list[bytes]:
    return [r.to_bytes() for r in (*all_decisions(out, reached), *all_actions(out, reached))]


BLOCKING = dict(behaviour=(inflammatory(TUE_10 + 5, "facebook:c9"),))
# (the verdict redelivered, what happened between its first decision and the redelivery)
STANDING_CHANGED_SINCE = {
    "personal care, then blocked": (("personal_care",), {}, BLOCKING),
    "emergency, then blocked": (("emergency",), {}, BLOCKING),
    "safeguarding, then blocked": (("safeguarding",), {}, BLOCKING),
    "the block itself": ((), BLOCKING, {"behaviour": ()}),
    "abusive, then blocked": (("abusive",), {}, BLOCKING),
    "spam, then blocked": ((), {"behaviour": (spamming(TUE_10),)}, BLOCKING),
    "trolling with the block": (("trolling",), BLOCKING, {}),
}


@pytest.mark.parametrize(
    ("clauses", "first_kw", "later_kw"),
    STANDING_CHANGED_SINCE.values(),
    ids=STANDING_CHANGED_SINCE.keys(),
)
def test_a_redelivered_verdict_is_decided_as_the_first_time_to_the_byte(
    clauses: tuple[str, ...], first_kw: dict[str, object], later_kw: dict[str, object]
) -> None:
    # After a kill -9 a verdict comes again to a state that already holds what came after it.
    v = verdict(TUE_10, *clauses, comment_id="facebook:c1", **first_kw)  # type: ignore[arg-type]
    first = decide_linked(None, v, CFG, [("author-b", "shared device")])
    later = verdict(TUE_10 + 5, "trolling", comment_id="facebook:c9", offset=8, **later_kw)  # type: ignore[arg-type]
    after = decide_linked(first[1].state, later, CFG, [("author-b", "shared device")])[1].state
    assert after.blocked
    again = decide_linked(after, v, CFG, [("author-b", "shared device")])
    assert _bytes(*again) == _bytes(*first)


def test_a_redelivered_block_cites_the_linked_accounts_it_reached_the_first_time() -> None:
    # The identity graph learns on after a block: redelivered, the same verdict meets a higher
    # link score and an account linked since. Its actions must still be the first bytes.
    earlier, v = _third_inflammatory()
    first = decide_linked(earlier.state, v, CFG, [("author-b", "score 0.89")])
    stored = AuthorState.from_bytes(first[1].state.to_bytes())
    assert stored == first[1].state
    again = decide_linked(stored, v, CFG, [("author-b", "score 0.92"), ("author-c", "score 0.81")])
    assert again[0].decision.to_bytes() == first[0].decision.to_bytes()
    assert [a.to_bytes() for a in again[0].actions] == [a.to_bytes() for a in first[0].actions]
    # author-b's decision again, to the byte; author-c, linked since, gets a decision of its own.
    b_again, c_new = again[1].decisions
    assert b_again.to_bytes() == first[1].decisions[0].to_bytes()
    assert [a.linked_evidence[0] for a in again[1].actions] == ["score 0.89", "score 0.81"]
    assert c_new.decision_id not in {d.decision_id for d in first[1].decisions}


def test_only_an_author_whose_block_reached_a_linked_account_stores_it() -> None:
    out = decide(None, verdict(TUE_10, "abusive"), CFG)
    assert out.state.linked_blocks == ()
    assert b"linked_blocks" not in out.state.to_bytes()  # most authors' state keeps its bytes


def test_a_benign_verdict_leaves_nothing_behind() -> None:
    out = decide(None, verdict(TUE_10), CFG)
    assert out.state.is_idle  # its decision does not depend on the standing


def test_decided_comments_are_forgotten_after_the_retention() -> None:
    out = decide(None, verdict(TUE_10, "personal_care"), CFG)
    assert [d.comment_id for d in out.state.decided] == ["facebook:c1"]
    assert not out.state.is_idle
    later = london(2026, 7, 20, 10)  # past the 30 days' retention
    quiet = decide(out.state, verdict(later, comment_id="facebook:c2"), CFG)
    assert quiet.state.decided == ()
    assert AuthorState.from_bytes(out.state.to_bytes()) == out.state


def test_one_decision_per_verdict_and_counts() -> None:
    state: AuthorState | None = None
    verdicts = [
        verdict(TUE_10, comment_id="facebook:c1"),
        verdict(TUE_10 + 1, "abusive", comment_id="facebook:c2"),
        verdict(TUE_10 + 2, "allegation", comment_id="facebook:c3"),
        verdict(TUE_10 + 3, "personal_care", comment_id="facebook:c4"),
    ]
    decisions = []
    for v in verdicts:
        out = decide(state, v, CFG)
        decisions.append(out.decision)
        state = out.state
    assert [d.comment_id for d in decisions] == [v.comment.comment_id for v in verdicts]
    assert len({d.decision_id for d in decisions}) == 4
    assert state is not None
    assert (state.counts.verdicts, state.counts.requests, state.counts.removals) == (4, 1, 1)


def test_state_for_another_author_is_refused() -> None:
    with pytest.raises(ValueError, match="author"):
        decide(AuthorState("someone-else"), verdict(TUE_10, "abusive"), CFG)


def test_policy_titles_override_the_builtin_wording() -> None:
    cfg = replace(CFG, titles={"abusive": "Abusive or threatening"})
    reply = only(decide(None, verdict(TUE_10, "abusive"), cfg).actions, "reply_ask_removal")
    assert "contains Abusive or threatening." in reply.message


def test_finding_severity_uses_the_clause_rating_when_higher() -> None:
    # The policy rates hate critical even when the detector says "medium".
    v = replace_record(verdict(TUE_10), findings=(finding("hate", "medium"),))
    assert "delete_post" in kinds(decide(None, v, CFG).actions)
