"""Builders shared by the enforcement tests: config, London times and verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from schemas.action import Action, Decision
from schemas.comment import Comment
from schemas.verdict import BehaviourFinding, Finding, Verdict
from streams.enforce.config import EnforcementConfig, from_dict
from streams.enforce.logic import FollowUp, Outcome, decide, reach_linked
from streams.enforce.state import AuthorState

LONDON = ZoneInfo("Europe/London")
DEFAULT_YAML = Path(__file__).parents[3] / "streams" / "enforce" / "default_config.yaml"

# How the health board's policy file sets each clause (see default_config.yaml).
PROCEDURES = {
    "misleading": "warn_then_block",
    "abusive": "warn_then_block",
    "intimidation": "warn_then_block",
    "naming_to_harass": "warn_then_block",
    "obstructing_staff": "warn_then_block",
    "allegation": "immediate_removal",
    "hate": "immediate_removal",
    "obscene": "warn_then_block",
    "discriminatory": "warn_then_block",
    "illegal_activity": "warn_then_block",
    "advertising": "warn_then_block",
    "spamming": "spam",
    "trolling": "review",
    "personal_care": "personal_care",
    "emergency": "emergency",
    "safeguarding": "safeguarding",
}
SEVERITIES = {clause: "medium" for clause in PROCEDURES} | {
    "hate": "critical",
    "allegation": "high",
    "intimidation": "high",
}


def default_sections() -> tuple[dict[str, object], dict[str, object]]:
    doc = yaml.safe_load(DEFAULT_YAML.read_text())
    return doc["enforcement"], doc["monitoring_hours"]


def config(**enforcement_overrides: object) -> EnforcementConfig:
    enforcement, monitoring = default_sections()
    return from_dict({**enforcement, **enforcement_overrides}, monitoring, PROCEDURES, SEVERITIES)


CFG = config()


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """Epoch ms of a Europe/London wall-clock time."""
    return int(datetime(year, month, day, hour, minute, tzinfo=LONDON).timestamp() * 1000)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


def finding(clause: str, severity: str = "medium") -> Finding:
    return Finding(
        clause=clause,
        detector=f"test.{clause}",
        start=0,
        end=4,
        confidence=0.9,
        severity=severity,
    )


def inflammatory(at_ms: int, *comment_ids: str) -> BehaviourFinding:
    return BehaviourFinding(
        kind="frequent_inflammatory",
        window_s=3600,
        count=5,
        threshold=5,
        window_start_ms=at_ms - 3_600_000,
        comment_ids=comment_ids,
    )


def spamming(at_ms: int) -> BehaviourFinding:
    return BehaviourFinding(
        kind="spamming", window_s=600, count=4, threshold=3, window_start_ms=at_ms - 600_000
    )


def verdict(
    at_ms: int,
    *clauses: str,
    comment_id: str = "facebook:c1",
    author: str = "author-a",
    post_id: str = "facebook:p1",
    severity: str = "medium",
    behaviour: tuple[BehaviourFinding, ...] = (),
    policy_version: str = "v1",
    offset: int = 7,
) -> Verdict:
    comment = Comment(
        comment_id=comment_id,
        platform="facebook",
        author_key=author,
        author_name="A Person",
        author_handle="",
        post_id=post_id,
        post_text="",
        event_time_ms=at_ms,
        text="some words here",
        normalised="some words here",
        lang="en",
        source=f"comments.raw[0]@{offset}",
    )
    return Verdict(
        comment=comment,
        findings=tuple(finding(c, severity) for c in clauses),
        policy_version=policy_version,
        behaviour=behaviour,
    )


def decide_linked(
    state: AuthorState | None,
    v: Verdict,
    cfg: EnforcementConfig,
    linked: Sequence[tuple[str, str]] = (),
) -> tuple[Outcome, FollowUp]:
    """What the composition does with a verdict (``Composition.on_raw``): decide it, then
    block the accounts the author's cluster membership names now, if the author is blocked."""
    outcome = decide(state, v, cfg)
    return outcome, reach_linked(outcome.state, linked, cfg, comment_id=v.comment.comment_id)


def all_actions(outcome: Outcome, linked: FollowUp) -> tuple[Action, ...]:
    return (*outcome.actions, *linked.actions)


def all_decisions(outcome: Outcome, linked: FollowUp) -> tuple[Decision, ...]:
    return (outcome.decision, *linked.decisions)
