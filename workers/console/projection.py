"""What the console knows: a fold of the pipeline's topics into cases, lanes and histories.

The console owns no state of record. It reads ``decisions``, ``actions``, ``actions.results``,
``reviews``, ``comments.assessed`` and ``identity.clusters`` from the start and folds them
here, so what it shows is exactly what the audit log and replay see, a restart rebuilds it,
and it needs no access to the executor's Redis ledger (whose layout is the executor's own).
Pure: no I/O, no clock; the caller passes ``now_ms``.

A case is one comment with at least one decision. It waits for a person (is in the queue)
until a person settles it with a review; an appeal puts it back.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from schemas.action import TRIGGER_REVIEW, UNDO_KINDS, Action, ActionResult, Decision
from schemas.codec import replace
from schemas.comment import Comment
from schemas.identity import ClusterMembership
from schemas.review import (
    SETTLING_VERBS,
    VERB_APPEAL_RECEIVED,
    VERB_ESCALATE,
    Review,
)
from schemas.verdict import BehaviourFinding, Finding
from streams.enforce.config import MonitoringHours
from streams.enforce.working_hours import is_monitoring

# Lanes, in the order the queue shows them: highest risk first.
EMERGENCY = "emergency"
SAFEGUARDING = "safeguarding"
ALLEGATIONS = "allegations"
REVIEW = "review"
HELD = "held"
FAILED = "failed"
APPEALS = "appeals"
AUTOMATIC = "automatic"
LANES = (EMERGENCY, SAFEGUARDING, ALLEGATIONS, REVIEW, HELD, FAILED, APPEALS, AUTOMATIC)
LANE_TITLES = {
    EMERGENCY: "Emergencies",
    SAFEGUARDING: "Safeguarding",
    ALLEGATIONS: "Allegations and content under investigation",
    REVIEW: "Waiting for a person's review",
    HELD: "Held for monitoring hours",
    FAILED: "Failed on the platform",
    APPEALS: "Appeals",
    AUTOMATIC: "Acted on automatically (last 7 days): a second look",
}
EMERGENCY_ALERT_MS = 15 * 60_000  # an emergency waiting longer than this in hours is red
AUTOMATIC_WINDOW_MS = 7 * 86_400_000
AGE_FILTERS = {"1h": 3_600_000, "24h": 86_400_000, "7d": 7 * 86_400_000}
UNDER_INVESTIGATION = "under_investigation"  # the reason enforcement gives for the list
COMMENT_CACHE = 20_000  # texts of comments no decision has asked about yet, most recent
_ENFORCING = frozenset(UNDO_KINDS)
T = TypeVar("T")


def case_id_of(comment_id: str) -> str:
    """The case's name in URLs and logs: a digest, so no platform id reaches an access log."""
    return hashlib.sha256(f"case|{comment_id}".encode()).hexdigest()[:24]


@dataclass(frozen=True, slots=True)
class ActionState:
    action: Action
    state: str  # executor outcome ("done", "failed", ...), or "held" / "pending"
    detail: str
    at_ms: int  # when the result came, or when a held action is due


@dataclass(frozen=True, slots=True)
class QueueItem:
    case_id: str
    lane: str
    platform: str
    author_key: str
    clauses: tuple[str, ...]
    posted_ms: int
    waiting_ms: int
    red: bool  # an emergency waiting too long inside monitoring hours
    safeguarding: bool  # only the safeguarding lead may open it
    action_kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Queue:
    lanes: dict[str, list[QueueItem]]
    counts: dict[str, int]  # before filters: what waits in each lane
    oldest_emergency_ms: int  # longest wait of an emergency (0 when none waits)
    monitoring_now: bool


@dataclass
class _Case:
    comment_id: str
    author_key: str = ""
    platform: str = ""
    posted_ms: int = 0
    decision_ids: list[str] = field(default_factory=list)
    action_ids: list[str] = field(default_factory=list)
    reviews: list[Review] = field(default_factory=list)
    clauses: tuple[str, ...] = ()  # of its decisions, people's reviews aside; sorted
    case_id: str = ""


@dataclass(frozen=True, slots=True)
class CaseRecord:
    """Everything the case page shows, except the comment text (read with a purpose)."""

    case_id: str
    comment_id: str
    author_key: str
    platform: str
    posted_ms: int
    lane: str  # "" when nothing waits for a person
    safeguarding: bool
    clauses: tuple[str, ...]
    findings: tuple[Finding, ...]
    behaviour: tuple[BehaviourFinding, ...]
    policy_version: str
    decisions: tuple[Decision, ...]  # every decision about the comment, oldest first
    actions: tuple[ActionState, ...]
    reviews: tuple[Review, ...]
    evidence_record: str  # id of the preserve_evidence action's record, "" if none
    comment: Comment | None  # from comments.assessed, if the console saw it


@dataclass
class Projection:
    procedures: Mapping[str, str]  # clause id -> procedure, from the policy file
    monitoring: MonitoringHours
    comment_cache: int = COMMENT_CACHE
    _cases: dict[str, _Case] = field(default_factory=dict)  # by comment id
    _by_case_id: dict[str, str] = field(default_factory=dict)
    _by_author: dict[str, list[str]] = field(default_factory=dict)
    _decisions: dict[str, Decision] = field(default_factory=dict)
    _actions: dict[str, Action] = field(default_factory=dict)
    _results: dict[str, ActionResult] = field(default_factory=dict)
    _comments: dict[str, Comment] = field(default_factory=dict)  # of cases
    _recent: OrderedDict[str, Comment] = field(default_factory=OrderedDict)
    _clusters: dict[str, ClusterMembership] = field(default_factory=dict)
    _comment_of_action: dict[str, str] = field(default_factory=dict)
    _orphans: dict[str, list[Action]] = field(default_factory=dict)  # by decision id
    # Cases that may wait for a person: touched by a record since the queue last found them
    # waiting for nobody. Nothing but a new record moves a case back into a lane (time only
    # moves it between lanes, or out of the second-look lane), so the queue walks these alone.
    _candidates: set[str] = field(default_factory=set)

    # --- folding the topics --------------------------------------------------------------

    def add_decision(self, decision: Decision) -> None:
        case = self._case(decision.comment_id, decision.author_key)
        if decision.decision_id not in self._decisions:
            case.decision_ids.append(decision.decision_id)
        self._decisions[decision.decision_id] = decision
        for orphan in self._orphans.pop(decision.decision_id, ()):
            self.add_action(orphan)
        if decision.trigger != TRIGGER_REVIEW:
            case.posted_ms = case.posted_ms or decision.event_time_ms
            case.clauses = tuple(sorted({*case.clauses, *decision.clauses}))
        self._candidates.add(decision.comment_id)
        comment = self._recent.pop(decision.comment_id, None)
        if comment is not None:
            self._comments[decision.comment_id] = comment

    def add_action(self, action: Action) -> None:
        decision = self._decisions.get(action.decision_id)
        comment_id = decision.comment_id if decision else action.target_comment
        if not comment_id:
            # An account-level action read before its decision (the topics are read side by
            # side): it joins its case when the decision arrives.
            self._orphans.setdefault(action.decision_id, []).append(action)
            return
        case = self._case(comment_id, decision.author_key if decision else action.target_author)
        case.platform = case.platform or action.platform
        # The content copy of an evidence action stays in the evidence store, not in memory.
        self._actions[action.action_id] = replace(action, content="") if action.content else action
        if action.action_id not in case.action_ids:
            case.action_ids.append(action.action_id)
        self._comment_of_action[action.action_id] = comment_id
        self._candidates.add(comment_id)

    def add_result(self, result: ActionResult) -> None:
        self._results[result.action_id] = result
        comment_id = self._comment_of_action.get(result.action_id)
        if comment_id is not None:
            self._candidates.add(comment_id)

    def add_review(self, review: Review) -> None:
        case = self._case(review.comment_id, review.author_key)
        case.platform = case.platform or review.platform
        if all(r.review_id != review.review_id for r in case.reviews):
            case.reviews.append(review)
            case.reviews.sort(key=lambda r: (r.at_ms, r.review_id))
        self._candidates.add(review.comment_id)

    def add_comment(self, comment: Comment) -> None:
        if comment.comment_id in self._cases:
            self._comments[comment.comment_id] = comment
            self._cases[comment.comment_id].platform = comment.platform
            return
        self._recent[comment.comment_id] = comment
        self._recent.move_to_end(comment.comment_id)
        while len(self._recent) > self.comment_cache:
            self._recent.popitem(last=False)

    def add_cluster(self, membership: ClusterMembership) -> None:
        if len(membership.members) > 1:
            self._clusters[membership.author_key] = membership
        else:
            self._clusters.pop(membership.author_key, None)

    # --- reading -------------------------------------------------------------------------

    def comment_id_of(self, case_id: str) -> str | None:
        return self._by_case_id.get(case_id)

    def queue(
        self,
        now_ms: int,
        *,
        clause: str = "",
        platform: str = "",
        age: str = "",
    ) -> Queue:
        lanes: dict[str, list[QueueItem]] = {lane: [] for lane in LANES}
        counts = dict.fromkeys(LANES, 0)
        oldest = 0
        monitoring_now = is_monitoring(now_ms, self.monitoring)
        for comment_id in list(self._candidates):
            item = self._item(self._cases[comment_id], now_ms, monitoring_now)
            if item is None:
                if self._cases[comment_id].decision_ids:
                    self._candidates.discard(comment_id)
                continue
            counts[item.lane] += 1
            if item.lane == EMERGENCY:
                oldest = max(oldest, item.waiting_ms)
            if _passes(item, clause, platform, age):
                lanes[item.lane].append(item)
        for lane, items in lanes.items():
            # Longest waiting first; the second-look lane is a review of recent automation,
            # newest first.
            items.sort(key=lambda i: (i.posted_ms, i.case_id), reverse=lane == AUTOMATIC)
        return Queue(
            lanes=lanes,
            counts=counts,
            oldest_emergency_ms=oldest,
            monitoring_now=monitoring_now,
        )

    def case(self, case_id: str, now_ms: int) -> CaseRecord | None:
        comment_id = self._by_case_id.get(case_id)
        if comment_id is None:
            return None
        case = self._cases[comment_id]
        decisions = sorted(
            (self._decisions[d] for d in case.decision_ids),
            key=lambda d: (d.event_time_ms, d.decision_id),
        )
        own = [d for d in decisions if d.trigger != TRIGGER_REVIEW]
        first = own[0] if own else None
        evidence = next(
            (a for a in self._case_actions(case) if a.kind == "preserve_evidence"), None
        )
        item = self._item(case, now_ms)
        return CaseRecord(
            case_id=case_id,
            comment_id=comment_id,
            author_key=case.author_key,
            platform=case.platform,
            posted_ms=case.posted_ms,
            lane=item.lane if item else "",
            safeguarding=self._is_safeguarding(case),
            clauses=case.clauses,
            findings=_unique(f for d in own for f in d.findings),
            behaviour=_unique(b for d in own for b in d.behaviour),
            policy_version=first.policy_version if first else "",
            decisions=tuple(decisions),
            actions=tuple(self._state(a, now_ms) for a in self._case_actions(case)),
            reviews=tuple(case.reviews),
            evidence_record=evidence.action_id if evidence else "",
            comment=self._comments.get(comment_id),
        )

    def actions_by_id(self, action_ids: Iterable[str]) -> dict[str, Action]:
        return {a: self._actions[a] for a in action_ids if a in self._actions}

    def author_decisions(self, author_key: str) -> list[Decision]:
        """Every decision about the author's comments, oldest first: their history here."""
        found = [
            self._decisions[d]
            for comment_id in self._by_author.get(author_key, ())
            for d in self._cases[comment_id].decision_ids
        ]
        return sorted(found, key=lambda d: (d.event_time_ms, d.decision_id))

    def open_cases_of(self, author_key: str, now_ms: int) -> list[QueueItem]:
        items = (self._item(self._cases[c], now_ms) for c in self._by_author.get(author_key, ()))
        return sorted((i for i in items if i is not None), key=lambda i: i.posted_ms)

    def cluster_of(self, author_key: str) -> ClusterMembership | None:
        return self._clusters.get(author_key)

    def linked_block_actions(self, case_id: str, other_author: str) -> list[Action]:
        """The blocks this case's decisions made on a linked account: what a split undoes."""
        comment_id = self._by_case_id.get(case_id)
        if comment_id is None:
            return []
        return [
            a
            for a in self._case_actions(self._cases[comment_id])
            if a.target_author == other_author and a.kind in _ENFORCING
        ]

    def undoable_actions(self, case_id: str) -> list[Action]:
        comment_id = self._by_case_id.get(case_id)
        if comment_id is None:
            return []
        return [a for a in self._case_actions(self._cases[comment_id]) if a.kind in _ENFORCING]

    # --- internals -----------------------------------------------------------------------

    def _case(self, comment_id: str, author_key: str) -> _Case:
        case = self._cases.get(comment_id)
        if case is None:
            case = self._cases[comment_id] = _Case(
                comment_id=comment_id, author_key=author_key, case_id=case_id_of(comment_id)
            )
            self._by_case_id[case_id_of(comment_id)] = comment_id
            self._by_author.setdefault(author_key, []).append(comment_id)
            recent = self._recent.pop(comment_id, None)
            if recent is not None:
                self._comments[comment_id] = recent
                case.platform = recent.platform
        return case

    def _case_actions(self, case: _Case) -> list[Action]:
        return [self._actions[a] for a in case.action_ids if a in self._actions]

    def _procedures(self, case: _Case) -> set[str]:
        return {self.procedures.get(c, "") for c in case.clauses}

    def _is_safeguarding(self, case: _Case) -> bool:
        escalated = any(r.verb == VERB_ESCALATE for r in case.reviews)
        return escalated or "safeguarding" in self._procedures(case)

    def _state(self, action: Action, now_ms: int) -> ActionState:
        result = self._results.get(action.action_id)
        if result is not None:
            return ActionState(action, result.outcome, result.detail, result.at_ms)
        if action.due_at_ms > now_ms:
            return ActionState(action, "held", "", action.due_at_ms)
        return ActionState(action, "pending", "", action.due_at_ms)

    def _lane(self, case: _Case, now_ms: int, safeguarding: bool, actions: list[Action]) -> str:
        settled_at = max((r.at_ms for r in case.reviews if r.verb in SETTLING_VERBS), default=-1)
        appealed_at = max(
            (r.at_ms for r in case.reviews if r.verb == VERB_APPEAL_RECEIVED), default=-1
        )
        if appealed_at > settled_at:
            return APPEALS
        if settled_at >= 0:
            return ""
        procedures = self._procedures(case)
        if "emergency" in procedures:
            return EMERGENCY
        if safeguarding:
            return SAFEGUARDING
        if "immediate_removal" in procedures or UNDER_INVESTIGATION in case.clauses:
            return ALLEGATIONS
        states = [self._state(a, now_ms) for a in actions]
        # A review the pipeline parked until monitoring hours is "held" until then; the
        # same review once due is waiting for a person.
        if any(s.action.kind == "queue_human_review" and s.state != "held" for s in states):
            return REVIEW
        if any(s.state == "held" for s in states):
            return HELD
        if any(s.state == "failed" for s in states):
            return FAILED
        recent = now_ms - case.posted_ms <= AUTOMATIC_WINDOW_MS
        if recent and any(s.action.kind in _ENFORCING for s in states):
            return AUTOMATIC
        return ""

    def _item(
        self, case: _Case, now_ms: int, monitoring_now: bool | None = None
    ) -> QueueItem | None:
        if not case.decision_ids:
            return None  # only a review or an action seen so far: wait for its decision
        safeguarding = self._is_safeguarding(case)
        actions = self._case_actions(case)
        lane = self._lane(case, now_ms, safeguarding, actions)
        if not lane:
            return None
        waiting = max(0, now_ms - case.posted_ms)
        if monitoring_now is None:
            monitoring_now = is_monitoring(now_ms, self.monitoring)
        return QueueItem(
            case_id=case.case_id,
            lane=lane,
            platform=case.platform,
            author_key=case.author_key,
            clauses=case.clauses,
            posted_ms=case.posted_ms,
            waiting_ms=waiting,
            red=lane == EMERGENCY and waiting > EMERGENCY_ALERT_MS and monitoring_now,
            safeguarding=safeguarding,
            action_kinds=tuple(sorted({a.kind for a in actions})),
        )


def _passes(item: QueueItem, clause: str, platform: str, age: str) -> bool:
    if clause and clause not in item.clauses:
        return False
    if platform and item.platform != platform:
        return False
    if age == "older":
        return item.waiting_ms > AGE_FILTERS["7d"]
    limit = AGE_FILTERS.get(age)
    return limit is None or item.waiting_ms <= limit


def _unique(items: Iterable[T]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(items))
