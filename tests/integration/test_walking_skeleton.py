"""The walking skeleton end to end through the real broker: raw comments in, one decision per
comment out, malformed input dead-lettered, the expected actions on ``actions``."""

from __future__ import annotations

from collections import Counter

from schemas.action import Action, Decision
from streams import topics as specs
from workers.dev.local_run import LocalPipeline
from workers.dev.sample_feed import sample_envelopes


async def test_every_input_gets_exactly_one_outcome(pipeline: LocalPipeline) -> None:
    # Deadlines are 24 working hours away in event time; without wall-clock timers none fire
    # during the test, so every decision here answers exactly one input comment.
    feed = sample_envelopes(300, include_bad=True)
    pipeline.start_worker()
    await pipeline.wait_ready()
    sent = await pipeline.produce(specs.RAW.name, feed)

    outcomes = await pipeline.collect_outcomes(sent)
    decisions, decisions_all = outcomes.decisions, outcomes.all_decisions
    letters = outcomes.dead_letters

    per_comment = Counter(d.comment_id for d in decisions)
    assert all(n == 1 for n in per_comment.values()), per_comment.most_common(3)
    assert len(per_comment) + len(letters) == sent, pipeline.log_of("worker")[-3000:]
    assert {dl.reason for dl in letters} >= {
        "invalid_json",
        "invalid_utf8",
        "unknown_platform",
        "missing_field",
        "oversize",
    }

    actions_seen = await pipeline.collect([specs.ACTIONS.name], until=10**9, idle_s=3)
    actions = [Action.from_bytes(v) for _, v in actions_seen[specs.ACTIONS.name]]
    kinds = Counter(a.kind for a in actions)
    # The sample feed holds swearing, an allegation, personal care and an emergency.
    for expected in (
        "reply_ask_removal",
        "delete_post",
        "redirect_personal_care",
        "emergency_signpost",
    ):
        assert kinds[expected] >= 1, kinds
    # Decisions about campaigns found later may still be arriving: read them all again.
    later = await pipeline.collect([specs.DECISIONS.name], until=10**9, idle_s=3)
    decided = {
        d.decision_id: d
        for d in map(Decision.from_bytes, (v for _, v in later[specs.DECISIONS.name]))
    }
    assert len(decided) >= len({d.decision_id for d in decisions_all})
    for action in actions:
        assert action.action_id in decided[action.decision_id].action_ids
    assert len({a.action_id for a in actions}) == len(actions), "an action was emitted twice"
