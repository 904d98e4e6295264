"""The console's fold of the topics: lanes, order, red emergencies, filters, settling."""

from __future__ import annotations

from schemas.action import Action, ActionResult
from schemas.codec import replace
from schemas.review import Review, review_id
from schemas.verdict import Finding, Verdict
from streams.enforce.logic import decide
from tests.unit.enforce.enforce_builders import (
    CFG,
    PROCEDURES,
    decide_linked,
    inflammatory,
    verdict,
)
from workers.console.highlight import runs
from workers.console.projection import (
    ALLEGATIONS,
    APPEALS,
    AUTOMATIC,
    EMERGENCY,
    FAILED,
    HELD,
    REVIEW,
    SAFEGUARDING,
    Projection,
    case_id_of,
)

from .cases import NOW, POSTED, build, comment


def first_lane_item(queue, lane):  # type: ignore[no-untyped-def]
    return queue.lanes[lane][0]


def test_each_case_sits_in_its_lane_and_the_emergency_is_red() -> None:
    built = build()
    queue = built.projection.queue(NOW)
    assert [i.case_id for i in queue.lanes[EMERGENCY]] == [built.case_id("emergency")]
    assert [i.case_id for i in queue.lanes[SAFEGUARDING]] == [built.case_id("safeguarding")]
    assert [i.case_id for i in queue.lanes[REVIEW]] == [built.case_id("trolling")]
    assert [i.case_id for i in queue.lanes[AUTOMATIC]] == [built.case_id("spamming")]
    emergency = queue.lanes[EMERGENCY][0]
    assert emergency.red and emergency.waiting_ms == NOW - POSTED
    assert queue.oldest_emergency_ms == NOW - POSTED
    assert queue.counts[EMERGENCY] == 1 and queue.counts[ALLEGATIONS] == 0


def test_an_emergency_is_not_red_in_its_first_15_minutes_nor_outside_hours() -> None:
    built = build()
    assert not built.projection.queue(POSTED + 14 * 60_000).lanes[EMERGENCY][0].red
    saturday_night = POSTED + 4 * 86_400_000 + 12 * 3_600_000
    assert not built.projection.queue(saturday_night).lanes[EMERGENCY][0].red


def test_filters_narrow_the_rows_but_not_the_counts() -> None:
    built = build()
    only_spam = built.projection.queue(NOW, clause="spamming")
    assert only_spam.lanes[EMERGENCY] == [] and len(only_spam.lanes[AUTOMATIC]) == 1
    assert only_spam.counts[EMERGENCY] == 1
    assert built.projection.queue(NOW, platform="x").lanes[AUTOMATIC] == []
    assert built.projection.queue(NOW, age="older").lanes[EMERGENCY] == []
    assert len(built.projection.queue(NOW, age="1h").lanes[EMERGENCY]) == 1


def test_a_review_settles_a_case_and_an_appeal_brings_it_back() -> None:
    built = build()
    case_id = built.case_id("spamming")

    def review(verb: str, at_ms: int) -> Review:
        return Review(
            review_id=review_id("facebook:spamming-1", verb, "mod", at_ms),
            verb=verb,
            author_key="author-spamming",
            comment_id="facebook:spamming-1",
            platform="facebook",
            policy_version="policy-v1",
            reviewer="mod",
            role="moderator",
            reason="checked",
            at_ms=at_ms,
            actions=(),
        )

    built.projection.add_review(review("approve", NOW))
    assert built.projection.case(case_id, NOW).lane == ""  # type: ignore[union-attr]
    built.projection.add_review(review("appeal_received", NOW + 1))
    assert built.projection.queue(NOW + 2).lanes[APPEALS][0].case_id == case_id
    built.projection.add_review(review("appeal_dismissed", NOW + 3))
    assert built.projection.queue(NOW + 4).counts[APPEALS] == 0


def test_a_review_parked_until_monitoring_hours_is_held_then_waits() -> None:
    saturday = POSTED + 4 * 86_400_000
    monday_10 = POSTED + 6 * 86_400_000
    built = build(posted=saturday, now=saturday)
    case_id = built.case_id("trolling")
    assert [i.case_id for i in built.projection.queue(saturday).lanes[HELD]] == [case_id]
    record = built.projection.case(case_id, saturday)
    assert record is not None and {s.state for s in record.actions} == {"held"}
    assert [i.case_id for i in built.projection.queue(monday_10).lanes[REVIEW]] == [case_id]


def test_case_record_carries_findings_policy_evidence_and_actions() -> None:
    built = build()
    record = built.projection.case(built.case_id("safeguarding"), NOW)
    assert record is not None
    assert record.safeguarding and record.policy_version == "policy-v1"
    assert record.evidence_record  # the preserve_evidence action's id names the store record
    assert record.comment is not None and record.comment.text.startswith("the little")
    assert all(s.action.content == "" for s in record.actions)  # no evidence text in memory
    assert [f.clause for f in record.findings] == ["safeguarding"]


def test_runs_mark_each_finding_span_and_clip_spans_outside_the_text() -> None:
    built = build()
    record = built.projection.case(built.case_id("emergency"), NOW)
    assert record is not None and record.comment is not None
    marked = runs(record.comment.text, record.findings)
    assert "".join(r.text for r in marked) == record.comment.text
    assert [r.text for r in marked if r.findings] == ["going to end it all"]

    wide = Finding("x", "d", 5, 500, 1.0, "low")
    assert runs("short", [wide]) == runs("short", [wide])
    assert [r.findings for r in runs("short text", [wide])] == [(), (0,)]


def test_a_case_out_of_the_queue_comes_back_when_its_action_fails() -> None:

    built = build()
    note = comment("trolling", POSTED)
    abusive = Verdict(
        replace(note, comment_id="facebook:abusive-1", author_key="author-abusive"),
        (Finding("abusive", "lexicon.profanity", 0, 4, 0.9, "medium"),),
        "policy-v1",
    )
    outcome = decide(None, abusive, CFG)
    built.projection.add_decision(outcome.decision)
    for action in outcome.actions:
        built.projection.add_action(action)
    assert sum(built.projection.queue(NOW).counts.values()) == 4  # the reply waits for nobody
    (reply,) = outcome.actions
    built.projection.add_result(
        ActionResult(
            reply.action_id,
            reply.kind,
            reply.target_author,
            reply.target_comment,
            "failed",
            "permanent error: PermanentPlatformError",
            NOW,
        )
    )
    (failed,) = built.projection.queue(NOW).lanes[FAILED]
    assert failed.case_id == case_id_of("facebook:abusive-1")


def test_the_topics_may_be_read_in_any_order() -> None:
    """The feed reads the topics side by side: an action may come before its decision."""

    forward = build(with_cluster=False)
    backward = Projection(procedures=PROCEDURES, monitoring=CFG.monitoring)
    for actions in forward.actions.values():
        for action in actions:
            backward.add_action(Action.from_bytes(action.to_bytes()))
    for clause in forward.actions:
        record = forward.projection.case(forward.case_id(clause), NOW)
        assert record is not None
        for decision in record.decisions:
            backward.add_decision(decision)
        for state in record.actions:
            if state.state == "done":
                backward.add_result(
                    ActionResult(
                        state.action.action_id,
                        state.action.kind,
                        state.action.target_author,
                        state.action.target_comment,
                        "done",
                        state.detail,
                        state.at_ms,
                    )
                )
    ahead, behind = forward.projection.queue(NOW), backward.queue(NOW)
    assert ahead.counts == behind.counts
    assert [(i.case_id, i.action_kinds) for lane in ahead.lanes.values() for i in lane] == [
        (i.case_id, i.action_kinds) for lane in behind.lanes.values() for i in lane
    ]
    spam = behind.lanes[AUTOMATIC][0]
    assert spam.action_kinds == ("hide_post", "limit_posting")


def test_a_linked_accounts_block_joins_the_blocking_comments_case() -> None:
    """A linked account's block is a decision of its own about the blocking comment: the
    case shows it beside the author's, whichever the feed read first."""
    v = verdict(POSTED, behaviour=(inflammatory(POSTED, "facebook:c1"),), policy_version="p1")
    outcome, reached = decide_linked(None, v, CFG, [("author-b", "cluster c1 of 2 accounts")])
    projection = Projection(procedures=PROCEDURES, monitoring=CFG.monitoring)
    for action in reached.actions:  # before its decision: held until the decision comes
        projection.add_action(action)
    for decision in (*reached.decisions, outcome.decision):
        projection.add_decision(decision)
    for action in outcome.actions:
        projection.add_action(action)
    record = projection.case(case_id_of("facebook:c1"), NOW)
    assert record is not None
    assert sorted(d.trigger for d in record.decisions) == ["comment", "linked_block"]
    blocks = [s.action for s in record.actions if s.action.kind == "block_account"]
    assert sorted(a.target_author for a in blocks) == ["author-a", "author-b"]
    assert record.author_key == "author-a"
