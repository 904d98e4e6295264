"""The verdict's language is identified only where enforcement answers or reviews a comment
(issue 16, item 7): the live step's decisions and actions are the bytes they were when every
verdict carried its language, and the verdicts differ only in the language fields."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from schemas.codec import replace as replace_record
from schemas.comment import Comment
from schemas.verdict import Verdict
from streams.classify.classifier import Classifier
from streams.language import identify
from streams.stage_configs import StageConfigs
from workers.dev.sample_feed import sample_envelopes
from workers.settings import REPO_ROOT

from .test_offline_pipeline import facebook, offline, source, stages  # noqa: F401 (fixture)

WELSH = REPO_ROOT / "tests" / "data" / "labelled" / "welsh.jsonl"


class _Eager:
    """The classify stage as it was: every verdict carries its comment's language."""

    def __init__(self, real: Classifier) -> None:
        self.policy = real.policy
        self._real = real

    def verdict(self, comment: Comment, policy_version: str) -> Verdict:
        lazy = self._real.verdict(comment, policy_version)
        reading = identify(comment.text)
        return replace_record(lazy, language=reading.language, languages=reading.languages)


def _feed() -> list[bytes]:
    """The sample feed, then every Welsh labelled comment (emergencies, abuse, care questions,
    clean), each by its own account and some twice by one, so rate windows fire too."""
    feed = [raw for _, raw in sample_envelopes(250)]
    at = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    texts = [json.loads(line)["text"] for line in WELSH.read_text().splitlines() if line]
    for i, text in enumerate(texts):
        account = f"cy{i % 40}"
        feed.append(facebook(f"9_{i}", account, text, at + timedelta(seconds=i)))
    return feed


def _run(configs: StageConfigs) -> tuple[list[bytes], list[bytes], list[Verdict]]:
    pipeline = offline(configs)
    decisions: list[bytes] = []
    actions: list[bytes] = []
    verdicts: list[Verdict] = []
    for i, raw in enumerate(_feed()):
        out = pipeline.process(raw, source(i))
        decisions.extend(d.to_bytes() for d in out.decisions)
        actions.extend(a.to_bytes() for a in out.actions)
        if out.verdict is not None:
            verdicts.append(out.verdict)
    assert pipeline.stats.max_event_time_ms is not None
    fired = pipeline.fire_due(pipeline.stats.max_event_time_ms + 30 * 86_400_000)
    decisions.extend(d.to_bytes() for d in fired.decisions)
    actions.extend(a.to_bytes() for a in fired.actions)
    return decisions, actions, verdicts


@pytest.mark.timeout(120)
def test_lazy_language_decides_as_the_language_on_every_verdict(
    stages: StageConfigs,  # noqa: F811
) -> None:
    eager = replace(stages, classifier=_Eager(stages.classifier))  # type: ignore[arg-type]
    lazy_decisions, lazy_actions, lazy_verdicts = _run(stages)
    eager_decisions, eager_actions, eager_verdicts = _run(eager)
    assert lazy_decisions == eager_decisions
    assert lazy_actions == eager_actions
    welsh_replies = [a for a in lazy_actions if b'"language":"cy+en"' in a]
    assert welsh_replies, "the feed must hold Welsh comments that are answered"
    # Verdicts differ in the language fields only, and only where nothing needed them.
    assert len(lazy_verdicts) == len(eager_verdicts)
    unidentified = 0
    for lazy, eager_ in zip(lazy_verdicts, eager_verdicts, strict=True):
        if lazy.language is None:
            unidentified += 1
            assert replace_record(eager_, language=None, languages=()) == lazy
        else:
            assert lazy == eager_
    assert unidentified > len(lazy_verdicts) // 2
