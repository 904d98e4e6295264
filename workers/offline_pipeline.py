"""Every stage of the live pipeline, run in-process over one raw message at a time, for replay.

The same pure functions the agents call (``ingest``, ``Classifier.classify``, ``observe``,
``band_entries``/``observe_band``, ``decide``/``on_behaviour``/``on_timer``), built from one
policy version by ``build_stage_configs``, in the same order. State is held exactly as the
Faust tables hold it, as the bytes each agent writes, so a replay reads back what a live worker
would have read back. No Kafka, no clock: the caller supplies the raw bytes and their original
``topic[partition]@offset`` and gets every record the live stages would have produced for it.

Why this reproduces the live run. Every stage but one is keyed by author, and one author's
messages reach ``comments.raw`` under one key, hence one partition, in offset order; so as long
as each partition is replayed in offset order, each author's state sees the same inputs in the
same order as live, whatever the interleaving across partitions. The exception is the
cross-author campaign index (``rate_windows.bands``, keyed by text fingerprint), which sees
copies in whatever order partitions interleaved live, which Kafka does not record. It does not
matter: a comment's campaign notice says whether enough accounts posted near-copies around it,
a fact about the set of copies, and names nothing that depends on which came last
(``streams.rate_windows.campaign``); replay feeds the index in record-timestamp order and gets
the same notices, about the same comments, with the same bytes.

Deadlines. Live, ticks fire an author's due deadlines once the worker's event-time watermark
passes them (and, in production, the wall clock). Here they fire on event time alone: before a
comment at event time t is decided, the author's deadlines at or before t fire, so the comment
sees the state it would have seen had the tick been instant; ``fire_due`` fires the rest at the
end of a range. Each firing is decided at its deadline, so its decision is the same bytes as a
live tick's, however late that tick ran.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import orjson

from schemas.action import Action, Decision
from schemas.codec import replace as replace_record
from schemas.codec import right_sized
from schemas.comment import Comment
from schemas.deadletter import DeadLetter
from schemas.verdict import BehaviourNotice, Verdict
from streams.enforce.logic import decide, on_behaviour, on_timer
from streams.enforce.state import AuthorState
from streams.normalise.ingest import ingest
from streams.normalise.pseudonymise import Pseudonymiser
from streams.rate_windows.band_states import BandStates
from streams.rate_windows.campaign import campaign_notice
from streams.rate_windows.cross_author import BandEntry, band_entries, observe_band
from streams.rate_windows.logic import AuthorWindows, observe
from workers.pipeline import StageConfigs

# Dead letters carry a wall-clock stamp that is operational only; replay writes this instead so
# its output is a function of its input alone.
REPLAY_FAILED_AT_MS = 0

# The stage names the agents dead-letter under (streams/<stage>/agents.py).
_CLASSIFY, _RATE_WINDOWS, _BANDS, _ENFORCE = (
    "classify",
    "rate_windows",
    "rate_windows_bands",
    "enforce",
)


@dataclass(frozen=True, slots=True)
class ReplayOutcome:
    """Everything one raw message led to, in the order the live stages would have emitted it.

    Exactly one of ``comment`` and ``dead_letter`` is set by ingestion; a later stage that
    fails sets ``dead_letter`` as well, as its agent would have. ``decisions`` are: the firings
    of the author's deadlines that fell before this comment, this comment's own decision, then
    what the campaign notices this comment raised led to (possibly for other authors).
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
    notice_decisions: int = 0  # how many (the last) answer campaign notices


@dataclass(frozen=True, slots=True)
class Fired:
    """What deadlines (or notices) led to: one decision per case that moved, and its actions."""

    decisions: tuple[Decision, ...] = ()
    actions: tuple[Action, ...] = ()


_NOTHING = Fired()


@dataclass(slots=True)
class OfflineStats:
    inputs: int = 0
    comments: int = 0
    decisions: int = 0
    timer_decisions: int = 0
    notice_decisions: int = 0
    dead_letters: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    max_event_time_ms: int | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "inputs": self.inputs,
            "comments": self.comments,
            "decisions": self.decisions,
            "timer_decisions": self.timer_decisions,
            "notice_decisions": self.notice_decisions,
            "dead_letters": dict(sorted(self.dead_letters.items())),
            "actions": dict(sorted(self.actions.items())),
            "outcomes": dict(sorted(self.outcomes.items())),
            "max_event_time_ms": self.max_event_time_ms,
        }


class OfflinePipeline:
    """normalise → classify → rate windows (and bands) → enforce, for one policy version.

    Not thread-safe and not re-entrant: it is one worker's worth of state, for every partition.
    """

    def __init__(self, stages: StageConfigs, pseudonymiser: Pseudonymiser, max_bytes: int) -> None:
        self.stages = stages
        self.policy_version = stages.classifier.policy.version
        self._pseudonymiser = pseudonymiser
        self._max_bytes = max_bytes
        # The bytes each table would hold: author key → windows / enforcement state, band key →
        # that fingerprint slice's recent posts.
        self.window_table: dict[bytes, bytes] = {}
        self.band_table: dict[bytes, bytes] = {}
        self.band_states = BandStates(self.band_table)
        self.enforcement_table: dict[bytes, bytes] = {}
        # author key -> next open deadline (event-time ms), as the enforce agent indexes it.
        self._deadlines: dict[str, int] = {}
        self.stats = OfflineStats()

    def process(self, raw: bytes, source: str) -> ReplayOutcome:
        """One message of ``comments.raw``; ``source`` must be its original
        ``topic[partition]@offset``, which decisions carry (and auditors look up)."""
        self.stats.inputs += 1
        ingested = ingest(
            raw,
            source=source,
            pseudonymiser=self._pseudonymiser,
            max_bytes=self._max_bytes,
            failed_at_ms=REPLAY_FAILED_AT_MS,
        )
        if isinstance(ingested, DeadLetter):
            return self._dead(ReplayOutcome(source=source, dead_letter=ingested))
        comment = ingested
        self.stats.comments += 1
        at = comment.event_time_ms
        if self.stats.max_event_time_ms is None or at > self.stats.max_event_time_ms:
            self.stats.max_event_time_ms = at
        outcome = ReplayOutcome(source=source, comment=comment)

        stage = _CLASSIFY
        kept: bytes = b""
        fired = own = campaign = _NOTHING
        try:
            kept = comment.to_bytes()
            verdict = self.stages.classifier.verdict(comment, self.policy_version)
            outcome = replace(outcome, verdict=verdict)
            stage, kept = _RATE_WINDOWS, verdict.to_bytes()
            assessed, entries = self._rate_windows(verdict)
            outcome = replace(outcome, assessed=assessed)
            stage, kept = _ENFORCE, assessed.to_bytes()
            fired = self._fire(comment.author_key, at)
            own = self._decide(assessed)
            # Live, the fan-out goes out after the assessed verdict: its notices come later.
            notices: list[BehaviourNotice] = []
            for entry in entries:
                stage, kept = _BANDS, orjson.dumps(entry.to_dict())
                notices.extend(self._band(entry))
            outcome = replace(outcome, notices=tuple(notices))
            stage = _ENFORCE
            campaign = self._on_notices(notices)
        except Exception as exc:  # noqa: BLE001 - as streams.runtime.guarded: dead-letter, go on
            # As the agent does, keep the failing stage's own input; the source is the raw
            # offset, as replay has no intermediate topics.
            letter = DeadLetter(
                reason="processing_error",
                detail=type(exc).__name__,
                stage=stage,
                source=source,
                original_b64=DeadLetter.encode_original(kept),
                failed_at_ms=REPLAY_FAILED_AT_MS,
            )
            outcome = self._dead(replace(outcome, dead_letter=letter))
        outcome = replace(
            outcome,
            decisions=(*fired.decisions, *own.decisions, *campaign.decisions),
            actions=(*fired.actions, *own.actions, *campaign.actions),
            timer_decisions=len(fired.decisions),
            notice_decisions=len(campaign.decisions),
        )
        self.stats.timer_decisions += len(fired.decisions)
        self.stats.notice_decisions += len(campaign.decisions)
        self._count(outcome.decisions, outcome.actions)
        return outcome

    def fire_due(self, now_ms: int) -> Fired:
        """Fire every deadline at or before ``now_ms`` (event time), for every author.

        Authors fire in (deadline, author key) order so the output is the same bytes every run.
        """
        due = sorted((d, a) for a, d in self._deadlines.items() if d <= now_ms)
        decisions: list[Decision] = []
        actions: list[Action] = []
        for _, author_key in due:
            fired = self._fire(author_key, now_ms)
            decisions.extend(fired.decisions)
            actions.extend(fired.actions)
        self.stats.timer_decisions += len(decisions)
        self._count(decisions, actions)
        return Fired(tuple(decisions), tuple(actions))

    @property
    def pending_deadlines(self) -> int:
        return len(self._deadlines)

    # --- the stages, as their agents run them -------------------------------------------------

    def _rate_windows(self, verdict: Verdict) -> tuple[Verdict, tuple[BandEntry, ...]]:
        cfg = self.stages.windows
        comment = verdict.comment
        author = comment.author_key.encode()
        stored = self.window_table.get(author)
        state = AuthorWindows.from_dict(orjson.loads(stored)) if stored else AuthorWindows()
        new_state, findings, stats = observe(state, verdict, cfg)
        self.window_table[author] = right_sized(orjson.dumps(new_state.to_dict()))
        assessed = replace_record(verdict, behaviour=findings) if findings else verdict
        if stats.duplicate:
            return assessed, ()
        entries = band_entries(
            stats.fingerprint,
            comment.author_key,
            comment.comment_id,
            comment.event_time_ms,
            cfg,
            source=comment.source,
        )
        return assessed, entries

    def _band(self, entry: BandEntry) -> list[BehaviourNotice]:
        band_key = entry.key.encode()
        state = self.band_states.get(band_key)
        # No wall clock: input in record-timestamp order needs event time alone (live keeps
        # posts longer, by wall clock, against interleaving; both meet the same copies).
        new_state, outcome = observe_band(state, entry, self.stages.windows)
        self.band_states.put(band_key, new_state)
        return [
            campaign_notice(member, self.policy_version, self.stages.windows)
            for member in outcome.members
        ]

    def _decide(self, assessed: Verdict) -> Fired:
        author = assessed.comment.author_key.encode()
        # Linking is not wired into the live worker (it passes no linked authors): nor here.
        outcome = decide(self._load(author), assessed, self.stages.enforcement, linked_authors=())
        self._store(author, outcome.state)
        return Fired((outcome.decision,), outcome.actions)

    def _on_notices(self, notices: Iterable[BehaviourNotice]) -> Fired:
        decisions: list[Decision] = []
        actions: list[Action] = []
        for notice in notices:
            author = notice.author_key.encode()
            follow = on_behaviour(self._load(author), notice, self.stages.enforcement)
            self._store(author, follow.state)
            decisions.extend(follow.decisions)
            actions.extend(follow.actions)
        return Fired(tuple(decisions), tuple(actions))

    def _fire(self, author_key: str, now_ms: int) -> Fired:
        """As the tick agent: an author gets a tick only once a deadline has passed, and again
        while the firing set another deadline that has passed too (a notice's own deadline)."""
        decisions: list[Decision] = []
        actions: list[Action] = []
        author = author_key.encode()
        while (due := self._deadlines.get(author_key)) is not None and due <= now_ms:
            state = self._load(author)
            if state is None:
                self._deadlines.pop(author_key, None)
                break
            follow = on_timer(state, now_ms, self.stages.enforcement)
            self._store(author, follow.state)
            if not follow.decisions:
                break  # nothing moved: another tick would not move it either
            decisions.extend(follow.decisions)
            actions.extend(follow.actions)
        if not decisions:
            return _NOTHING
        return Fired(tuple(decisions), tuple(actions))

    def _load(self, author: bytes) -> AuthorState | None:
        stored = self.enforcement_table.get(author)
        return AuthorState.from_dict(orjson.loads(stored)) if stored else None

    def _store(self, author: bytes, state: AuthorState) -> None:
        # As streams/enforce/agents.py store(): idle authors leave the table.
        if state.is_idle:
            self.enforcement_table.pop(author, None)
        else:
            self.enforcement_table[author] = right_sized(state.to_bytes())
        due = state.next_deadline_ms()
        if due is None:
            self._deadlines.pop(state.author_key, None)
        else:
            self._deadlines[state.author_key] = due

    # --- bookkeeping --------------------------------------------------------------------------

    def _dead(self, outcome: ReplayOutcome) -> ReplayOutcome:
        assert outcome.dead_letter is not None
        self.stats.dead_letters[outcome.dead_letter.reason] += 1
        return outcome

    def _count(self, decisions: Iterable[Decision], actions: Iterable[Action]) -> None:
        for decision in decisions:
            self.stats.decisions += 1
            self.stats.outcomes[decision.outcome] += 1
        for action in actions:
            self.stats.actions[action.kind] += 1
