"""A person's decision on a case, made in the moderator console.

A review is an input like a comment: the console writes it to ``reviews`` and enforcement
consumes it, so a reversal is replayed and audited with everything else. The console never
changes enforcement state or calls a platform itself.
"""

from __future__ import annotations

import hashlib

from schemas.action import Action
from schemas.codec import Record

VERB_APPROVE = "approve"  # the pipeline was right; its actions stand
VERB_REJECT = "reject"  # the pipeline was wrong: undo what it did to the post and account
VERB_ESCALATE = "escalate"  # hand the case to the safeguarding lead
VERB_SPLIT_LINK = "split_link"  # two accounts are not one person: undo what the link caused
VERB_APPEAL_RECEIVED = "appeal_received"  # the author appealed (by message, email, phone)
VERB_APPEAL_UPHELD = "appeal_upheld"  # the appeal succeeds: undone as a rejection is
VERB_APPEAL_DISMISSED = "appeal_dismissed"  # the appeal fails; the actions stand
REVIEW_VERBS = (
    VERB_APPROVE,
    VERB_REJECT,
    VERB_ESCALATE,
    VERB_SPLIT_LINK,
    VERB_APPEAL_RECEIVED,
    VERB_APPEAL_UPHELD,
    VERB_APPEAL_DISMISSED,
)
# Verbs whose named actions enforcement undoes.
UNDOING_VERBS = frozenset({VERB_REJECT, VERB_SPLIT_LINK, VERB_APPEAL_UPHELD})
# Verbs after which the case no longer waits for a person (until an appeal arrives).
SETTLING_VERBS = frozenset(
    {VERB_APPROVE, VERB_REJECT, VERB_APPEAL_UPHELD, VERB_APPEAL_DISMISSED, VERB_SPLIT_LINK}
)
REVIEWER_ROLES = ("moderator", "safeguarding_lead", "auditor")
MAX_REASON = 500


class ReviewedAction(Record, frozen=True):
    """An action the review is about, as the console read it from ``actions``: enforcement
    keeps no copy of past actions, so the review names what to undo."""

    action_id: str
    kind: str  # one of ACTION_KINDS
    target_author: str  # pseudonymous author key
    target_comment: str  # "" for account-level actions
    platform: str
    reasons: tuple[str, ...]  # the policy clause ids the action was taken for

    @classmethod
    def of(cls, action: Action) -> ReviewedAction:
        return cls(
            action_id=action.action_id,
            kind=action.kind,
            target_author=action.target_author,
            target_comment=action.target_comment,
            platform=action.platform,
            reasons=action.reasons,
        )


def review_id(comment_id: str, verb: str, reviewer: str, at_ms: int) -> str:
    """Deterministic, so a form submitted twice in one millisecond is one review."""
    digest = hashlib.sha256(f"{comment_id}|{verb}|{reviewer}|{at_ms}".encode()).hexdigest()
    return digest[:32]


class Review(Record, frozen=True):
    """Key on ``reviews``: ``author_key``, so enforcement meets it on the author's partition."""

    review_id: str
    verb: str  # one of REVIEW_VERBS
    author_key: str  # the case's author (pseudonymous)
    comment_id: str  # the case's comment
    platform: str
    policy_version: str  # the version that decided the case
    reviewer: str  # the console login of the person who decided (a staff identifier)
    role: str  # one of REVIEWER_ROLES
    reason: str  # why, in the reviewer's words (at most MAX_REASON characters)
    at_ms: int  # when the person decided (UTC epoch ms)
    actions: tuple[ReviewedAction, ...]  # the actions to undo (undoing verbs), else ()
    other_author: str = ""  # split_link: the account wrongly linked to author_key

    def __post_init__(self) -> None:
        if self.verb not in REVIEW_VERBS:
            raise ValueError(f"unknown review verb {self.verb!r}")
        if self.role not in REVIEWER_ROLES:
            raise ValueError(f"unknown reviewer role {self.role!r}")
        if len(self.reason) > MAX_REASON:
            raise ValueError(f"a review reason is at most {MAX_REASON} characters")
        if self.verb == VERB_SPLIT_LINK and not self.other_author:
            raise ValueError("split_link names the other account")
