"""Reviews in the offline pipeline: a moderator's decision read from ``reviews`` is replayed
through the step live enforcement runs on it, so a replay reproduces the undo it caused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.action import Action, Decision
from schemas.review import Review, ReviewedAction, review_id
from streams import topics as specs
from streams.composition import Composition, Outputs
from streams.enforce.state import OVERTURNED, AuthorState
from streams.normalise.pseudonymise import Pseudonymiser
from streams.policy import load_policy
from streams.registry import input_for
from streams.stage_configs import StageConfigs, build_stage_configs
from streams.state_store import Stores
from workers.offline.audit import decision_step, diff
from workers.offline.offline_pipeline import REPLAY_FAILED_AT_MS, OfflinePipeline
from workers.processes.pipeline import run_step
from workers.settings import Settings

from .test_offline_pipeline import facebook

SETTINGS = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
RAW_SOURCE = "ns.comments.raw[1]@0"
REVIEW_SOURCE = "ns.reviews[1]@0"
ADVERT = "Lip fillers from £80, book now at Glam Aesthetics Pontypridd"
POSTED = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # a Tuesday, inside monitoring hours
DECIDED_MS = int(POSTED.timestamp() * 1000) + 20 * 60_000  # the moderator, 20 minutes later


@pytest.fixture(scope="module")
def stages() -> StageConfigs:
    return build_stage_configs(load_policy(SETTINGS.policy_path), SETTINGS.registry_path)


def pseudonymiser() -> Pseudonymiser:
    return Pseudonymiser(SETTINGS.pseudonym_key)


def advert() -> bytes:
    return facebook("9_1", "4490", ADVERT, POSTED)


def rejecting(hide: Action, at_ms: int = DECIDED_MS) -> Review:
    """What the console writes when a moderator rejects the hide (only the hide)."""
    return Review(
        review_id=review_id(hide.target_comment, "reject", "morgan", at_ms),
        verb="reject",
        author_key=hide.target_author,
        comment_id=hide.target_comment,
        platform=hide.platform,
        policy_version=hide.policy_version,
        reviewer="morgan",
        role="moderator",
        reason="a local business, not spam: leave it up",
        at_ms=at_ms,
        actions=(ReviewedAction.of(hide),),
    )


def live(stages: StageConfigs) -> tuple[Outputs, Outputs]:
    """The live worker's path: each input decoded and run by the agents' stage boundary
    (``workers.processes.pipeline.run_step``) over one composition, the review after the comment."""
    composition = Composition(
        Stores.in_memory(),
        lambda: stages,
        pseudonymiser=pseudonymiser(),
        max_bytes=SETTINGS.max_payload_bytes,
        wall_clock=lambda: DECIDED_MS,
    )
    raw = input_for(specs.RAW)
    comment = run_step(composition, raw, advert(), b"4490", RAW_SOURCE)
    hide = next(a for a in comment.of(specs.ACTIONS) if a.kind == "hide_post")
    review = rejecting(hide)
    reviewed = run_step(
        composition, input_for(specs.REVIEWS), review.to_bytes(), b"k", REVIEW_SOURCE
    )
    return comment, reviewed


def test_a_rejected_hide_is_undone_in_replay_as_it_was_live(stages: StageConfigs) -> None:
    live_comment, live_review = live(stages)
    pipeline = OfflinePipeline(stages, pseudonymiser(), SETTINGS.max_payload_bytes)

    hidden = pipeline.process(advert(), RAW_SOURCE)
    assert sorted(a.kind for a in hidden.actions) == ["hide_post", "limit_posting"]
    assert [a.to_bytes() for a in hidden.actions] == [
        a.to_bytes() for a in live_comment.of(specs.ACTIONS)
    ]
    hide = next(a for a in hidden.actions if a.kind == "hide_post")

    undone = pipeline.review(rejecting(hide).to_bytes(), b"k", REVIEW_SOURCE)

    (unhide,) = undone.actions
    assert unhide.kind == "unhide_post"
    assert (unhide.target_author, unhide.target_comment) == (
        hide.target_author,
        hide.target_comment,
    )
    (decision,) = undone.decisions
    assert decision.trigger == "review" and decision.source == REVIEW_SOURCE
    assert decision_step(decision) == "reviewed"
    assert decision.action_ids == (unhide.action_id,)
    # Byte for byte what the live agent wrote for the same review.
    assert [a.to_bytes() for a in undone.actions] == [
        a.to_bytes() for a in live_review.of(specs.ACTIONS)
    ]
    assert [d.to_bytes() for d in undone.decisions] == [
        d.to_bytes() for d in live_review.of(specs.DECISIONS)
    ]
    # And the case is closed as overturned in replay's state, as in live's.
    state = AuthorState.from_bytes(pipeline.enforcement_table[hide.target_author.encode()])
    case = state.case(hide.target_comment)
    assert case is not None and case.stage == OVERTURNED
    assert pipeline.stats.reviews == 1 and pipeline.stats.inputs == 2
    assert pipeline.stats.actions["unhide_post"] == 1


def test_audit_diff_finds_nothing_between_the_live_and_the_replayed_review(
    stages: StageConfigs,
) -> None:
    live_comment, live_review = live(stages)
    recorded: list[Decision] = [*live_comment.of(specs.DECISIONS), *live_review.of(specs.DECISIONS)]
    pipeline = OfflinePipeline(stages, pseudonymiser(), SETTINGS.max_payload_bytes)
    hidden = pipeline.process(advert(), RAW_SOURCE)
    hide = next(a for a in hidden.actions if a.kind == "hide_post")
    replayed = [
        *hidden.decisions,
        *pipeline.review(rejecting(hide).to_bytes(), b"k", REVIEW_SOURCE).decisions,
    ]
    result = diff(recorded, replayed)
    assert result.identical == 2 and not result.differs


def test_a_review_that_does_not_decode_is_dead_lettered_and_replay_goes_on(
    stages: StageConfigs,
) -> None:
    pipeline = OfflinePipeline(stages, pseudonymiser(), SETTINGS.max_payload_bytes)
    bad = pipeline.review(b'{"verb": "reject"}', b"k", REVIEW_SOURCE)
    assert bad.dead_letter is not None and not bad.decisions and not bad.actions
    assert (bad.dead_letter.stage, bad.dead_letter.reason) == ("enforce", "invalid_record")
    assert bad.dead_letter.source == REVIEW_SOURCE
    assert bad.dead_letter.failed_at_ms == REPLAY_FAILED_AT_MS
    assert pipeline.stats.dead_letters["invalid_record"] == 1
    good = pipeline.process(advert(), RAW_SOURCE)
    assert good.dead_letter is None and good.actions


def test_a_review_counts_where_it_falls_among_the_authors_comments(stages: StageConfigs) -> None:
    # An insult is answered with a request to remove it and a deadline; a moderator overturns
    # it; a week later the author posts again. Before that comment the author's deadlines
    # fire: the overturned case has none left, so no notice. Replayed after the comment
    # instead, the notice would go out: so reviews are merged in by record time, not last.
    rude = facebook("9_3", "4491", "You lot are useless idiots", POSTED)
    later = facebook("9_4", "4491", "Thanks for the update", POSTED + timedelta(days=7))

    def run(review_first: bool) -> list[str]:
        pipeline = OfflinePipeline(stages, pseudonymiser(), SETTINGS.max_payload_bytes)
        (reply,) = pipeline.process(rude, RAW_SOURCE).actions
        assert reply.kind == "reply_ask_removal"
        review = rejecting(reply).to_bytes()
        steps: list[str] = []
        if review_first:
            steps += [
                decision_step(d) for d in pipeline.review(review, b"k", REVIEW_SOURCE).decisions
            ]
        steps += [
            decision_step(d) for d in pipeline.process(later, "ns.comments.raw[1]@1").decisions
        ]
        if not review_first:
            steps += [
                decision_step(d) for d in pipeline.review(review, b"k", REVIEW_SOURCE).decisions
            ]
        return steps

    assert run(review_first=True) == ["reviewed", "comment"]
    assert run(review_first=False) == ["noticed", "comment", "reviewed"]
