"""The policy's decision procedure, as pure functions over one author's state.

Five inputs move an author's state: a verdict on a new comment (``decide``), event time passing
a deadline (``on_timer``), the executor's report on an action (``on_result``), a person's
decision from the moderator console (``on_review``) and the accounts linked to the author
(``reach_linked``, after a verdict and when a cluster membership arrives). Each returns
the new state, the audit ``Decision`` records and the ``Action`` values to publish; nothing here
performs an action. Every id is a hash of its inputs, so a replay yields the same bytes.

The procedure, as the acceptable-use guidance promises it:
- ordinary violations: reply explaining why and asking for removal; if the post is still up at
  the deadline, a notice that a block is coming; if still up at the next deadline, block;
- allegations, content under investigation and critical content (hate, threats): delete at
  once, keeping a copy first;
- frequent inflammatory posting: block at once, with every account linked to the author;
- spamming: hide the post and limit posting;
- safeguarding: copy to the evidence store, refer, and ask a person to look;
- personal care: point to the patient experience team, remove nothing for that reason;
- emergency: the 999 signpost at once, whatever the hour, and an urgent review.
Outside monitoring hours, what a person has to do waits for the next working day; what the
guidance makes automatic does not wait.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from schemas.action import (
    TRIGGER_BEHAVIOUR,
    TRIGGER_CASE,
    TRIGGER_COMMENT,
    TRIGGER_LINKED,
    TRIGGER_REVIEW,
    UNDO_KINDS,
    Action,
    ActionResult,
    Decision,
    action_id,
)
from schemas.codec import replace
from schemas.codec import replace as replace_record
from schemas.comment import Comment
from schemas.review import UNDOING_VERBS, Review
from schemas.verdict import BehaviourFinding, BehaviourNotice, Finding, Verdict
from streams.enforce import messages
from streams.enforce.config import EnforcementConfig
from streams.enforce.state import (
    ASKED_REMOVAL,
    BLOCKED,
    BLOCKED_FOR_GOOD,
    BLOCKED_PENDING,
    COMPLIED,
    DELIVERED,
    FAILED,
    FREE,
    HIDDEN,
    NOTICED,
    OVERTURNED,
    PENDING,
    REMOVED,
    REVIEW,
    AuthorState,
    Case,
    Decided,
    LinkedBlock,
    prune,
)
from streams.enforce.working_hours import add_working_hours, next_monitoring_start

UNDER_INVESTIGATION = "under_investigation"  # the reason id for the investigation list
SEVERITY_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}

# Procedures that judge the content itself. Of these, the strongest present decides what happens
# to the post; the route procedures (care, emergency, safeguarding) are added alongside.
_CONTENT_STRENGTH = {"review": 1, "warn_then_block": 2, "immediate_removal": 3}
_VIOLATION_PROCEDURES = frozenset({*_CONTENT_STRENGTH, "spam"})

# Actions a person carries out or answers for: outside monitoring hours they wait. The rest are
# automatic under the guidance and happen at the event's own time.
_NEEDS_A_PERSON = frozenset(
    {
        "reply_ask_removal",
        "notice_of_block",
        "redirect_personal_care",
        "refer_safeguarding",
        "queue_human_review",
    }
)
_ACCOUNT_LEVEL = frozenset(
    {"block_account", "limit_posting", "unblock_account", "lift_posting_limit"}
)
_STAGE_MESSAGE = {ASKED_REMOVAL: "reply_ask_removal", NOTICED: "notice_of_block"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one verdict led to: exactly one decision, and the actions it names."""

    state: AuthorState
    decision: Decision
    actions: tuple[Action, ...]


@dataclass(frozen=True, slots=True)
class FollowUp:
    """What a timer or an executor result led to: one decision per case that moved."""

    state: AuthorState
    decisions: tuple[Decision, ...] = ()
    actions: tuple[Action, ...] = ()


class LanguageReading(Protocol):
    """What ``decide`` needs of a language identification (streams.language)."""

    @property
    def language(self) -> str: ...

    @property
    def languages(self) -> tuple[str, ...]: ...


LanguageOf = Callable[[str], LanguageReading]


def decide(
    state: AuthorState | None,
    verdict: Verdict,
    cfg: EnforcementConfig,
    *,
    language_of: LanguageOf | None = None,
) -> Outcome:
    """Apply the policy to one verdict.

    ``language_of``: identifies a comment's language from its text, for a verdict that carries
    none (classification identifies it only when it needs it) and calls for a reply, a notice
    or a review. The composition passes ``streams.language.identify``; passed in, it keeps this
    pure step free of the lingua model and lets tests give a reading. Without it such a comment
    is answered in English, as an undetermined one is.

    A block for frequent inflammatory posting is kept as a ``LinkedBlock``; the accounts
    linked to the author are blocked by decisions of their own (``reach_linked``), so this
    decision is the same whatever the linking branch knew when it was taken.
    """
    comment = verdict.comment
    before = state if state is not None else AuthorState(author_key=comment.author_key)
    if before.author_key != comment.author_key:
        raise ValueError(
            f"state of author {before.author_key!r} given a verdict by {comment.author_key!r}: "
            "the agent must look state up by the verdict's author key"
        )
    at = comment.event_time_ms
    triage = _triage(verdict, cfg)
    # Welsh is answered in Welsh, and a person who reads Welsh reviews it. Only a verdict that
    # calls for something is answered or reviewed at all, so only then is its language needed.
    audience = (
        _audience(verdict, language_of) if _calls_for_anything(triage) else messages.ENGLISH_ONLY
    )
    # A verdict seen again (redelivery after a restart) is decided against the author's standing
    # when it was first decided, which its case (or its Decided entry) keeps: the same decision
    # and actions come out, byte for byte, rather than new ones about a post that may be gone.
    remembered = before.standing_when_decided(comment.comment_id)
    standing = remembered if remembered is not None else _standing(before)
    # A block for frequent posting cannot be undone by removing one post; a ladder block can.
    already_blocked_for_good = standing == BLOCKED_FOR_GOOD
    blocked = standing != FREE or bool(triage.block)
    draft = _Draft(
        decision_id=_digest(comment.comment_id, verdict.policy_version),
        author_key=comment.author_key,
        comment_id=comment.comment_id,
        platform=comment.platform,
        at_ms=at,
        findings=verdict.findings,
        behaviour=verdict.behaviour,
        policy_version=verdict.policy_version,
        sources=(comment.source,),
        cfg=cfg,
        lane=_lane(audience),
    )
    removal = triage.content == "immediate_removal"
    ladder = triage.content == "warn_then_block"
    deadline = add_working_hours(at, cfg.reply_deadline_hours, cfg.monitoring)

    if triage.emergency:
        draft.add(
            "emergency_signpost", triage.emergency, said=_say(cfg, "emergency_signpost", audience)
        )
        draft.review(triage.emergency, messages.review_emergency(), urgent=True)
    # The copy goes first: once the post is deleted there is nothing left to copy.
    if triage.safeguarding or removal:
        draft.add(
            "preserve_evidence",
            triage.safeguarding + (triage.content_reasons if removal else ()),
            content=comment.text,
        )
    if removal:
        draft.add(
            "delete_post",
            triage.content_reasons,
            said=_say(cfg, "removal_explained", audience, reasons=triage.content_reasons),
        )
    # A blocked author cannot be asked to remove anything, so hiding is the step left.
    hide_reasons = triage.spam + (triage.content_reasons if ladder and blocked else ())
    if hide_reasons and not removal:
        draft.add("hide_post", hide_reasons)
    if triage.block and not already_blocked_for_good:
        draft.add(
            "block_account",
            triage.block,
            target_comment="",
            said=_say(cfg, "block_frequent_inflammatory", audience),
        )
    if triage.spam and not blocked:
        draft.add("limit_posting", triage.spam, target_comment="")
    if ladder and not blocked:
        draft.add(
            "reply_ask_removal",
            triage.content_reasons,
            said=_say(
                cfg, "ask_removal", audience, reasons=triage.content_reasons, deadline_ms=deadline
            ),
        )
    if triage.personal_care and not blocked:
        draft.add(
            "redirect_personal_care",
            triage.personal_care,
            said=_say(cfg, "personal_care", audience),
        )
    if triage.safeguarding:
        draft.add("refer_safeguarding", triage.safeguarding)
        draft.review(triage.safeguarding, messages.review_safeguarding())
    if triage.content == "review":
        draft.review(triage.content_reasons, messages.review_clause())

    decision, actions = draft.finish(clauses=verdict.clauses)
    after = _record_verdict(
        before,
        verdict,
        triage,
        blocked=blocked,
        standing=standing,
        deadline_ms=deadline,
        language=audience,
    )
    if triage.block:
        after = _block(after, at, blocked_for="")
        opens = not already_blocked_for_good or after.linking_block() is None
        if opens and after.linked_block(comment.comment_id) is None:
            # What the linked accounts' own decisions will cite, whenever their membership
            # comes: a redelivered verdict finds it here and opens nothing new.
            linked_block = LinkedBlock(
                comment_id=comment.comment_id,
                accounts=(),
                at_ms=at,
                decision_id=decision.decision_id,
                platform=comment.platform,
                policy_version=verdict.policy_version,
                source=comment.source,
                reasons=triage.block,
                behaviour=tuple(b for b in verdict.behaviour if b.kind in triage.block),
            )
            after = replace(
                after, linked_blocks=(*after.linked_blocks, linked_block)[-MAX_DECIDED:]
            )
        if not already_blocked_for_good:
            after = replace(after, counts=after.counts.bump(blocks=1))
    after = prune(after, at, cfg.closed_case_retention_ms, cfg.max_cases_per_author)
    return Outcome(state=after, decision=decision, actions=actions)


MAX_NOTICES_SEEN = 64  # per author; a campaign older than this many notices is long over
MAX_DECIDED = 64  # per author: far more than one worker ever has uncommitted for one author


def on_behaviour(
    state: AuthorState | None, notice: BehaviourNotice, cfg: EnforcementConfig
) -> FollowUp:
    """Act on behaviour found after the comment itself was decided (a copy-paste campaign
    across accounts is only visible once enough accounts have posted).

    Spam behaviour hides the comment and limits the author's posting; immediate-block
    behaviour blocks the account. Ids derive from (comment, kind, policy version), so the same
    notice arriving again, or from several fingerprint slices, yields the same actions, which
    the executor performs once.
    """
    current = state if state is not None else AuthorState(author_key=notice.author_key)
    kinds = {b.kind for b in notice.behaviour}
    spam = tuple(sorted(kinds & cfg.spam_behaviours))
    block = tuple(sorted(kinds & cfg.immediate_block_behaviours))
    decision_id = _digest(notice.comment_id, notice.policy_version, *sorted(kinds))
    if (not spam and not block) or decision_id in current.notices_seen:
        return FollowUp(state=current)
    current = replace(
        current, notices_seen=(*current.notices_seen, decision_id)[-MAX_NOTICES_SEEN:]
    )
    draft = _Draft(
        decision_id=decision_id,
        author_key=notice.author_key,
        comment_id=notice.comment_id,
        platform=notice.platform,
        at_ms=notice.event_time_ms,
        findings=(),
        behaviour=notice.behaviour,
        policy_version=notice.policy_version,
        sources=(notice.source,),
        cfg=cfg,
        trigger=TRIGGER_BEHAVIOUR,
    )
    standing = _standing(current)
    # The notice does not say what language the comment was in; its case, if any, does.
    case = current.case(notice.comment_id)
    audience = case.language if case is not None else messages.ENGLISH_ONLY
    if spam:
        draft.add("hide_post", spam)
        # The standing as of the comment's event time, not as of the notice's arrival: a
        # notice comes from another partition (the campaign index), and when it arrives
        # relative to the author's own later comments is not recorded, so replay could not
        # reproduce a decision that depended on it (docs/replay.md, "Campaign notices").
        if _standing_at(current, notice.event_time_ms) == FREE and not block:
            draft.add("limit_posting", spam, target_comment="")
    if block and standing != BLOCKED_FOR_GOOD:
        draft.add(
            "block_account",
            block,
            target_comment="",
            said=_say(cfg, "block_frequent_inflammatory", audience),
        )
        current = _block(current, notice.event_time_ms, blocked_for="")
    decision, actions = draft.finish(clauses=())
    return FollowUp(state=current, decisions=(decision,), actions=actions)


def reach_linked(
    state: AuthorState,
    linked: Sequence[tuple[str, str]],
    cfg: EnforcementConfig,
    *,
    via: str = "",
    comment_id: str = "",
) -> FollowUp:
    """Block the accounts linked to an author blocked for frequent inflammatory posting.

    ``linked``: (author key, evidence) of the accounts the author's cluster membership names
    now. Each one not yet reached gets a decision of its own: one ``block_account``, its id
    derived from the blocking decision and the account, so it is decided once and is the
    same bytes whether the membership came before the block (this runs right after
    ``decide``) or after it (this runs when the membership arrives). The evidence is the
    membership's at that moment, kept, and cited again if the decision is sent again.

    Sent again, besides the new ones: every reached account's decision when the input is
    the one that reached them, delivered again: after a verdict (``comment_id`` given), the
    blocking comment's; on a membership, the one ``via`` names that last reached an account. A
    live worker killed between storing the state and sending the decisions must send them on
    redelivery; the executor acts once per action id. Any other input sends nothing twice.
    """
    block = state.linking_block()
    if block is None:
        return FollowUp(state=state)
    reached = dict(block.accounts)
    new = [(k, e) for k, e in _linked(linked, state.author_key) if k not in reached]
    again = comment_id == block.comment_id if comment_id else bool(via) and via == block.via
    chosen = sorted((*block.accounts, *new)) if again else new
    decisions: list[Decision] = []
    actions: list[Action] = []
    for key, evidence in chosen:
        decision, fired = _linked_block(block, state.author_key, key, evidence, cfg)
        decisions.append(decision)
        actions.extend(fired)
    after = state
    if new:
        accounts = tuple(sorted((*block.accounts, *new)))
        after = state.with_linked_block(replace(block, accounts=accounts, via=via))
    return FollowUp(state=after, decisions=tuple(decisions), actions=tuple(actions))


def _linked_block(
    block: LinkedBlock, author_key: str, account: str, evidence: str, cfg: EnforcementConfig
) -> tuple[Decision, tuple[Action, ...]]:
    # Every field comes from the blocking decision and the account, except the link evidence,
    # which the first membership to name the account fixed.
    draft = _Draft(
        decision_id=_digest(block.decision_id, TRIGGER_LINKED, account),
        author_key=author_key,
        comment_id=block.comment_id,
        platform=block.platform,
        at_ms=block.at_ms,
        findings=(),
        behaviour=block.behaviour,
        policy_version=block.policy_version,
        sources=(block.source,),
        cfg=cfg,
        trigger=TRIGGER_LINKED,
    )
    # The linked account did not write this comment: its language is not known.
    draft.add(
        "block_account",
        block.reasons,
        target_author=account,
        target_comment="",
        linked_evidence=(
            evidence,
            f"blocked with {author_key[:8]}: decision {block.decision_id}",
        ),
        said=_say(cfg, "block_linked", messages.ENGLISH_ONLY),
    )
    return draft.finish(clauses=block.reasons)


def on_timer(state: AuthorState, now_ms: int, cfg: EnforcementConfig) -> FollowUp:
    """Fire every open case whose deadline is at or before ``now_ms``.

    Each firing is decided at its deadline, not at ``now_ms``: a timer that runs late (or a
    replay) yields the same decisions, ids and due times.
    """
    current = state
    due = sorted(
        (c for c in state.cases if c.is_open and c.deadline_ms is not None),
        key=lambda c: (c.deadline_ms, c.comment_id),
    )
    decisions: list[Decision] = []
    actions: list[Action] = []
    for candidate in due:
        case = current.case(candidate.comment_id)
        # An earlier firing in this pass may have blocked the author and closed this case.
        if case is None or not case.is_open or case.deadline_ms is None:
            continue
        if case.deadline_ms > now_ms:
            continue
        current, decision, fired = _fire(current, case, case.deadline_ms, cfg)
        decisions.append(decision)
        actions.extend(fired)
    current = prune(current, now_ms, cfg.closed_case_retention_ms, cfg.max_cases_per_author)
    return FollowUp(state=current, decisions=tuple(decisions), actions=tuple(actions))


def on_result(state: AuthorState | None, result: ActionResult, cfg: EnforcementConfig) -> FollowUp:
    """Learn from the executor's report on an action.

    - the post was already gone: the author complied, the case closes, no block follows;
    - the author replied instead: the case goes to a person, automation stops;
    - the request or notice was delivered: the deadline counts from delivery if that is later;
    - it failed: the case stays where it is, marked undelivered, and at its deadline goes to a
      person rather than on towards a block the author was never warned of;
    - a block was done: the author is blocked (this is how linked accounts learn of it).
    """
    current = state if state is not None else AuthorState(author_key=result.target_author)
    if current.author_key != result.target_author:
        raise ValueError(
            f"state of author {current.author_key!r} given a result for "
            f"{result.target_author!r}: look state up by the result's target author"
        )
    case = current.case(result.target_comment) if result.target_comment else None
    outcome = result.outcome
    if outcome == "post_already_deleted" and case is not None:
        return FollowUp(state=_post_gone(current, case, result.at_ms))
    if outcome == "author_replied" and case is not None and case.is_open:
        return _to_review(current, case, result.at_ms, messages.review_author_replied(), cfg)
    if outcome == "done" and result.kind == "block_account":
        return FollowUp(state=_block(current, result.at_ms, blocked_for=""))
    if outcome == "done" and result.kind == "unblock_account":
        # A person reversed the block (on_review); like the block, it counts once performed.
        return FollowUp(state=replace(current, blocked=False, blocked_for="", blocked_ms=None))
    answers_stage = case is not None and _STAGE_MESSAGE.get(case.stage) == result.kind
    if outcome == "done" and case is not None and answers_stage:
        hours = (
            cfg.reply_deadline_hours if case.stage == ASKED_REMOVAL else cfg.notice_deadline_hours
        )
        # The author's time runs from when they were told, if the message went out late.
        from_delivery = add_working_hours(result.at_ms, hours, cfg.monitoring)
        deadline = (
            from_delivery if case.deadline_ms is None else max(case.deadline_ms, from_delivery)
        )
        return FollowUp(
            state=current.with_case(replace(case, delivery=DELIVERED, deadline_ms=deadline))
        )
    if outcome == "failed" and case is not None and answers_stage:
        return FollowUp(state=current.with_case(replace(case, delivery=FAILED)))
    return FollowUp(state=current)


def on_review(
    state: AuthorState | None, review: Review, source: str, cfg: EnforcementConfig
) -> FollowUp:
    """Act on a person's decision from the moderator console (``reviews``).

    Every review yields one decision, so the audit log shows who decided what and when. The
    undoing verbs (reject, an upheld appeal, splitting a wrong link) also undo each action the
    review names that can be undone (hide, delete, block, limit: ``UNDO_KINDS``) and close the
    case as overturned, so no notice or block follows from it. The author counts as unblocked
    once the executor reports the unblock done (``on_result``), as a block counts once done.
    Ids derive from the review id: the same review seen again yields the same actions.
    """
    current = state if state is not None else AuthorState(author_key=review.author_key)
    if current.author_key != review.author_key:
        raise ValueError(
            f"state of author {current.author_key!r} given a review of {review.author_key!r}: "
            "look state up by the review's author key"
        )
    draft = _Draft(
        decision_id=_digest(review.review_id, TRIGGER_REVIEW),
        author_key=review.author_key,
        comment_id=review.comment_id,
        platform=review.platform,
        at_ms=review.at_ms,
        findings=(),
        behaviour=(),
        policy_version=review.policy_version,
        sources=(source,),
        cfg=cfg,
        trigger=TRIGGER_REVIEW,
    )
    if review.verb in UNDOING_VERBS:
        undone: set[tuple[str, str, str]] = set()
        for reviewed in sorted(review.actions, key=lambda a: a.action_id):
            undo = UNDO_KINDS.get(reviewed.kind)
            target = (undo or "", reviewed.target_author, reviewed.target_comment)
            if undo is None or target in undone:
                continue
            undone.add(target)
            draft.add(
                undo,
                reviewed.reasons,
                target_author=reviewed.target_author,
                target_comment=reviewed.target_comment,
            )
        case = current.case(review.comment_id)
        if case is not None and case.stage != OVERTURNED:
            current = current.with_case(case.close(OVERTURNED, review.at_ms))
        current = _undo_linked_blocks(current, {a.action_id for a in review.actions})
    decision, actions = draft.finish(clauses=())
    return FollowUp(state=current, decisions=(decision,), actions=actions)


def _undo_linked_blocks(state: AuthorState, undone_ids: set[str]) -> AuthorState:
    """A block of the author a person reversed reaches no account linked from now on."""
    for block in state.linked_blocks:
        own = action_id(block.decision_id, "block_account", state.author_key)
        if block.reaches_on and own in undone_ids:
            state = state.with_linked_block(replace(block, undone=True))
    return state


# --- triage: what the verdict calls for ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Triage:
    """The reasons behind each part of the response, as sorted clause (or behaviour) ids."""

    content: str | None  # strongest content procedure present, or None
    content_reasons: tuple[str, ...]  # violation clauses (and the investigation), for the post
    spam: tuple[str, ...]  # spam clauses and spam behaviour kinds
    block: tuple[str, ...]  # behaviour kinds that block at once
    safeguarding: tuple[str, ...]
    personal_care: tuple[str, ...]
    emergency: tuple[str, ...]


def _triage(verdict: Verdict, cfg: EnforcementConfig) -> _Triage:
    by_procedure: dict[str, list[str]] = {}
    for clause in verdict.clauses:
        by_procedure.setdefault(cfg.procedure(clause), []).append(clause)
    violations = sorted(c for p in _VIOLATION_PROCEDURES for c in by_procedure.get(p, ()))
    content = max(
        (p for p in _CONTENT_STRENGTH if p in by_procedure),
        key=_CONTENT_STRENGTH.__getitem__,
        default=None,
    )
    reasons = set(violations)
    if _under_investigation(verdict.comment, cfg):
        content = "immediate_removal"
        reasons.add(UNDER_INVESTIGATION)
    elif _critical(verdict.findings, cfg):
        content = "immediate_removal"
    kinds = {b.kind for b in verdict.behaviour}
    return _Triage(
        content=content,
        content_reasons=tuple(sorted(reasons)) if content else (),
        spam=tuple(sorted({*by_procedure.get("spam", ()), *(kinds & cfg.spam_behaviours)})),
        block=tuple(sorted(kinds & cfg.immediate_block_behaviours)),
        safeguarding=tuple(by_procedure.get("safeguarding", ())),
        personal_care=tuple(by_procedure.get("personal_care", ())),
        emergency=tuple(by_procedure.get("emergency", ())),
    )


def _calls_for_anything(triage: _Triage) -> bool:
    return bool(
        triage.content
        or triage.spam
        or triage.block
        or triage.safeguarding
        or triage.personal_care
        or triage.emergency
    )


def _under_investigation(comment: Comment, cfg: EnforcementConfig) -> bool:
    listed = cfg.under_investigation
    return comment.comment_id in listed or (bool(comment.post_id) and comment.post_id in listed)


def _critical(findings: Iterable[Finding], cfg: EnforcementConfig) -> bool:
    # A finding is as severe as the detector says or as its clause is rated, whichever is
    # higher; only violations count, a care question is never "critical" content.
    bar = SEVERITY_RANK[cfg.immediate_removal_severity]
    return any(
        max(SEVERITY_RANK.get(f.severity, 0), SEVERITY_RANK[cfg.clause_severity(f.clause)]) >= bar
        for f in findings
        if cfg.procedure(f.clause) in _VIOLATION_PROCEDURES
    )


def _linked(linked: Sequence[tuple[str, str]], author_key: str) -> list[tuple[str, str]]:
    # One block per account, whatever order the link stage listed them in.
    firsts: dict[str, str] = {}
    for key, evidence in linked:
        if key and key != author_key:
            firsts.setdefault(key, evidence)
    return sorted(firsts.items())


# --- state transitions -----------------------------------------------------------------------


def _standing(state: AuthorState) -> str:
    if not state.blocked:
        return FREE
    return BLOCKED_PENDING if state.blocked_for else BLOCKED_FOR_GOOD


def _standing_at(state: AuthorState, at_ms: int) -> str:
    """The standing as of event time ``at_ms``: a block that began after it did not apply."""
    if state.blocked and state.blocked_ms is not None and state.blocked_ms > at_ms:
        return FREE
    return _standing(state)


def _record_verdict(
    state: AuthorState,
    verdict: Verdict,
    triage: _Triage,
    *,
    blocked: bool,
    standing: str,
    deadline_ms: int,
    language: str,
) -> AuthorState:
    comment = verdict.comment
    counts = state.counts.bump(verdicts=1, violations=int(bool(triage.content or triage.spam)))
    # A repeated verdict (redelivery, or a new policy version) must not rewind a case.
    if state.case(comment.comment_id) is not None:
        return replace(state, counts=counts)
    at = comment.event_time_ms
    if triage.content == "immediate_removal":
        stage, counts = REMOVED, counts.bump(removals=1)
    elif triage.content == "warn_then_block" and not blocked:
        stage, counts = ASKED_REMOVAL, counts.bump(requests=1)
    elif triage.content == "warn_then_block" or triage.spam:
        stage = HIDDEN
    elif _calls_for_anything(triage) and state.standing_when_decided(comment.comment_id) is None:
        # No case will keep the standing this was decided against: remember it apart.
        decided = Decided(comment.comment_id, standing, at)
        return replace(state, counts=counts, decided=(*state.decided, decided)[-MAX_DECIDED:])
    else:
        return replace(state, counts=counts)
    case = Case(
        comment_id=comment.comment_id,
        platform=comment.platform,
        post_id=comment.post_id,
        stage=stage,
        opened_ms=at,
        deadline_ms=deadline_ms if stage == ASKED_REMOVAL else None,
        clauses=triage.content_reasons or triage.spam,
        findings=verdict.findings,
        sources=(comment.source,),
        policy_version=verdict.policy_version,
        closed_ms=None if stage == ASKED_REMOVAL else at,
        standing=standing,
        language=language,
    )
    return replace(state, counts=counts).with_case(case)


def _block(state: AuthorState, at_ms: int, *, blocked_for: str) -> AuthorState:
    """Mark the author blocked and close every open case: there is no one left to ask.

    ``blocked_for`` is the comment whose ladder led here; cases closed by such a block remember
    their stage, because the block is called off if that comment turns out to be gone.
    """
    if state.blocked and not state.blocked_for:
        blocked_for = ""  # a block that no removal can undo stays that way
    cases = tuple(
        c.close(BLOCKED, at_ms, superseded_from=c.stage if blocked_for else "") if c.is_open else c
        for c in state.cases
    )
    if not blocked_for:
        # Nothing can call this block off any more, so no case needs to remember its stage.
        cases = tuple(replace(c, superseded_from="") if c.superseded_from else c for c in cases)
    return replace(
        state,
        cases=cases,
        blocked=True,
        blocked_for=blocked_for,
        blocked_ms=state.blocked_ms if state.blocked else at_ms,
    )


def _post_gone(state: AuthorState, case: Case, at_ms: int) -> AuthorState:
    """The post is no longer up: the author complied, and any block it led to is called off."""
    # A case another case's block closed may be reopened later; once its post is gone it must
    # never come back, so it closes as complied too.
    if case.is_open or case.superseded_from:
        return state.with_case(case.close(COMPLIED, at_ms))
    if case.stage == BLOCKED and state.blocked_for == case.comment_id:
        # The executor found the post gone before blocking, so the block did not happen: the
        # cases it closed go back to where they were, and their own deadlines apply again.
        cases = tuple(
            c.reopen() if c.superseded_from else c
            for c in state.cases
            if c.comment_id != case.comment_id
        )
        unblocked = replace(state, cases=cases, blocked=False, blocked_for="", blocked_ms=None)
        return unblocked.with_case(case.close(COMPLIED, at_ms))
    return state


def _fire(
    state: AuthorState, case: Case, at_ms: int, cfg: EnforcementConfig
) -> tuple[AuthorState, Decision, tuple[Action, ...]]:
    if case.delivery == FAILED:
        note = messages.review_undelivered(_STAGE_MESSAGE[case.stage])
        follow = _to_review(state, case, at_ms, note, cfg)
        return follow.state, follow.decisions[0], follow.actions
    if case.stage == ASKED_REMOVAL:
        deadline = add_working_hours(at_ms, cfg.notice_deadline_hours, cfg.monitoring)
        draft = _case_draft(state, case, NOTICED, at_ms, cfg)
        draft.add(
            "notice_of_block",
            case.clauses,
            said=_say(
                cfg, "notice_of_block", case.language, reasons=case.clauses, deadline_ms=deadline
            ),
        )
        moved = replace(case, stage=NOTICED, deadline_ms=deadline, delivery=PENDING)
        after = state.with_case(moved)
        after = replace(after, counts=after.counts.bump(notices=1))
    else:
        draft = _case_draft(state, case, BLOCKED, at_ms, cfg)
        # Account-level, but it names the comment: the executor checks the post is still up
        # and reports post_already_deleted instead of blocking if the author removed it.
        draft.add(
            "block_account",
            case.clauses,
            said=_say(cfg, "block_after_notice", case.language, reasons=case.clauses),
        )
        after = state.with_case(case.close(BLOCKED, at_ms))
        after = _block(after, at_ms, blocked_for=case.comment_id)
        after = replace(after, counts=after.counts.bump(blocks=1))
    decision, actions = draft.finish(clauses=case.clauses)
    return after, decision, actions


def _to_review(
    state: AuthorState, case: Case, at_ms: int, note: str, cfg: EnforcementConfig
) -> FollowUp:
    draft = _case_draft(state, case, REVIEW, at_ms, cfg)
    draft.review(case.clauses, note)
    decision, actions = draft.finish(clauses=case.clauses)
    return FollowUp(
        state=state.with_case(case.close(REVIEW, at_ms)), decisions=(decision,), actions=actions
    )


def _case_draft(
    state: AuthorState, case: Case, stage: str, at_ms: int, cfg: EnforcementConfig
) -> _Draft:
    # A case enters each stage at most once, so (comment, policy version, stage) names the move.
    return _Draft(
        decision_id=_digest(case.comment_id, case.policy_version, stage),
        author_key=state.author_key,
        comment_id=case.comment_id,
        platform=case.platform,
        at_ms=at_ms,
        findings=case.findings,
        behaviour=(),
        policy_version=case.policy_version,
        sources=case.sources,
        cfg=cfg,
        trigger=TRIGGER_CASE,
        lane=_lane(case.language),
    )


# --- building actions and the decision ------------------------------------------------------


@dataclass(slots=True)
class _Draft:
    """Collects the actions of one decision, then stamps ids and due times on them."""

    decision_id: str
    author_key: str
    comment_id: str
    platform: str
    at_ms: int
    findings: tuple[Finding, ...]
    behaviour: tuple[BehaviourFinding, ...]
    policy_version: str
    sources: tuple[str, ...]  # the inputs behind the decision; the first is the comment's
    cfg: EnforcementConfig
    trigger: str = TRIGGER_COMMENT
    lane: str = ""  # the review lane: "welsh" when the comment is (partly) in Welsh
    actions: list[Action] = field(default_factory=list)
    review_reasons: set[str] = field(default_factory=set)
    review_notes: list[str] = field(default_factory=list)
    urgent: bool = False

    def add(
        self,
        kind: str,
        reasons: Iterable[str],
        *,
        said: messages.Said | None = None,
        target_author: str | None = None,
        target_comment: str | None = None,
        linked_evidence: tuple[str, ...] = (),
        content: str = "",
    ) -> None:
        author = self.author_key if target_author is None else target_author
        about = self.comment_id if target_comment is None else target_comment
        why = tuple(sorted(set(reasons)))
        due = self.at_ms
        if kind in _NEEDS_A_PERSON:
            due = next_monitoring_start(self.at_ms, self.cfg.monitoring)
        self.actions.append(
            Action(
                action_id=action_id(
                    self.decision_id, kind, author if kind in _ACCOUNT_LEVEL else about
                ),
                decision_id=self.decision_id,
                kind=kind,
                platform=self.platform,
                target_author=author,
                target_comment=about,
                reasons=why,
                evidence=tuple(f for f in self.findings if f.clause in why),
                behaviour=tuple(b for b in self.behaviour if b.kind in why),
                linked_evidence=linked_evidence,
                policy_version=self.policy_version,
                source=self.sources,
                due_at_ms=due,
                message=said.text if said else "",
                content=content,
                language=said.language if said else "",
                lane=self.lane if kind == "queue_human_review" else "",
            )
        )

    def review(self, reasons: Iterable[str], note: str, *, urgent: bool = False) -> None:
        self.review_reasons.update(reasons)
        self.review_notes.append(note)
        self.urgent = self.urgent or urgent

    def finish(self, *, clauses: Iterable[str]) -> tuple[Decision, tuple[Action, ...]]:
        waiting = [a for a in self.actions if a.due_at_ms > self.at_ms]
        if waiting:
            # Someone has to pick these up when monitoring starts: put them in the queue.
            self.review(
                (r for a in waiting for r in a.reasons),
                messages.review_deferred(a.kind for a in waiting),
            )
        if self.review_notes:
            note = messages.Said(" ".join(self.review_notes), messages.ENGLISH_ONLY)
            self.add("queue_human_review", self.review_reasons, said=note)
            if self.urgent:
                # An urgent review is queued at once, whatever the hour.
                self.actions[-1] = replace_record(self.actions[-1], due_at_ms=self.at_ms)
        actions = tuple(self.actions)
        all_reasons = sorted({*clauses, *(r for a in actions for r in a.reasons)})
        if not actions:
            outcome = "no_action"
        elif all(a.due_at_ms > self.at_ms for a in actions):
            outcome = "deferred"
        else:
            outcome = "actions"
        decision = Decision(
            decision_id=self.decision_id,
            comment_id=self.comment_id,
            author_key=self.author_key,
            source=self.sources[0] if self.sources else "",
            policy_version=self.policy_version,
            clauses=tuple(all_reasons),
            findings=self.findings,
            behaviour=self.behaviour,
            action_ids=tuple(a.action_id for a in actions),
            action_kinds=tuple(a.kind for a in actions),
            outcome=outcome,
            event_time_ms=self.at_ms,
            trigger=self.trigger,
        )
        return decision, actions


def _say(
    cfg: EnforcementConfig,
    kind: str,
    audience: str,
    *,
    reasons: Iterable[str] = (),
    deadline_ms: int | None = None,
) -> messages.Said:
    return messages.say(
        cfg.texts,
        kind,
        audience,
        reasons=reasons,
        titles_en=cfg.titles,
        deadline_ms=deadline_ms,
        zone=cfg.monitoring.zone,
        contact=cfg.patient_experience_contact,
    )


def _audience(verdict: Verdict, language_of: LanguageOf | None) -> str:
    """The language the verdict's author is answered in: the one classification identified,
    or (when it did not need to) identified here, from the comment's original text. The same
    text gives the same reading on every machine, so live and replay answer alike."""
    if verdict.language is not None:
        return messages.reply_language(verdict.language, verdict.languages)
    if language_of is None:
        return messages.ENGLISH_ONLY
    reading = language_of(verdict.comment.text)
    return messages.reply_language(reading.language, reading.languages)


def _lane(audience: str) -> str:
    return "welsh" if audience in (messages.WELSH, messages.BILINGUAL) else ""


def _digest(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
