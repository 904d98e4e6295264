"""Never silence a complaint (issue 16, item 4): long, angry, repetitive complaints stay clean.

End to end: the classifier, the rate windows (the comment posted once) and the enforcement
decision; none of them may hide the post or limit the author. Repetition inside one comment is
never a breach by itself; posting the same message many times still is, and the rate windows
are what count it.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from schemas.codec import replace
from schemas.comment import Comment
from schemas.verdict import Verdict
from streams.classify import Classifier, NameRegistry
from streams.classify.evaluation import Case, as_comment, load_cases
from streams.enforce import config as enforce_config
from streams.enforce.logic import decide
from streams.policy import Policy, PolicyError, parse_policy
from streams.rate_windows import config as window_config
from streams.rate_windows.logic import AuthorWindows, observe
from tests.unit.classify.conftest import ROOT

DEV = ROOT / "tests" / "data" / "labelled" / "dev.jsonl"
SILENCING = {"hide_post", "limit_posting", "delete_post", "block_account", "notice_of_block"}
MONDAY_10AM_MS = 1_765_188_000_000  # 2025-12-08 10:00 London, inside monitoring hours


def long_complaints() -> list[Case]:
    return [c for c in load_cases(DEV) if c.group == "clean_criticism" and "\n\n" in c.text]


def outcome(policy: Policy, classifier: Classifier, comment: Comment) -> tuple[Any, set[str]]:
    """Classify, count in the rate windows, decide: the findings and the action kinds."""
    verdict = Verdict(comment, classifier.classify(comment), policy.version)
    windows = window_config.from_dict(policy.sections.get("rate_windows", {}))
    _, behaviour, _ = observe(AuthorWindows(), verdict, windows)
    verdict = Verdict(comment, verdict.findings, policy.version, behaviour)
    cfg = enforce_config.from_dict(
        policy.sections.get("enforcement", {}),
        policy.sections.get("monitoring_hours", {}),
        {c.id: c.procedure for c in policy.clauses.values()},
        {c.id: c.severity for c in policy.clauses.values()},
    )
    result = decide(None, verdict, cfg)
    return verdict.findings, {a.kind for a in result.actions}


def test_the_dev_set_holds_at_least_twenty_long_angry_complaints() -> None:
    complaints = long_complaints()
    assert len(complaints) >= 20
    assert all(len(c.text) > 400 for c in complaints)
    assert sum(any(w.isupper() and len(w) > 3 for w in c.text.split()) for c in complaints) >= 15


@pytest.mark.parametrize("case", long_complaints(), ids=lambda c: c.text[:40])
def test_a_long_angry_complaint_is_neither_hidden_nor_limited(
    case: Case, policy: Policy, classifier: Classifier
) -> None:
    comment = replace(as_comment(case, 0), event_time_ms=MONDAY_10AM_MS)
    findings, actions = outcome(policy, classifier, comment)
    violations = {f.clause for f in findings} - {"personal_care", "emergency", "safeguarding"}
    assert violations == set(), findings
    assert not actions & SILENCING, actions


@pytest.mark.parametrize(
    "text",
    [
        "Answer the phone answer the phone answer the phone",
        "FOUR HOURS. Four hours. FOUR HOURS on hold. four hours!!",
        "we want answers we want answers we want answers we want answers",
        "I do not want a copy and paste reply, I want someone to read my complaint",
    ],
)
def test_repetition_and_form_letter_complaints_make_no_finding(
    text: str, classifier: Classifier
) -> None:
    assert classifier.classify_text(text) == ()


def test_posting_the_same_complaint_again_and_again_is_still_counted_by_the_rate_windows(
    policy: Policy, classifier: Classifier
) -> None:
    case = long_complaints()[0]
    windows = window_config.from_dict(policy.sections.get("rate_windows", {}))
    state, kinds = AuthorWindows(), set()
    for minute in range(3):
        comment = replace(
            as_comment(case, minute),
            event_time_ms=MONDAY_10AM_MS + minute * 60_000,
            normalised=case.text.lower(),
        )
        verdict = Verdict(comment, classifier.classify(comment), policy.version)
        state, behaviour, _ = observe(state, verdict, windows)
        kinds |= {b.kind for b in behaviour}
    assert "spamming" in kinds  # posted three times in ten minutes: that is spamming


def _policy_with(detector: dict[str, Any], kind: str = "violation") -> Policy:
    clause = {
        "id": "spamming",
        "title": "t",
        "kind": kind,
        "severity": "low",
        "procedure": "spam" if kind == "violation" else "personal_care",
        "detectors": [{"id": "d", "threshold": 0.5, **detector}],
    }
    return parse_policy(yaml.safe_dump({"name": "t", "clauses": [clause]}).encode())


REPEAT = {"type": "repetition", "params": {"ngram": 1, "min_repeats": 3}}
SHOP = {"type": "pattern", "params": {"rules": {"shop": r"\bshop\b"}}}


@pytest.mark.parametrize(
    "detector",
    [REPEAT, {"type": "composite", "params": {"any_of": [REPEAT, SHOP]}}],
    ids=["alone", "any_of"],
)
def test_a_policy_where_repetition_alone_is_a_breach_is_refused(
    detector: dict[str, Any], registry: NameRegistry
) -> None:
    with pytest.raises(PolicyError, match="never a breach by itself"):
        Classifier(_policy_with(detector), registry)


def test_repetition_may_corroborate_another_signal(registry: NameRegistry) -> None:
    both = {"type": "composite", "params": {"all_of": [SHOP, REPEAT]}}
    classifier = Classifier(_policy_with(both), registry)
    assert classifier.classify_text("buy buy buy at my shop") != ()
    assert classifier.classify_text("buy buy buy now") == ()
    assert classifier.classify_text("buy at my shop") == ()
