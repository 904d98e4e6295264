"""The offline pipeline: every live stage in-process, deterministic to the byte."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from schemas.action import Decision
from schemas.comment import Comment
from schemas.verdict import Verdict
from streams.enforce.state import AuthorState
from streams.normalise.pseudonymise import Pseudonymiser
from streams.policy import load_policy
from streams.stage_configs import StageConfigs, build_stage_configs
from workers.dev.sample_feed import sample_envelopes
from workers.offline.audit import decision_step
from workers.offline.offline_pipeline import REPLAY_FAILED_AT_MS, OfflinePipeline
from workers.settings import REPO_ROOT, Settings

SETTINGS = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
TOPIC = "ns.comments.raw"


@pytest.fixture(scope="module")
def stages() -> StageConfigs:
    return build_stage_configs(load_policy(SETTINGS.policy_path), SETTINGS.registry_path)


def offline(stages: StageConfigs) -> OfflinePipeline:
    return OfflinePipeline(
        stages, Pseudonymiser(SETTINGS.pseudonym_key), SETTINGS.max_payload_bytes
    )


def source(i: int) -> str:
    return f"{TOPIC}[{i % 4}]@{i // 4}"


def replay_bytes(stages: StageConfigs, feed: Iterable[tuple[bytes, bytes]]) -> bytes:
    """Decisions JSONL, as replay writes it, for the feed in order."""
    pipeline = offline(stages)
    out = bytearray()
    for i, (_, raw) in enumerate(feed):
        for decision in pipeline.process(raw, source(i)).decisions:
            out += decision.to_bytes() + b"\n"
    max_ms = pipeline.stats.max_event_time_ms
    assert max_ms is not None
    # Far past the last event, so every notice and block deadline fires too.
    for decision in pipeline.fire_due(max_ms + 30 * 86_400_000).decisions:
        out += decision.to_bytes() + b"\n"
    return bytes(out)


def facebook(comment_id: str, account: str, text: str, at: datetime) -> bytes:
    return orjson.dumps(
        {
            "platform": "facebook",
            "payload": {
                "id": comment_id,
                "message": text,
                "created_time": at.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "from": {"id": account, "name": "A Person"},
            },
        }
    )


def test_the_same_input_twice_gives_byte_identical_decisions(stages: StageConfigs) -> None:
    feed = sample_envelopes(300, include_bad=True)
    first = replay_bytes(stages, feed)
    second = replay_bytes(stages, feed)
    assert first == second
    decisions = [Decision.from_bytes(line) for line in first.splitlines()]
    # Deadlines fired at the end: the bytes cover the follow-up decisions too.
    assert {decision_step(d) for d in decisions} >= {"comment", "noticed", "blocked"}


def test_decisions_do_not_depend_on_the_process_hash_seed(stages: StageConfigs) -> None:
    # Sets and dicts iterate by hash; a decision that leaned on that order would differ
    # between the live worker and the replay process. Another process, another seed.
    feed_size = 150
    script = (
        "import sys\n"
        "from tests.unit.workers.test_offline_pipeline import replay_bytes, SETTINGS\n"
        "from streams.stage_configs import build_stage_configs\n"
        "from streams.policy import load_policy\n"
        "from workers.dev.sample_feed import sample_envelopes\n"
        "stages = build_stage_configs(load_policy(SETTINGS.policy_path), SETTINGS.registry_path)\n"
        f"sys.stdout.buffer.write(replay_bytes(stages, sample_envelopes({feed_size})))\n"
    )
    elsewhere = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        check=True,
        timeout=240,
    ).stdout
    assert elsewhere == replay_bytes(stages, sample_envelopes(feed_size))


def test_every_input_gets_exactly_one_outcome(stages: StageConfigs) -> None:
    pipeline = offline(stages)
    feed = sample_envelopes(200, include_bad=True)
    for i, (_, raw) in enumerate(feed):
        out = pipeline.process(raw, source(i))
        if out.dead_letter is not None:
            assert out.comment is None and not out.decisions
            assert out.dead_letter.source == source(i)
            assert out.dead_letter.failed_at_ms == REPLAY_FAILED_AT_MS
            continue
        assert out.comment is not None and out.assessed is not None
        own = [d for d in out.decisions if decision_step(d) == "comment"]
        assert [d.comment_id for d in own] == [out.comment.comment_id]
        # The decision names the original offset, which its id and its actions' sources carry.
        assert own[0].source == source(i) == out.comment.source
        assert all(
            a.source[0] == source(i) for a in out.actions if a.decision_id == own[0].decision_id
        )
    assert pipeline.stats.inputs == len(feed) == 205
    assert sum(pipeline.stats.dead_letters.values()) == 5
    # Every comment decided once; the campaign in the feed adds decisions about its copies.
    stats = pipeline.stats
    assert stats.decisions - stats.notice_decisions - stats.timer_decisions == 200
    assert stats.notice_decisions > 0


def test_a_deadline_fires_at_its_own_time_before_the_authors_next_comment(
    stages: StageConfigs,
) -> None:
    pipeline = offline(stages)
    tuesday = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    rude = pipeline.process(
        facebook("1_1", "4401", "You lot are useless idiots", tuesday), f"{TOPIC}[1]@0"
    )
    assert [a.kind for a in rude.actions] == ["reply_ask_removal"]
    author = rude.decisions[0].author_key.encode()
    state = AuthorState.from_bytes(pipeline.enforcement_table[author])
    deadline = state.next_deadline_ms()
    assert deadline is not None

    # A week later (past the 24-working-hour deadline) the same author posts something clean.
    later = pipeline.process(
        facebook("1_2", "4401", "Thanks for the update", tuesday + timedelta(days=7)),
        f"{TOPIC}[1]@1",
    )
    steps = [(decision_step(d), d.comment_id) for d in later.decisions]
    assert steps == [("noticed", "facebook:1_1"), ("comment", "facebook:1_2")]
    notice = later.decisions[0]
    assert notice.event_time_ms == deadline  # decided at the deadline, not when it was noticed
    assert notice.source == f"{TOPIC}[1]@0"  # and explained by the comment that led to it
    notice_actions = [a.kind for a in later.actions if a.decision_id == notice.decision_id]
    assert notice_actions == ["notice_of_block"]
    assert pipeline.stats.timer_decisions == 1

    # Nothing else is due until the notice's own deadline; firing at the end reaches the block.
    assert not pipeline.fire_due(later.decisions[-1].event_time_ms).decisions
    end = pipeline.fire_due(int(tuesday.timestamp() * 1000) + 30 * 86_400_000)
    assert [decision_step(d) for d in end.decisions] == ["blocked"]


def test_state_is_kept_as_the_tables_keep_it(stages: StageConfigs) -> None:
    pipeline = offline(stages)
    at = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    out = pipeline.process(facebook("2_1", "4402", "You lot are useless idiots", at), "t[0]@0")
    author = out.decisions[0].author_key.encode()
    # The bytes a Faust table would hold, which decode to the state the next event starts from.
    assert AuthorState.from_bytes(pipeline.enforcement_table[author]).author_key == author.decode()
    assert set(orjson.loads(pipeline.window_table[author])) == {"wm", "w", "r", "gi", "g", "c"}
    # An author with nothing open leaves the enforcement table, as the agent's store() does.
    clean = pipeline.process(facebook("2_2", "4403", "Thanks for the update", at), "t[0]@1")
    assert clean.decisions[0].author_key.encode() not in pipeline.enforcement_table


class _Exploding:
    """A classifier that fails on one comment, as a buggy detector would."""

    def __init__(self, real: object) -> None:
        self.policy = real.policy  # type: ignore[attr-defined]
        self._real = real

    def verdict(self, comment: Comment, policy_version: str) -> Verdict:
        if "explode" in comment.text:
            raise ZeroDivisionError("detector bug")
        return self._real.verdict(comment, policy_version)  # type: ignore[attr-defined, no-any-return]


def test_a_failing_stage_dead_letters_that_message_and_replay_goes_on(
    stages: StageConfigs,
) -> None:
    pipeline = offline(replace(stages, classifier=_Exploding(stages.classifier)))  # type: ignore[arg-type]
    at = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    bad = pipeline.process(facebook("3_1", "4404", "please explode", at), "t[0]@5")
    assert bad.dead_letter is not None and not bad.decisions
    assert (bad.dead_letter.stage, bad.dead_letter.reason) == ("classify", "processing_error")
    assert bad.dead_letter.detail == "ZeroDivisionError"  # the type only: never the text
    assert bad.dead_letter.source == "t[0]@5"
    good = pipeline.process(facebook("3_2", "4404", "Thanks", at), "t[0]@6")
    assert good.dead_letter is None and len(good.decisions) == 1


def test_the_policy_version_on_decisions_is_the_one_replayed(stages: StageConfigs) -> None:
    policy_path = Path(SETTINGS.policy_path)
    pipeline = offline(stages)
    at = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    out = pipeline.process(facebook("4_1", "4405", "Thanks", at), "t[0]@0")
    assert out.decisions[0].policy_version == load_policy(policy_path).version
    assert out.assessed is not None and out.assessed.policy_version == pipeline.policy_version


def pipeline_decisions(stages: StageConfigs) -> list[Decision]:
    pipeline = offline(stages)
    return [
        d
        for i, (_, raw) in enumerate(sample_envelopes(200))
        for d in pipeline.process(raw, source(i)).decisions
    ]


def test_a_copy_paste_campaign_is_acted_on_for_every_account_in_it(stages: StageConfigs) -> None:
    # The sample feed's campaign: five look-alike accounts paste one text within minutes.
    pipeline = offline(stages)
    notices = []
    for i, (_, raw) in enumerate(sample_envelopes(200)):
        out = pipeline.process(raw, source(i))
        tail = out.decisions[len(out.decisions) - out.notice_decisions :]
        notices += [(source(i), d) for d in tail]
    assert notices
    authors = {d.author_key for _, d in notices}
    assert len(authors) >= 5  # every account in the campaign, not just the one that completed it
    own_decision = {
        d.comment_id: d for d in pipeline_decisions(stages) if decision_step(d) == "comment"
    }
    for _, d in notices:
        assert decision_step(d) == "behaviour:cross_author_spamming"
        # Named after the comment itself, not the copy that completed the campaign: live and
        # replay agree on that whatever order the copies met in.
        assert d.source == own_decision[d.comment_id].source
        assert "hide_post" in d.action_kinds
        [finding] = d.behaviour
        assert finding.count >= finding.threshold == 5
        assert finding.comment_ids == (d.comment_id,)
