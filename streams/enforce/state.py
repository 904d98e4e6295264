"""What enforcement remembers about one author between events.

Stored in a Faust table keyed by author key, so it must round-trip through JSON exactly
(``to_dict``/``from_dict``) and stay small: closed cases are dropped after a retention period of
event time, and the number of cases per author is capped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from schemas.codec import dumps, loads, replace
from schemas.verdict import BehaviourFinding, Finding

# A case's stage. The ladder is asked_removal -> noticed -> blocked; complied (the author removed
# the post), review (a person decides) and the stages for posts we handled ourselves close it.
ASKED_REMOVAL = "asked_removal"
NOTICED = "noticed"
BLOCKED = "blocked"
COMPLIED = "complied"
REMOVED = "removed"  # we deleted the post at once (allegation, investigation, critical)
HIDDEN = "hidden"  # we hid the post (spam, or the author is blocked and cannot be asked)
REVIEW = "review"  # handed to a person; automation stops here
OVERTURNED = "overturned"  # a person rejected what was done (console review): nothing follows
STAGES = (ASKED_REMOVAL, NOTICED, BLOCKED, COMPLIED, REMOVED, HIDDEN, REVIEW, OVERTURNED)
OPEN_STAGES = frozenset({ASKED_REMOVAL, NOTICED})

# The author's standing when a comment was first decided; kept on its case so that a verdict
# delivered again is decided the same way.
FREE = "free"
BLOCKED_PENDING = "blocked_pending"  # blocked by a ladder block that may still be called off
BLOCKED_FOR_GOOD = "blocked_for_good"
STANDINGS = (FREE, BLOCKED_PENDING, BLOCKED_FOR_GOOD)

# Whether the message of the current stage (request or notice) reached the author.
PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"
DELIVERIES = (PENDING, DELIVERED, FAILED)


@dataclass(frozen=True, slots=True)
class Case:
    """One comment the author was asked about, or that we removed, hid or sent to review."""

    comment_id: str
    platform: str
    post_id: str
    stage: str  # one of STAGES
    opened_ms: int  # event time of the comment
    deadline_ms: int | None  # when the open stage's timer fires (kept, unused, once closed)
    clauses: tuple[str, ...]  # reasons, sorted
    findings: tuple[Finding, ...]  # evidence
    sources: tuple[str, ...]  # "topic[partition]@offset" of the inputs
    policy_version: str
    delivery: str = PENDING  # one of DELIVERIES, for the open stage's message
    closed_ms: int | None = None  # event time the case closed, for retention
    # When another case's block closed this one: the stage to go back to if that block is
    # called off because its own post turned out to be gone.
    superseded_from: str = ""
    standing: str = FREE  # one of STANDINGS
    # How the author is answered about this comment, later messages included: "en", "cy" or
    # "cy+en" (streams.enforce.messages.reply_language).
    language: str = "en"

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    def close(self, stage: str, at_ms: int, *, superseded_from: str = "") -> Case:
        return replace(self, stage=stage, closed_ms=at_ms, superseded_from=superseded_from)

    def reopen(self) -> Case:
        return replace(self, stage=self.superseded_from, closed_ms=None, superseded_from="")

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Case:
        return cls(
            **{
                **d,
                "clauses": tuple(d["clauses"]),
                "findings": tuple(Finding.from_dict(f) for f in d["findings"]),
                "sources": tuple(d["sources"]),
            }
        )


@dataclass(frozen=True, slots=True)
class Decided:
    """A comment decided without opening a case, and the author's standing when it was.

    Kept only for verdicts that called for something (a benign verdict's decision does not
    depend on the standing), so that one delivered again is decided the same way.
    """

    comment_id: str
    standing: str  # one of STANDINGS
    at_ms: int  # event time of the comment, for retention


@dataclass(frozen=True, slots=True)
class LinkedBlock:
    """An author's block for frequent inflammatory posting, and the linked accounts it reached.

    The block is decided on the author's own comment; the accounts linked to the author are
    blocked by decisions of their own, one per account, taken when the block and a cluster
    membership naming that account have both been seen, in either order (``reach_linked``).
    So the block's decision never depends on how far the linking branch had caught up, and
    what the block is, is kept here for the memberships that come after it. ``accounts``
    keeps the evidence each account's block cited when it was first decided: the identity
    graph learns on, and a decision sent again must be the same bytes.

    Records stored before linked blocks were their own decisions have no ``decision_id``:
    such a block was decided whole, with its accounts, and reaches nobody new.
    """

    comment_id: str
    accounts: tuple[tuple[str, str], ...]  # (author key, evidence), sorted by key
    at_ms: int  # event time of the comment, for retention
    decision_id: str = ""  # the blocking decision
    platform: str = ""
    policy_version: str = ""
    source: str = ""  # the blocking comment's raw input
    reasons: tuple[str, ...] = ()  # the behaviour kinds that blocked, sorted
    behaviour: tuple[BehaviourFinding, ...] = ()
    # The membership (a digest of its bytes) that last reached a new account: the same one
    # delivered again, after a crash, sends its decisions again rather than nothing.
    via: str = ""
    undone: bool = False  # a person reversed the block: it reaches no further account

    @property
    def reaches_on(self) -> bool:
        """Whether a membership that names a new account extends this block to it."""
        return bool(self.decision_id) and not self.undone

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LinkedBlock:
        return cls(
            **{
                **d,
                "accounts": tuple((k, e) for k, e in d["accounts"]),
                "reasons": tuple(d.get("reasons", ())),
                "behaviour": tuple(BehaviourFinding.from_dict(b) for b in d.get("behaviour", ())),
            }
        )


@dataclass(frozen=True, slots=True)
class Counts:
    """Running totals for the author, for reviewers and metrics (never reset by pruning)."""

    verdicts: int = 0
    violations: int = 0
    requests: int = 0
    notices: int = 0
    removals: int = 0
    blocks: int = 0

    def bump(self, **by: int) -> Counts:
        return replace(self, **{k: getattr(self, k) + v for k, v in by.items()})


@dataclass(frozen=True, slots=True)
class AuthorState:
    author_key: str
    cases: tuple[Case, ...] = ()  # ordered by (opened_ms, comment_id)
    blocked: bool = False
    blocked_ms: int | None = None
    # The comment whose ladder led to the block, "" for blocks that no post removal can undo
    # (frequent inflammatory posting, a linked account, a block confirmed by the executor).
    blocked_for: str = ""
    counts: Counts = Counts()
    # Decision ids of behaviour notices already acted on: a campaign is reported by several
    # fingerprint slices and again as more accounts join, and is acted on once. Newest last.
    notices_seen: tuple[str, ...] = ()
    decided: tuple[Decided, ...] = ()  # newest last; see Decided
    linked_blocks: tuple[LinkedBlock, ...] = ()  # newest last; see LinkedBlock

    def case(self, comment_id: str) -> Case | None:
        return next((c for c in self.cases if c.comment_id == comment_id), None)

    def standing_when_decided(self, comment_id: str) -> str | None:
        """The author's standing when this comment was first decided, if it is remembered."""
        case = self.case(comment_id)
        if case is not None:
            return case.standing
        return next((d.standing for d in self.decided if d.comment_id == comment_id), None)

    def linked_block(self, comment_id: str) -> LinkedBlock | None:
        """The block this comment decided, if it was one for frequent inflammatory posting."""
        return next((b for b in self.linked_blocks if b.comment_id == comment_id), None)

    def linking_block(self) -> LinkedBlock | None:
        """The newest block that still reaches accounts newly linked to the author."""
        return next((b for b in reversed(self.linked_blocks) if b.reaches_on), None)

    def with_linked_block(self, block: LinkedBlock) -> AuthorState:
        """The block added (newest last), or put in place of the one for the same comment."""
        if self.linked_block(block.comment_id) is None:
            return replace(self, linked_blocks=(*self.linked_blocks, block))
        blocks = (block if b.comment_id == block.comment_id else b for b in self.linked_blocks)
        return replace(self, linked_blocks=tuple(blocks))

    def with_case(self, case: Case) -> AuthorState:
        others = [c for c in self.cases if c.comment_id != case.comment_id]
        ordered = sorted([*others, case], key=lambda c: (c.opened_ms, c.comment_id))
        return replace(self, cases=tuple(ordered))

    def next_deadline_ms(self) -> int | None:
        """When ``on_timer`` next has work for this author, for the agent's timer index."""
        deadlines = [c.deadline_ms for c in self.cases if c.is_open and c.deadline_ms is not None]
        return min(deadlines, default=None)

    @property
    def is_idle(self) -> bool:
        """Nothing worth keeping: the agent may delete the table entry."""
        return (
            not self.cases
            and not self.blocked
            and not self.notices_seen
            and not self.decided
            and not self.linked_blocks
        )

    def to_dict(self) -> dict[str, Any]:
        # Plain JSON values all the way down: the findings inside are records (Structs).
        built: dict[str, Any] = msgspec.to_builtins(self)
        if not self.linked_blocks:
            # Most authors never have one: their stored state stays the bytes it was.
            del built["linked_blocks"]
        return built

    def to_bytes(self) -> bytes:
        return dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AuthorState:
        return cls(
            author_key=d["author_key"],
            cases=tuple(Case.from_dict(c) for c in d["cases"]),
            blocked=d["blocked"],
            blocked_ms=d["blocked_ms"],
            blocked_for=d["blocked_for"],
            counts=Counts(**d["counts"]),
            notices_seen=tuple(d.get("notices_seen", ())),
            decided=tuple(Decided(**x) for x in d.get("decided", ())),
            linked_blocks=tuple(LinkedBlock.from_dict(x) for x in d.get("linked_blocks", ())),
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> AuthorState:
        return cls.from_dict(loads(data))


def prune(state: AuthorState, now_ms: int, retention_ms: int, max_cases: int) -> AuthorState:
    """Drop closed cases older than the retention, then the oldest closed ones over the cap;
    and decided comments and linked blocks older than the retention.

    Open cases are never dropped: each one has a timer that must still fire. They cannot grow
    without bound either, because a block closes them all.
    """
    kept = [c for c in state.cases if c.closed_ms is None or now_ms - c.closed_ms <= retention_ms]
    excess = len(kept) - max_cases
    if excess > 0:
        closed = sorted((c for c in kept if not c.is_open), key=lambda c: c.closed_ms or 0)
        dropped = {c.comment_id for c in closed[:excess]}
        kept = [c for c in kept if c.comment_id not in dropped]
    decided = tuple(d for d in state.decided if now_ms - d.at_ms <= retention_ms)
    linked = tuple(b for b in state.linked_blocks if now_ms - b.at_ms <= retention_ms)
    if (
        len(kept) == len(state.cases)
        and len(decided) == len(state.decided)
        and len(linked) == len(state.linked_blocks)
    ):
        return state
    return replace(state, cases=tuple(kept), decided=decided, linked_blocks=linked)
