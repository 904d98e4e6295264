"""The live pipeline, in-process over one raw message at a time: for replay, audit, explain and
the benchmarks.

There is no copy of any stage here: ``streams.composition.Composition`` is what the live worker
runs, over dicts instead of Faust tables (``streams.state_store``). What this module adds is
the routing a broker does live: each record a step returns goes to the step its topic feeds
(``streams.registry.INPUTS``), at once, breadth first; records for topics no step here reads
(decisions, actions, dead letters) are collected as the outcome. So replay runs the side
branches too: campaign bands, the linking index and the identity graph, whose cluster
memberships reach enforcement as they do live, and a block on one account of a linked ring
reaches the others in replay as it did live.

Why this reproduces the live run. Every main-line table is keyed by author, and one author's
messages reach ``comments.raw`` under one key, hence one partition, in offset order; so as long
as each partition is replayed in offset order, each author's state sees the same inputs in the
same order as live. The cross-author branches see copies in whatever order partitions
interleaved, which Kafka does not record; docs/replay.md says what that can and cannot change.

Deadlines. Live and here, before a comment at event time t is decided, the author's deadlines
at or before t fire (``Composition.on_raw``); ``fire_due`` fires the rest at the end of a range,
as the live worker's ticks fire those of authors who post nothing more. Each firing is decided
at its deadline, so its decision is the same bytes however late it ran.

Reviews. A person's decision from the moderator console is a record on ``reviews`` that live
enforcement consumes like any other input; ``review`` hands one to the same step
(``Composition.on_review``) behind the same stage boundary, so a replay that reads the reviews
of its range reproduces the undo actions a reviewer caused (the caller merges them with the
comments in record-timestamp order: docs/replay.md).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from schemas.action import Action, Decision
from schemas.comment import Comment
from schemas.deadletter import DeadLetter
from schemas.verdict import BehaviourNotice, Verdict
from streams import topics as specs
from streams.composition import Composition, Outputs, Record
from streams.normalise.pseudonymise import Pseudonymiser
from streams.registry import INPUTS, Input, input_for
from streams.runtime import guarded_step
from streams.stage_configs import StageConfigs
from streams.state_store import Stores

# Dead letters carry a wall-clock stamp that is operational only; replay writes this instead so
# its output is a function of its input alone.
REPLAY_FAILED_AT_MS = 0

# Topics whose records a step here reads; the raw topic is the caller's input.
_ROUTED = frozenset(i.topic.name for i in INPUTS if i.topic is not specs.RAW)
_REVIEW_INPUT = input_for(specs.REVIEWS)


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """Everything one input led to, in the order the live worker would have emitted it.

    For a raw message, exactly one of ``comment`` and ``dead_letter`` is set by ingestion; a
    later stage that fails sets ``dead_letter`` as well, as the live agent would have.
    ``decisions`` are: the firings of the author's deadlines that fell before this comment,
    this comment's own decision, then what the side branches led to (campaign notices, possibly
    for other authors). For a review, ``decisions`` is the review's one decision (or none,
    and a ``dead_letter``).
    """

    source: str
    comment: Comment | None = None
    dead_letter: DeadLetter | None = None
    verdict: Verdict | None = None
    assessed: Verdict | None = None
    notices: tuple[BehaviourNotice, ...] = ()
    decisions: tuple[Decision, ...] = ()
    actions: tuple[Action, ...] = ()
    timer_decisions: int = 0  # how many of ``decisions`` (the first) are deadline firings
    # How many (the last) the side branches led to: campaign notices, and the blocks of
    # accounts linked to a blocked author once their membership came back from the graph.
    notice_decisions: int = 0


@dataclass(frozen=True, slots=True)
class Fired:
    """What deadlines led to: one decision per case that moved, and its actions."""

    decisions: tuple[Decision, ...] = ()
    actions: tuple[Action, ...] = ()


@dataclass(slots=True)
class DecisionTally:
    """What a run decided, counted the same way by the offline pipeline and by replay."""

    decisions: int = 0
    timer_decisions: int = 0
    notice_decisions: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)

    def add(
        self,
        decisions: Iterable[Decision],
        actions: Iterable[Action],
        letter: DeadLetter | None = None,
    ) -> None:
        for decision in decisions:
            self.decisions += 1
            self.outcomes[decision.outcome] += 1
        self.actions.update(action.kind for action in actions)
        if letter is not None:
            self.dead_letters[letter.reason] += 1

    def counts(self) -> dict[str, Any]:
        return {
            "decisions": self.decisions,
            "timer_decisions": self.timer_decisions,
            "notice_decisions": self.notice_decisions,
            "dead_letters": dict(sorted(self.dead_letters.items())),
            "actions": dict(sorted(self.actions.items())),
            "outcomes": dict(sorted(self.outcomes.items())),
        }


@dataclass(slots=True)
class OfflineStats(DecisionTally):
    inputs: int = 0
    comments: int = 0
    reviews: int = 0
    max_event_time_ms: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "inputs": self.inputs,
            "comments": self.comments,
            "reviews": self.reviews,
            **self.counts(),
            "max_event_time_ms": self.max_event_time_ms,
        }


class OfflinePipeline:
    """The live composition over dicts, for one policy version, with in-process routing.

    Not thread-safe and not re-entrant: it is one worker's worth of state, for every partition.
    """

    def __init__(self, stages: StageConfigs, pseudonymiser: Pseudonymiser, max_bytes: int) -> None:
        self.stages = stages
        self.policy_version = stages.policy_version
        self.stores = Stores.in_memory()
        self.composition = Composition(
            self.stores, lambda: stages, pseudonymiser=pseudonymiser, max_bytes=max_bytes
        )
        self.stats = OfflineStats()

    # The bytes each table holds, as a live worker's tables would.
    @property
    def window_table(self) -> dict[bytes, bytes]:
        return self.stores.windows.table  # type: ignore[return-value]

    @property
    def band_table(self) -> dict[bytes, bytes]:
        """The band index as JSON bytes per key (a copy: the index holds decoded states)."""
        return self.stores.bands.encoded()

    @property
    def enforcement_table(self) -> dict[bytes, bytes]:
        return self.stores.enforcement.table  # type: ignore[return-value]

    @property
    def band_states(self):  # type: ignore[no-untyped-def]
        return self.stores.bands

    @property
    def pending_deadlines(self) -> int:
        return len(self.stores.enforcement.deadlines)

    def process(self, raw: bytes, source: str, *, record_ms: int | None = None) -> ReplayOutcome:
        """One message of ``comments.raw``; ``source`` must be its original
        ``topic[partition]@offset``, which decisions carry (and auditors look up).
        ``record_ms``: its record timestamp, if known: the linking index keeps a post's replies
        for a while of it, as live it keeps them for a while of wall clock."""
        self.stats.inputs += 1
        self.composition.record_ms = record_ms
        out = self.composition.on_raw(raw, None, source)
        if out.comment is not None:
            self.stats.comments += 1
            at = out.comment.event_time_ms
            if self.stats.max_event_time_ms is None or at > self.stats.max_event_time_ms:
                self.stats.max_event_time_ms = at
        own_decisions = out.of(specs.DECISIONS)
        own_actions = out.of(specs.ACTIONS)
        routed = self.route(out.records)
        notice_decisions = routed.of(specs.DECISIONS)
        outcome = ReplayOutcome(
            source=source,
            comment=out.comment,
            dead_letter=out.dead_letter or next(iter(routed.of(specs.DEADLETTER)), None),
            verdict=out.verdict,
            assessed=out.assessed,
            notices=tuple(routed.of(specs.BEHAVIOUR_NOTICES)),
            decisions=(*own_decisions, *notice_decisions),
            actions=(*own_actions, *routed.of(specs.ACTIONS)),
            timer_decisions=out.timer_decisions,
            notice_decisions=len(notice_decisions),
        )
        self.stats.timer_decisions += out.timer_decisions
        self.stats.notice_decisions += len(notice_decisions)
        self.stats.add(outcome.decisions, outcome.actions, outcome.dead_letter)
        return outcome

    def review(self, value: bytes, key: bytes | None, source: str) -> ReplayOutcome:
        """One message of ``reviews``, at its original ``topic[partition]@offset`` (the review's
        decision carries it), through the step and stage boundary live enforcement runs."""
        self.stats.inputs += 1
        self.stats.reviews += 1
        out = guarded_step(
            self.composition, _REVIEW_INPUT, value, key, source, failed_at_ms=REPLAY_FAILED_AT_MS
        )
        routed = self.route(out.records)
        outcome = ReplayOutcome(
            source=source,
            dead_letter=out.dead_letter,
            decisions=(*out.of(specs.DECISIONS), *routed.of(specs.DECISIONS)),
            actions=(*out.of(specs.ACTIONS), *routed.of(specs.ACTIONS)),
        )
        self.stats.add(outcome.decisions, outcome.actions, outcome.dead_letter)
        return outcome

    def route(self, records: Iterable[Record]) -> Outputs:
        """Feed each record to the step its topic feeds, and what those return, breadth first,
        as the broker would deliver them; returns every record written along the way."""
        written = Outputs()
        queue = deque(r for r in records if r.topic.name in _ROUTED)
        while queue:
            record = queue.popleft()
            written.records.append(record)
            result = self.run_step(input_for(record.topic), record)
            for produced in result.records:
                if produced.topic.name in _ROUTED:
                    queue.append(produced)
                else:
                    written.records.append(produced)
        return written

    def run_step(self, item: Input, record: Record) -> Outputs:
        """One routed record through the step its topic feeds (benchmarks time or skip some)."""
        return item.step(self.composition, record.value, record.key, record.topic.name)

    def fire_due(self, now_ms: int) -> Fired:
        """Fire every deadline at or before ``now_ms`` (event time), for every author, in
        (deadline, author key) order so the output is the same bytes every run."""
        out = self.composition.fire_due(now_ms)
        decisions, actions = out.of(specs.DECISIONS), out.of(specs.ACTIONS)
        self.stats.timer_decisions += len(decisions)
        self.stats.add(decisions, actions)
        return Fired(tuple(decisions), tuple(actions))
