"""Every stage's step, composed once over one set of stores: the live worker and the offline
runner (replay, audit, explain, benchmarks) both call this, never a copy of it.

Each ``on_*`` method handles one input of one topic: it loads the state the input's key owns,
calls the stage's pure function (``ingest``, ``Classifier.classify``, ``observe``,
``observe_band``, ``decide``/``on_behaviour``/``on_timer``/``on_result``, ``observe_key``,
``IdentityGraph.add``), stores the new state and returns its outputs as data: the records to
write, each with its topic and key. Who carries the records is the caller's business: the live
worker sends them to Kafka, the offline runner routes them in-process to the step their topic
feeds (``streams.registry.INPUTS``).

The main line is one hop: ``on_raw`` runs ingest → classify → rate windows → enforce for one
raw comment in one call, on the raw record's partition (the raw key decides the author, so every
author-keyed table is partition-local to it). Only the side branches have topics: the
cross-author band index and the linking index share one (``comments.side``: one record per
comment, on one partition; ``on_side`` files the comment under every band key, then every index
key, of two in-memory indexes that ``rebuild_side_branches`` rebuilds from the topic itself),
the identity graph (one partition) and the notices and memberships coming back.

No clock is read here except through ``wall_clock``, which the live worker passes and replay
does not: it only stamps dead letters and keeps band posts and a post's replies longer (replay
keeps the replies by the raw record's timestamp instead, ``record_ms``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.action import Action, ActionResult, Decision, Tick
from schemas.codec import replace
from schemas.comment import Comment
from schemas.deadletter import DeadLetter
from schemas.identity import ClusterMembership, LinkOverride, LinkSignal
from schemas.review import VERB_SPLIT_LINK, Review
from schemas.side import SideRecord
from schemas.verdict import BehaviourNotice, Verdict
from streams import topics as specs
from streams.enforce.logic import (
    FollowUp,
    decide,
    on_behaviour,
    on_result,
    on_review,
    on_timer,
    reach_linked,
)
from streams.enforce.state import AuthorState
from streams.language import identify
from streams.linking.evidence import cite
from streams.linking.graph import IdentityGraph
from streams.linking.signals import KeyState, index_keys, near_duplicate_signal, observe_key
from streams.normalise.ingest import ingest
from streams.normalise.pseudonymise import Pseudonymiser
from streams.rate_windows.campaign import campaign_notice
from streams.rate_windows.cross_author import BandEntry, band_entries, observe_band
from streams.rate_windows.logic import AuthorWindows, observe
from streams.stage_configs import StageConfigs
from streams.state_store import Stores

GRAPH_KEY = b"graph"  # identity.signals has one partition: one key for all


def band_entries_of(record: SideRecord) -> tuple[BandEntry, ...]:
    """A side record's band entries, one per band key."""
    return tuple(BandEntry.from_dict(d) for d in record.bands)


def side_record(entries: Sequence[BandEntry], comment: Comment | None) -> SideRecord:
    """What one comment gives the side branches: ``comment`` only if it has index keys."""
    return SideRecord(bands=tuple(e.to_dict() for e in entries), comment=comment)


@dataclass(frozen=True, slots=True)
class Record:
    """One record to write: its topic, key and typed value (``encode`` gives the bytes)."""

    topic: specs.TopicSpec
    key: bytes
    value: Any
    partition: int | None = None  # None: the key's partition, by the producer's partitioner

    def encode(self) -> bytes:
        value = self.value
        if isinstance(value, bytes):
            return value
        data: bytes = value.to_bytes()
        return data


@dataclass(slots=True)
class Outputs:
    """What one step led to. ``records`` are in the order the live worker writes them."""

    records: list[Record] = field(default_factory=list)
    outcomes: list[tuple[str, str]] = field(default_factory=list)  # (stage, outcome) for metrics
    late: list[str] = field(default_factory=list)  # stages that saw a late event
    comment: Comment | None = None
    verdict: Verdict | None = None
    assessed: Verdict | None = None
    dead_letter: DeadLetter | None = None
    timer_decisions: int = 0  # how many decisions (the first) are the author's deadline firings

    def decided(self, decisions: Iterable[Decision], actions: Iterable[Action]) -> None:
        # Actions go first: an executor that sees a decision can find its actions already out.
        for action in actions:
            self.records.append(Record(specs.ACTIONS, action.target_author.encode(), action))
        for decision in decisions:
            self.records.append(Record(specs.DECISIONS, decision.decision_id.encode(), decision))

    def of(self, topic: specs.TopicSpec) -> list[Any]:
        return [r.value for r in self.records if r.topic is topic]


@dataclass(slots=True)
class Fired:
    decisions: list[Decision] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)


class Composition:
    """normalise → classify → rate windows → enforce in one call, plus the side-branch steps.

    ``current`` returns the stage configs as of now (live, the policy can be swapped while
    running; offline, one fixed version). Not thread-safe: it is one worker's state.
    """

    def __init__(
        self,
        stores: Stores,
        current: Callable[[], StageConfigs],
        *,
        pseudonymiser: Pseudonymiser,
        max_bytes: int,
        wall_clock: Callable[[], int] | None = None,
        emit_assessed: bool = False,
    ) -> None:
        self.stores = stores
        self.current = current
        self._pseudonymiser = pseudonymiser
        self._max_bytes = max_bytes
        self._wall_clock = wall_clock
        self._emit_assessed = emit_assessed
        self.graph: IdentityGraph | None = None  # the identity graph, on the worker holding it
        self.watermark_ms = 0  # the latest comment event time seen: live deadlines fire on it
        # Offline only: the timestamp of the raw record being replayed, which stands in for the
        # wall clock at which the live linking index received that comment (seconds later).
        self.record_ms: int | None = None

    # --- the main line: one raw comment --------------------------------------------------------

    def on_raw(self, raw: bytes, key: bytes | None, source: str) -> Outputs:
        """One message of ``comments.raw``; ``source`` is its ``topic[partition]@offset``."""
        out = Outputs()
        ingested = ingest(
            raw,
            source=source,
            pseudonymiser=self._pseudonymiser,
            max_bytes=self._max_bytes,
            failed_at_ms=self._failed_at_ms(),
        )
        if isinstance(ingested, DeadLetter):
            out.dead_letter = ingested
            out.records.append(Record(specs.DEADLETTER, key or b"", ingested))
            out.outcomes.append(("normalise", "dead_letter"))
            return out
        comment = out.comment = ingested
        out.outcomes.append(("normalise", "ok"))
        self.watermark_ms = max(self.watermark_ms, comment.event_time_ms)
        stage = "classify"
        try:
            cfg = self.current()
            # The verdict carries the comment's language: it chooses the detectors that read
            # it and the language the author is answered in.
            verdict = out.verdict = cfg.classifier.verdict(comment, cfg.policy_version)
            out.outcomes.append((stage, "flagged" if verdict.findings else "clean"))
            stage = "rate_windows"
            assessed, entries = self._rate_windows(verdict, cfg, out)
            out.assessed = assessed
            if self._emit_assessed:
                out.records.append(Record(specs.ASSESSED, comment.author_key.encode(), assessed))
            stage = "enforce"
            fired = self._fire(comment.author_key, comment.event_time_ms, cfg)
            out.timer_decisions = len(fired.decisions)
            out.decided(fired.decisions, fired.actions)
            author = comment.author_key.encode()
            outcome = decide(
                self.stores.enforcement.load(author),
                assessed,
                cfg.enforcement,
                # Only a verdict enforcement answers has its language identified, here.
                language_of=identify,
            )
            # A block's linked accounts, if the membership came first (else on_cluster).
            linked = self._reach_linked(outcome.state, cfg, comment_id=comment.comment_id)
            self.stores.enforcement.store(author, linked.state)
            out.decided((outcome.decision,), outcome.actions)
            out.decided(linked.decisions, linked.actions)
            out.outcomes.append((stage, outcome.decision.outcome))
        except Exception as exc:  # noqa: BLE001 - a stage failure dead-letters this input only
            # The type only: an exception's message may quote the comment.
            letter = DeadLetter.of(
                raw,
                reason="processing_error",
                detail=type(exc).__name__,
                stage=stage,
                source=source,
                failed_at_ms=self._failed_at_ms(),
            )
            out.dead_letter = letter
            out.records.append(Record(specs.DEADLETTER, key or b"", letter))
            out.outcomes.append((stage, "dead_letter"))
            return out
        # The side branches, after the decision: what they find comes back as later records.
        # One record per comment for both branches, whatever its number of keys.
        indexed = comment if index_keys(comment) else None
        if entries or indexed is not None:
            record = side_record(entries, indexed)
            out.records.append(Record(specs.SIDE, comment.author_key.encode(), record))
        return out

    def _rate_windows(
        self, verdict: Verdict, cfg: StageConfigs, out: Outputs
    ) -> tuple[Verdict, tuple[BandEntry, ...]]:
        comment = verdict.comment
        author = comment.author_key.encode()
        state = self.stores.windows.load(author) or AuthorWindows()
        new_state, findings, stats = observe(state, verdict, cfg.windows)
        self.stores.windows.store(author, new_state)
        if stats.late:
            out.late.append("rate_windows")
        out.outcomes.append(("rate_windows", "behaviour" if findings else "ok"))
        assessed = replace(verdict, behaviour=findings) if findings else verdict
        if stats.duplicate:
            return assessed, ()
        entries = band_entries(
            stats.fingerprint,
            comment.author_key,
            comment.comment_id,
            comment.event_time_ms,
            cfg.windows,
            source=comment.source,
        )
        return assessed, entries

    # --- enforcement's other inputs ------------------------------------------------------------

    def on_notice(self, notice: BehaviourNotice, key: bytes | None, source: str) -> Outputs:
        author = notice.author_key.encode()
        follow = on_behaviour(
            self.stores.enforcement.load(author), notice, self.current().enforcement
        )
        return self._followed(author, follow, "acted" if follow.actions else "nothing_to_do")

    def on_tick(self, tick: Tick, key: bytes | None, source: str) -> Outputs:
        fired = self._fire(tick.author_key, tick.now_ms, self.current())
        out = Outputs(timer_decisions=len(fired.decisions))
        out.decided(fired.decisions, fired.actions)
        out.outcomes.append(("enforce", "fired" if fired.decisions else "nothing_due"))
        return out

    def on_result(self, result: ActionResult, key: bytes | None, source: str) -> Outputs:
        author = result.target_author.encode()
        follow = on_result(self.stores.enforcement.load(author), result, self.current().enforcement)
        return self._followed(author, follow, result.outcome)

    def on_review(self, review: Review, key: bytes | None, source: str) -> Outputs:
        """A person's decision from the moderator console: an input like any other."""
        author = review.author_key.encode()
        follow = on_review(
            self.stores.enforcement.load(author), review, source, self.current().enforcement
        )
        out = self._followed(author, follow, review.verb)
        split = link_split(review)
        if split is not None:
            # Enforcement undoes what the link caused; the identity graph must also stop
            # linking the pair, or the next block would reach the other account again.
            pair = f"{split.author_a}|{split.author_b}".encode()
            out.records.append(Record(specs.IDENTITY_OVERRIDES, pair, split))
        return out

    def on_cluster(self, membership: ClusterMembership, key: bytes | None, source: str) -> Outputs:
        """The accounts linked to an author now. Kept for the author's next block; and if the
        author is blocked already, the newly linked accounts are blocked now, by the same
        decisions the block would have taken had the membership come first."""
        author = membership.author_key.encode()
        if len(membership.members) <= 1:
            self.stores.clusters.pop(author, None)
            return Outputs(outcomes=[("enforce", "unlinked")])
        self.stores.clusters[author] = membership.to_bytes()
        state = self.stores.enforcement.load(author)
        if state is None:
            return Outputs(outcomes=[("enforce", "linked")])
        follow = self._reach_linked(state, self.current())
        if follow.state is not state:
            self.stores.enforcement.store(author, follow.state)
        return self._decided(follow, "blocked_linked" if follow.decisions else "linked")

    def fire_due(self, now_ms: int) -> Outputs:
        """Every author's deadlines at or before ``now_ms`` (event time), in (deadline, author)
        order; what the live ticks do, for a whole range at once."""
        cfg = self.current()
        out = Outputs()
        for author_key in self.stores.enforcement.due(now_ms):
            fired = self._fire(author_key, now_ms, cfg)
            out.timer_decisions += len(fired.decisions)
            out.decided(fired.decisions, fired.actions)
        return out

    def _linked(self, author_key: str, blocked_ms: int) -> tuple[list[tuple[str, str]], str]:
        """The accounts the author's membership names, with their evidence as of the block's
        event time (``streams.linking.evidence``), and the membership's digest
        (``reach_linked``'s ``via``)."""
        stored = self.stores.clusters.get(author_key.encode())
        if not stored:
            return [], ""
        membership = ClusterMembership.from_bytes(stored)
        linked = [
            (member, cite(membership, member, blocked_ms))
            for member in membership.members
            if member != author_key
        ]
        return linked, hashlib.sha256(stored).hexdigest()[:16]

    def _reach_linked(
        self, state: AuthorState, cfg: StageConfigs, *, comment_id: str = ""
    ) -> FollowUp:
        block = state.linking_block()
        if block is None:
            return FollowUp(state=state)  # most authors: no membership to read
        linked, via = self._linked(state.author_key, block.at_ms)
        return reach_linked(state, linked, cfg.enforcement, via=via, comment_id=comment_id)

    def _fire(self, author_key: str, now_ms: int, cfg: StageConfigs) -> Fired:
        """The author's deadlines at or before ``now_ms``, each decided at its own deadline, and
        again while a firing set another deadline that has passed too (a notice's own)."""
        store = self.stores.enforcement
        author = author_key.encode()
        fired = Fired()
        while (due := store.deadlines.get(author_key)) is not None and due <= now_ms:
            state = store.load(author)
            if state is None:
                store.deadlines.pop(author_key, None)
                break
            follow = on_timer(state, now_ms, cfg.enforcement)
            store.store(author, follow.state)
            if not follow.decisions:
                break  # nothing moved: another tick would not move it either
            fired.decisions.extend(follow.decisions)
            fired.actions.extend(follow.actions)
        return fired

    def _followed(self, author: bytes, follow: FollowUp, outcome: str) -> Outputs:
        self.stores.enforcement.store(author, follow.state)
        return self._decided(follow, outcome)

    @staticmethod
    def _decided(follow: FollowUp, outcome: str) -> Outputs:
        out = Outputs()
        out.decided(follow.decisions, follow.actions)
        out.outcomes.append(("enforce", outcome))
        return out

    # --- side branches -------------------------------------------------------------------------

    def on_side(self, record: SideRecord, key: bytes | None, source: str) -> Outputs:
        """One comment's side record: its band entries (``on_band``), then its index keys
        (``on_index``), and what the two returned in that order, which is the order replay
        routed them in when each branch had a topic of its own."""
        out = self.on_band(band_entries_of(record), key, source) if record.bands else Outputs()
        if record.comment is not None:
            index = self.on_index(record.comment, key, source)
            out.records += index.records
            out.outcomes += index.outcomes
            out.late += index.late
        return out

    def on_band(self, entries: tuple[BandEntry, ...], key: bytes | None, source: str) -> Outputs:
        """One comment's entries, one per band key (``on_side`` hands them over)."""
        wall_ms = self._wall_clock() if self._wall_clock is not None else None
        return self._observe_bands(entries, wall_ms)

    def _observe_bands(self, entries: tuple[BandEntry, ...], wall_ms: int | None) -> Outputs:
        cfg = self.current()
        out = Outputs()
        found_any = False
        for entry in entries:
            band_key = entry.key.encode()
            new_state, found = observe_band(
                self.stores.bands.get(band_key), entry, cfg.windows, wall_ms=wall_ms
            )
            self.stores.bands.put(band_key, new_state)
            if found.late:
                out.late.append("rate_windows_bands")
            for link in found.links:
                signal = near_duplicate_signal(link, entry.event_time_ms, cfg.linking)
                out.records.append(Record(specs.IDENTITY_SIGNALS, GRAPH_KEY, signal))
            for member in found.members:
                notice = campaign_notice(member, cfg.policy_version, cfg.windows)
                out.records.append(
                    Record(specs.BEHAVIOUR_NOTICES, member.author_key.encode(), notice)
                )
            found_any = found_any or bool(found.members)
        out.outcomes.append(("rate_windows_bands", "campaign" if found_any else "ok"))
        return out

    def on_index(self, comment: Comment, key: bytes | None, source: str) -> Outputs:
        """One comment, filed under each of its index keys (``index_keys``) in key order."""
        wall_ms = self._wall_clock() if self._wall_clock is not None else self.record_ms
        return self._observe_index(comment, wall_ms)

    def _observe_index(self, comment: Comment, wall_ms: int | None) -> Outputs:
        cfg = self.current().linking
        out = Outputs()
        for index_key in index_keys(comment):
            stored = self.stores.index.load(index_key.encode()) or KeyState()
            new_state, found = observe_key(stored, index_key, comment, cfg, wall_ms=wall_ms)
            self.stores.index.store(index_key.encode(), new_state)
            out.records.extend(Record(specs.IDENTITY_SIGNALS, GRAPH_KEY, s) for s in found)
        found_any = any(r.topic is specs.IDENTITY_SIGNALS for r in out.records)
        out.outcomes.append(("linking", "signal" if found_any else "ok"))
        return out

    def rebuild_side_branches(self, history: Sequence[tuple[bytes, int]]) -> int:
        """Rebuild the side branches' in-memory indexes from their topic: ``history`` is every
        retained record before the committed offset, as (value, record timestamp), oldest
        first. The same steps fold them as live, with the record's timestamp for the wall
        clock they saw then; what the steps write is dropped (it was written the first time).
        The topic is the indexes' log, as a source topic is a Kafka Streams table's changelog.
        The linking index folds the whole retention (90 days); the band index only the
        records of the last ``BAND_REBUILD_HORIZON_MS`` before the newest (what its own topic
        retained when it had one: its posts outlive their 15 minutes by wall clock at most).
        Returns how many records were folded."""
        self.stores.band_table.clear()
        self.stores.index.table.clear()
        newest_ms = max((timestamp_ms for _, timestamp_ms in history), default=0)
        bands_from_ms = newest_ms - specs.BAND_REBUILD_HORIZON_MS
        for value, timestamp_ms in history:
            record = SideRecord.from_bytes(value)
            # Live, the wall clock the steps saw is the record's timestamp; offline none.
            wall_ms = timestamp_ms if self._wall_clock is not None else None
            if record.bands and timestamp_ms >= bands_from_ms:
                self._observe_bands(band_entries_of(record), wall_ms)
            if record.comment is not None:
                self._observe_index(record.comment, wall_ms)
        return len(history)

    def rebuild_graph(
        self, history: Iterable[bytes], overrides: Iterable[bytes] = ()
    ) -> IdentityGraph:
        """The graph is a fold over identity.signals and identity.overrides: whoever holds
        their one partition rebuilds it from the logs up to the committed offsets, so no
        separate store can drift from it. Edges and overrides commute (the graph is a function
        of both, whatever order they arrived in), so the overrides go last."""
        graph = IdentityGraph(self.current().linking)
        for raw in history:
            graph.add(LinkSignal.from_bytes(raw))
        for raw in overrides:
            graph.override(LinkOverride.from_bytes(raw))
        self.graph = graph
        return graph

    def on_override(self, decision: LinkOverride, key: bytes | None, source: str) -> Outputs:
        """A reviewer's split or merge of two accounts: the clusters it changes, as memberships."""
        return _clusters_changed(self._graph().override(decision))

    def on_signal(self, signal: LinkSignal, key: bytes | None, source: str) -> Outputs:
        return _clusters_changed(self._graph().add(signal))

    def _graph(self) -> IdentityGraph:
        return self.graph if self.graph is not None else self.rebuild_graph(())

    def _failed_at_ms(self) -> int:
        # Dead letters carry a wall-clock stamp that is operational only; offline it is 0 so
        # replay's output is a function of its input alone.
        return self._wall_clock() if self._wall_clock is not None else 0


def _clusters_changed(changed: Iterable[ClusterMembership]) -> Outputs:
    """The linking step's outputs: each changed membership, keyed by its author."""
    records = [Record(specs.IDENTITY_CLUSTERS, m.author_key.encode(), m) for m in changed]
    return Outputs(records=records, outcomes=[("linking", "clusters_changed" if records else "ok")])


def link_split(review: Review) -> LinkOverride | None:
    """The identity graph's override a console review asks for, if any."""
    if review.verb != VERB_SPLIT_LINK or not review.other_author:
        return None
    a, b = sorted((review.author_key, review.other_author))
    if a == b:
        return None
    return LinkOverride(
        author_a=a,
        author_b=b,
        action="split",
        reviewer=review.reviewer,
        reason=review.reason,
        at_ms=review.at_ms,
    )
