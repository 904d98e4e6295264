"""Actions: the contract with the downstream executor, and the audit record of each decision."""

from __future__ import annotations

import hashlib

from schemas.codec import Record
from schemas.verdict import BehaviourFinding, Finding

# The policy's promises, one kind each. Frozen once deployed: executors switch on them.
ACTION_KINDS = (
    "reply_ask_removal",  # explain why the post is inappropriate and ask the author to remove it
    "notice_of_block",  # tell the author a block is coming
    "block_account",
    "hide_post",
    "delete_post",
    "limit_posting",
    "preserve_evidence",  # copy to the evidence store (safeguarding)
    "refer_safeguarding",
    "redirect_personal_care",  # point to the patient experience team; don't discuss care in public
    "emergency_signpost",  # call 999
    "queue_human_review",
    # A person's reversal (a review on ``reviews``): each undoes one kind above.
    "unhide_post",
    "restore_post",
    "unblock_account",
    "lift_posting_limit",
)
# What a rejected action is undone with; kinds not here (a reply, a referral) cannot be unsaid.
UNDO_KINDS = {
    "hide_post": "unhide_post",
    "delete_post": "restore_post",
    "block_account": "unblock_account",
    "limit_posting": "lift_posting_limit",
}

RESULT_OUTCOMES = ("done", "failed", "post_already_deleted", "author_replied", "duplicate")


def action_id(decision_id: str, kind: str, target: str) -> str:
    """Deterministic: the same decision always yields the same ids, so executors can dedupe."""
    digest = hashlib.sha256(f"{decision_id}|{kind}|{target}".encode()).hexdigest()
    return digest[:32]


class Action(Record, frozen=True):
    """Key on ``actions``: ``target_author``, so one author's actions stay in order."""

    action_id: str
    decision_id: str
    kind: str  # one of ACTION_KINDS
    platform: str
    target_author: str  # pseudonymous author key
    target_comment: str  # comment id the action is about ("" for account-level actions)
    reasons: tuple[str, ...]  # policy clause ids
    evidence: tuple[Finding, ...]
    behaviour: tuple[BehaviourFinding, ...]
    linked_evidence: tuple[str, ...]  # why other accounts share this action (sock-puppet links)
    policy_version: str
    source: tuple[str, ...]  # "topic[partition]@offset" of the inputs it came from
    due_at_ms: int  # event-time instant the action is due (now, or a deadline)
    message: str  # text to post to the author, where the action speaks ("" otherwise)
    # Evidence never goes to a long-retention topic: the executor moves it to the evidence store.
    content: str = ""  # the content copy, on preserve_evidence actions only
    # The language of ``message``: "en", "cy", or "cy+en" (bilingual, Welsh first); "" if none.
    language: str = ""
    # Who reviews a queue_human_review: "welsh" for a comment in Welsh (a Welsh speaker), "" for
    # the main queue.
    lane: str = ""


class ActionResult(Record, frozen=True):
    """Key on ``actions.results``: ``target_author``; written by the executor."""

    action_id: str
    kind: str
    target_author: str
    target_comment: str
    outcome: str  # one of RESULT_OUTCOMES
    detail: str
    at_ms: int


TRIGGER_COMMENT = "comment"
TRIGGER_BEHAVIOUR = "behaviour_notice"
TRIGGER_CASE = "case"
TRIGGER_REVIEW = "review"  # a person's decision from the console (schemas.review.Review)
# An author's block reaching one account linked to it: taken once both the block and the
# cluster membership have been seen, in whichever order they came (streams.enforce.logic).
TRIGGER_LINKED = "linked_block"
TRIGGERS = (TRIGGER_COMMENT, TRIGGER_BEHAVIOUR, TRIGGER_CASE, TRIGGER_REVIEW, TRIGGER_LINKED)


class Decision(Record, frozen=True):
    """The audit record: one per input comment (or per timer firing). Key: ``decision_id``."""

    decision_id: str
    comment_id: str
    author_key: str
    source: str  # "topic[partition]@offset" of the raw input
    policy_version: str
    clauses: tuple[str, ...]
    findings: tuple[Finding, ...]
    behaviour: tuple[BehaviourFinding, ...]
    action_ids: tuple[str, ...]
    action_kinds: tuple[str, ...]
    outcome: str  # "no_action" | "actions" | "deferred"
    event_time_ms: int
    # What the decision answers: the comment itself, a campaign notice about it, its case
    # moving on (a deadline, an executor result), a person's review, or its block reaching an
    # account linked to the author (``linked_block``: one decision per account, its id from the
    # blocking decision's and the account's). The source alone cannot tell: a notice or a
    # linked block names the comment's own raw input so that replay reproduces it.
    trigger: str = TRIGGER_COMMENT


class Tick(Record, frozen=True):
    """Asks the enforce stage to fire an author's due deadlines as of ``now_ms`` (event time).

    Deadlines fire through a topic, not a wall-clock callback, so each firing is an input
    with an offset: audited, replayable, and processed with the author's table partition.
    Key on ``enforce.ticks``: the author key.
    """

    author_key: str
    now_ms: int
