"""The identity graph: evidence between pairs of accounts, which pairs are linked, and clusters.

Each pair with evidence has one edge. Per kind of evidence the edge accumulates observations
by noisy-OR (``1 - Π(1 - kind weight × signal weight)``), so repeats count for less and less,
and the kind's contribution is capped (writing style is a measurement, so its newest value
replaces the last); a kind needing repeats (co-timing) contributes nothing
until it has them. The edge's score combines the kinds by noisy-OR again. Because every cap is
below the threshold (``LinkingConfig`` refuses anything else), a pair links only on evidence
of at least two kinds.

Clusters are the connected components of linked pairs (and pairs a reviewer merged), with one
twist: a pair a reviewer split is never in one cluster again, not even through a third account.
Where a component holds a split pair, it is divided by adding its linked pairs strongest first
and skipping any that would join a split pair (a constrained Kruskal), so the result is a
function of the edges and the overrides alone, whatever order they arrived in.

Memory is bounded: an edge with no new evidence for ``expiry_days`` goes at the next
``expire``; an account holds at most ``max_edges_per_account`` edges (the unlinked edge with
the oldest evidence makes way); each kind keeps its last ``max_evidence_per_kind`` observations
for the evidence trail, and counts the rest.

Arrival order does not matter (issue 17, docs/replay.md "Linking in event time"). The identity
graph runs on one partition fed by every raw partition's comments, so live it meets a pair's
observations in whatever order the partitions interleaved, and replay in another. So:

- a kind's noisy-OR is a sum of integers (``-ln(1 - x)`` in fixed point), the same in any
  order, where a product of floats differs in its last bits with the order of its factors;
  the kinds combine in kind order, and a measured kind's newest value is the newest by event
  time (ties by value), not by arrival;
- each kind keeps its newest ``HISTORY_PER_KIND`` observations by event time with their
  weights (the older ones are folded into a count and a sum), so the graph answers "this pair
  as of event time t" (``KindEvidence.as_of``), and each cluster edge it sends carries its
  score's steps in event time (``ClusterEdge.steps``) and the event time it linked at
  (``since_ms``). A linked block cites the cluster as of the block's event time from those
  (``streams.linking.evidence.evidence_as_of``): a function of the observations' event times,
  not of how far the graph had got when the block met the membership.
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple

from schemas.codec import dumps, loads
from schemas.identity import (
    REVIEWER_MERGE,
    ClusterEdge,
    ClusterMembership,
    EdgeStep,
    LinkOverride,
    LinkSignal,
    ordered_pair,
)
from streams.linking.config import LinkingConfig

SNAPSHOT_FORMAT = 1
# Kinds that are a measurement of two accounts rather than an event between them: comparing
# the same two profiles again is not new evidence, so the newest measurement replaces the
# old one instead of adding to it.
MEASURED_KINDS = frozenset({"writing_style"})

Pair = tuple[str, str]
# Observations per kind per edge kept with their event times (``KindEvidence.history``): a pair
# "as of t" is exact while at most this many observations of a kind came after t; older ones
# are folded into a count and a sum. 8 (event time, weight) pairs are 8 small tuples per kind,
# only on edges with repeats (nine edges in ten hold one observation).
HISTORY_PER_KIND = 8
# -ln(1 - x) in units of 1e-9: the noisy-OR of a kind as a sum of integers, exact in any order.
_NL_SCALE = 1_000_000_000
_X_MAX = 1.0 - 1e-9  # one observation at weight 1 would make the sum infinite


def _nl(x: float) -> int:
    return round(-math.log1p(-min(x, _X_MAX)) * _NL_SCALE)


def _from_nl(nl: int) -> float:
    return -math.expm1(-nl / _NL_SCALE)


class Observation(NamedTuple):
    event_time_ms: int
    weight: float  # the signal's own weight, before the kind weight
    evidence: str
    source_ids: tuple[str, ...]


class KindEvidence:
    """Everything one edge knows about one kind of evidence."""

    __slots__ = (
        "base_count",
        "base_nl",
        "combined",
        "count",
        "first_ms",
        "history",
        "kind",
        "last_ms",
        "recent",
    )

    def __init__(
        self,
        kind: str,
        count: int = 0,
        combined: float = 0.0,
        first_ms: int = 0,
        last_ms: int = 0,
        recent: tuple[Observation, ...] = (),
        history: tuple[tuple[int, float], ...] = (),
        base_count: int | None = None,
        base_nl: int | None = None,
    ) -> None:
        self.kind = kind
        self.count = count
        self.combined = combined  # noisy-OR of every observation so far, uncapped
        self.first_ms = first_ms
        self.last_ms = last_ms
        # A tuple, rebuilt per observation (at most max_evidence_per_kind + 1 long): a list
        # grown by append over-allocates, and at 1M accounts there are 4M+ of these.
        self.recent = recent
        # (event time, kind weight x signal weight) of the newest HISTORY_PER_KIND observations,
        # sorted; the rest are folded into base_count and base_nl (a snapshot without history
        # folds everything: it answers "as of" with the whole).
        self.history = history
        self.base_count = count - len(history) if base_count is None else base_count
        self.base_nl = _nl(combined) if base_nl is None and not history else (base_nl or 0)

    def observe(self, signal: LinkSignal, kind_weight: float, keep: int) -> None:
        """Count one observation; keep it for the trail if it is among the newest ``keep``."""
        t = signal.event_time_ms
        self.first_ms = t if self.count == 0 else min(self.first_ms, t)
        self.last_ms = max(self.last_ms, t)
        self.count += 1
        history = sorted((*self.history, (t, kind_weight * signal.weight)))
        if len(history) > HISTORY_PER_KIND:
            _, oldest = history.pop(0)
            self.base_count += 1
            self.base_nl += _nl(oldest)
        self.history = tuple(history)
        self.combined = self.as_of(None)[1]
        # Interned: evidence texts are formulaic, so most edges can share one string object.
        evidence = sys.intern(signal.evidence)
        # Sorted even when short: the trail is the newest ``keep`` by event time, not the
        # arrival order of the first few.
        recent = (*self.recent, Observation(t, signal.weight, evidence, signal.source_ids))
        self.recent = tuple(sorted(recent)[-keep:])

    def as_of(self, at_ms: int | None) -> tuple[int, float]:
        """(count, noisy-OR) of the observations at or before ``at_ms`` (None: all of them).

        Exact while at most ``HISTORY_PER_KIND`` observations came after ``at_ms``; beyond
        that the folded ones count as before it. A measured kind's value is its newest
        observation's, newest by event time and then by value, whatever the arrival order."""
        kept = self.history if at_ms is None else tuple(o for o in self.history if o[0] <= at_ms)
        count = self.base_count + len(kept)
        if self.kind in MEASURED_KINDS:
            if kept:
                return count, kept[-1][1]
            return count, self.combined if at_ms is None else 0.0
        nl = self.base_nl + sum(_nl(x) for _, x in kept)
        return count, _from_nl(nl)


class Edge:
    """One pair of accounts and the evidence between them."""

    __slots__ = ("author_a", "author_b", "evidence", "last_ms", "linked", "score", "steps")

    def __init__(self, author_a: str, author_b: str) -> None:
        self.author_a = author_a
        self.author_b = author_b
        # ``edge_steps`` of a linked edge, computed when a membership first needs it and
        # dropped when the edge's evidence changes (memberships are built per signal).
        self.steps: tuple[int, tuple[EdgeStep, ...]] | None = None
        # A tuple, not a dict by kind: nine edges in ten hold one kind, and a one-key dict
        # costs 184 B against a one-item tuple's 48 (docs/benchmarks.md, linking at 1M).
        self.evidence: tuple[KindEvidence, ...] = ()
        self.last_ms = 0  # newest evidence of any kind: expiry runs on it
        self.score = 0.0
        self.linked = False

    @property
    def kinds(self) -> Mapping[str, KindEvidence]:
        """The evidence by kind, read-only (a view built per call, for readers)."""
        return MappingProxyType({ev.kind: ev for ev in self.evidence})

    def of_kind(self, kind: str) -> KindEvidence | None:
        for ev in self.evidence:
            if ev.kind == kind:
                return ev
        return None

    def attach(self, evidence: KindEvidence) -> KindEvidence:
        # Kept in kind order: the score multiplies the kinds in this order, and a product of
        # floats must not depend on which kind arrived first.
        self.evidence = tuple(sorted((*self.evidence, evidence), key=lambda ev: ev.kind))
        return evidence

    def first_event_ms(self) -> int:
        return min((ev.first_ms for ev in self.evidence), default=0)


def kind_score(evidence: KindEvidence | None, kind: str, cfg: LinkingConfig) -> float:
    """What one kind contributes to a pair: capped, and nothing until it has enough repeats."""
    if evidence is None or evidence.count < cfg.min_count(kind) or not cfg.enabled(kind):
        return 0.0
    return min(cfg.caps[kind], evidence.combined)


def combine(scores: Iterable[float]) -> float:
    """Noisy-OR: the chance at least one kind is right, were they independent."""
    remaining = 1.0
    for s in scores:
        remaining *= 1.0 - s
    return 1.0 - remaining


class _KindRule(NamedTuple):
    cap: float
    min_count: int


def _rules(cfg: LinkingConfig) -> dict[str, _KindRule]:
    # Plain dict of tuples: add() reads it on every signal, and config mappings are read-only
    # proxies, slower to index.
    return {
        kind: _KindRule(cfg.caps[kind] if cfg.enabled(kind) else 0.0, cfg.min_count(kind))
        for kind in cfg.weights
    }


def _edge_score(edge: Edge, rules: dict[str, _KindRule]) -> float:
    """``combine`` of ``kind_score`` over the edge's kinds, inlined: it runs on every signal."""
    remaining = 1.0
    for ev in edge.evidence:
        rule = rules[ev.kind]
        if ev.count >= rule.min_count:
            remaining *= 1.0 - min(rule.cap, ev.combined)
    return 1.0 - remaining


def _score_as_of(edge: Edge, rules: dict[str, _KindRule], at_ms: int) -> EdgeStep:
    """The edge's score and contributing kinds from its observations at or before ``at_ms``."""
    return _step_of(((ev.kind, *ev.as_of(at_ms)) for ev in edge.evidence), rules, at_ms)


def _step_of(
    kinds: Iterable[tuple[str, int, float]], rules: dict[str, _KindRule], at_ms: int
) -> EdgeStep:
    """A step from each kind's (kind, count, noisy-OR) as of ``at_ms``, in kind order."""
    remaining = 1.0
    contributing = []
    for kind, count, combined in kinds:
        rule = rules[kind]
        if count and count >= rule.min_count:
            contributes = min(rule.cap, combined)
            remaining *= 1.0 - contributes
            if contributes > 0.0:
                contributing.append(kind)
    return EdgeStep(event_time_ms=at_ms, score=round(1.0 - remaining, 6), kinds=tuple(contributing))


def edge_steps(
    edge: Edge, rules: dict[str, _KindRule], threshold: float
) -> tuple[int, tuple[EdgeStep, ...]]:
    """When the edge linked (event time), and its score's steps from then on: a function of
    its observations' event times, whatever order they arrived in. One pass over the kinds'
    histories in event-time order, the running count and sum per kind."""
    if edge.steps is not None:
        return edge.steps
    counts = {ev.kind: ev.base_count for ev in edge.evidence}
    sums = {ev.kind: ev.base_nl for ev in edge.evidence}
    values = dict.fromkeys(counts, 0.0)  # measured kinds: the newest value so far
    measured = {ev.kind: ev.kind in MEASURED_KINDS for ev in edge.evidence}
    merged = sorted(
        (t, kind, x) for ev in edge.evidence for kind in (ev.kind,) for t, x in ev.history
    )
    steps: list[EdgeStep] = []
    since: int | None = None
    for n, (t, kind, x) in enumerate(merged):
        counts[kind] += 1
        if measured[kind]:
            values[kind] = x
        else:
            sums[kind] += _nl(x)
        if n + 1 < len(merged) and merged[n + 1][0] == t:
            continue  # every observation at one event time counts at once
        step = _step_of(
            ((k, c, values[k] if measured[k] else _from_nl(sums[k])) for k, c in counts.items()),
            rules,
            t,
        )
        if since is None:
            if step.score < threshold:
                continue
            since = t
        if not steps or (steps[-1].score, steps[-1].kinds) != (step.score, step.kinds):
            steps.append(step)
    if since is None:
        # Linked on observations folded out of the history: from the oldest one kept on.
        since = merged[0][0] if merged else edge.first_event_ms()
        steps = [_score_as_of(edge, rules, since)]
    edge.steps = (since, tuple(steps))
    return edge.steps


def cluster_id(members: Iterable[str]) -> str:
    """Named after the smallest member key, so the same members always give the same id."""
    smallest = min(members)
    return "c-" + hashlib.blake2b(smallest.encode(), digest_size=8).hexdigest()


@dataclass(slots=True)
class GraphStats:
    signals: int = 0
    refused_split: int = 0  # signals for a pair a reviewer split
    ignored_disabled: int = 0  # signals of a kind whose weight is 0
    dropped_full: int = 0  # new pairs refused: an account's edges were all linked
    evicted: int = 0  # unlinked edges dropped to make room
    expired: int = 0


class IdentityGraph:
    """Mutable, but a pure function of what was fed in: no clock, no I/O, no randomness."""

    def __init__(self, config: LinkingConfig) -> None:
        self.config = config
        self.stats = GraphStats()
        self._rules = _rules(config)
        self._weights = dict(config.weights)
        self._edges: dict[Pair, Edge] = {}
        # Neighbours as lists, not sets: an account has at most max_edges_per_account of them
        # and every edge is added once (the _edges dict guards it), so a list does the same
        # job at a quarter of the memory (a set of 5 to 18 keys is 728 B, a list of 9 is 184 B): at
        # 1M accounts that was the largest single cost (docs/benchmarks.md).
        self._adjacent: dict[str, list[str]] = {}
        self._overrides: dict[Pair, LinkOverride] = {}
        self._merged: dict[str, set[str]] = {}
        self._split: dict[str, set[str]] = {}
        self._cluster_of: dict[str, tuple[str, ...]] = {}  # accounts in clusters of 2 or more
        self._constrained: set[str] = set()  # accounts in a component holding a split pair

    # --- reading -------------------------------------------------------------------------

    def edge(self, x: str, y: str) -> Edge | None:
        return self._edges.get(ordered_pair(x, y))

    def edges(self) -> Iterator[Edge]:
        return iter(self._edges.values())

    def override_for(self, x: str, y: str) -> LinkOverride | None:
        return self._overrides.get(ordered_pair(x, y))

    def overrides(self) -> tuple[LinkOverride, ...]:
        return tuple(self._overrides[p] for p in sorted(self._overrides))

    @property
    def edge_count(self) -> int:
        return len(self._edges)

    @property
    def account_count(self) -> int:
        return len(self._adjacent)

    def members(self, author: str) -> tuple[str, ...]:
        return self._cluster_of.get(author, (author,))

    def clusters(self) -> tuple[tuple[str, ...], ...]:
        """Every cluster of two or more accounts, sorted."""
        return tuple(sorted(set(self._cluster_of.values())))

    def membership(self, author: str, event_time_ms: int) -> ClusterMembership:
        members = self.members(author)
        edges, score = self._cluster_edges(members)
        return ClusterMembership(
            cluster_id=cluster_id(members),
            author_key=author,
            members=members,
            edges=edges,
            score=score,
            event_time_ms=event_time_ms,
        )

    def linked_path(self, x: str, y: str) -> tuple[str, ...] | None:
        """The shortest chain of linked pairs from x to y inside their cluster, if any."""
        members = self.members(x)
        if y not in members or x == y:
            return None
        inside = set(members)
        previous: dict[str, str] = {x: x}
        queue = deque([x])
        while queue:
            node = queue.popleft()
            for other in sorted(self._linked_neighbours(node)):
                if other in inside and other not in previous:
                    previous[other] = node
                    queue.append(other)
        if y not in previous:
            return None
        path = [y]
        while path[-1] != x:
            path.append(previous[path[-1]])
        return tuple(reversed(path))

    # --- writing -------------------------------------------------------------------------

    def add(self, signal: LinkSignal) -> tuple[ClusterMembership, ...]:
        """Weigh one observation; the memberships that changed because of it."""
        cfg = self.config
        self.stats.signals += 1
        pair = (signal.author_a, signal.author_b)
        if signal.author_b in self._split.get(signal.author_a, ()):
            self.stats.refused_split += 1
            return ()
        kind_weight = self._weights[signal.kind]
        if kind_weight <= 0.0:
            self.stats.ignored_disabled += 1
            return ()
        edge = self._edges.get(pair)
        if edge is None:
            edge = self._new_edge(pair)
            if edge is None:
                self.stats.dropped_full += 1
                return ()
        was_linked = edge.linked
        # A pair inside one cluster: its evidence is part of what the members' memberships
        # cite, so more of it is sent at once, whether or not the pair was linked before (a
        # pair joined through others that now links directly changes no member, but adds an
        # edge). A linked block cites the cluster as of its event time from these (the edges'
        # steps), so what it cites is a function of the signals, not of when they arrived.
        cluster = self._cluster_of.get(signal.author_a)
        inside = cluster is not None and signal.author_b in cluster
        before = self.membership(signal.author_a, signal.event_time_ms) if inside else None
        evidence = edge.of_kind(signal.kind)
        if evidence is None:
            evidence = edge.attach(KindEvidence(signal.kind))
        evidence.observe(signal, kind_weight, cfg.max_evidence_per_kind)
        edge.steps = None
        edge.last_ms = max(edge.last_ms, signal.event_time_ms)
        edge.score = _edge_score(edge, self._rules)
        edge.linked = edge.score >= cfg.threshold
        changed: dict[str, ClusterMembership] = {}
        if edge.linked != was_linked or (edge.linked and signal.author_a in self._constrained):
            # A stronger edge can change how a component holding a split pair is divided.
            for moved in self._regroup(pair, signal.event_time_ms):
                changed[moved.author_key] = moved
        if before is not None:
            after = self.membership(signal.author_a, signal.event_time_ms)
            if (after.edges, after.score) != (before.edges, before.score):
                for member in after.members:
                    if member not in changed:
                        changed[member] = self.membership(member, signal.event_time_ms)
        return tuple(changed[m] for m in sorted(changed))

    def override(self, decision: LinkOverride) -> tuple[ClusterMembership, ...]:
        """Apply a reviewer's decision; a later decision on the same pair replaces it."""
        pair = (decision.author_a, decision.author_b)
        current = self._overrides.get(pair)
        if current is not None and current.at_ms > decision.at_ms:
            return ()  # an older decision arriving late: the newer one stands
        self._overrides[pair] = decision
        a, b = pair
        _discard(self._merged, a, b)
        _discard(self._split, a, b)
        if decision.action == "split":
            _insert(self._split, a, b)
            edge = self._edges.get(pair)
            if edge is not None:
                self._remove_edge(edge)
        else:
            _insert(self._merged, a, b)
        return self._regroup(pair, decision.at_ms)

    def expire(self, now_ms: int) -> tuple[ClusterMembership, ...]:
        """Forget edges with no evidence for ``expiry_days`` before ``now_ms`` (event time)."""
        horizon = now_ms - self.config.expiry_ms
        stale = sorted(p for p, e in self._edges.items() if e.last_ms < horizon)
        touched: list[str] = []
        for pair in stale:
            edge = self._edges[pair]
            if edge.linked:
                touched.extend(pair)
            self._remove_edge(edge)
        self.stats.expired += len(stale)
        return self._regroup(touched, now_ms) if touched else ()

    # --- snapshot ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Edges and overrides, with authors as indices into one sorted list; the clusters are
        derived, so they are rebuilt on load rather than stored."""
        authors = sorted(
            {a for p in self._edges for a in p} | {a for p in self._overrides for a in p}
        )
        index = {a: i for i, a in enumerate(authors)}
        edges = []
        for (a, b), edge in sorted(self._edges.items()):
            kinds = [
                [
                    k,
                    ev.count,
                    ev.combined,
                    ev.first_ms,
                    ev.last_ms,
                    [list(o) for o in ev.recent],
                    [list(h) for h in ev.history],
                    [ev.base_count, ev.base_nl],
                ]
                for k, ev in sorted(edge.kinds.items())
            ]
            edges.append([index[a], index[b], kinds])
        return {
            "format": SNAPSHOT_FORMAT,
            "config": self.config.to_dict(),
            "authors": authors,
            "edges": edges,
            "overrides": [
                _override_row(self._overrides[p], index) for p in sorted(self._overrides)
            ],
        }

    def to_bytes(self) -> bytes:
        return dumps(self.to_dict())

    @classmethod
    def from_dict(cls, d: dict[str, Any], config: LinkingConfig | None = None) -> IdentityGraph:
        """Rebuild a graph; ``config`` replaces the stored one (a new policy version)."""
        found = d.get("format") if isinstance(d, dict) else None
        if found != SNAPSHOT_FORMAT:
            raise ValueError(f"graph snapshot format {found!r} is not {SNAPSHOT_FORMAT}")
        graph = cls(config or LinkingConfig.from_dict(d["config"]))
        authors: list[str] = d["authors"]
        for ia, ib, kinds in d["edges"]:
            edge = Edge(authors[ia], authors[ib])
            for kind, count, combined, first_ms, last_ms, recent, *kept in kinds:
                observations = tuple(Observation(t, w, ev, tuple(src)) for t, w, ev, src in recent)
                # Snapshots written before the history was kept fold every observation.
                history = tuple((t, x) for t, x in kept[0]) if kept else ()
                base_count, base_nl = kept[1] if kept else (None, None)
                evidence = KindEvidence(
                    kind, count, combined, first_ms, last_ms, observations,
                    history, base_count, base_nl,
                )  # fmt: skip
                edge.attach(evidence)
                edge.last_ms = max(edge.last_ms, last_ms)
            graph._attach(edge)
        for row in d["overrides"]:
            ia, ib, action, reviewer, reason, at_ms = row
            decision = LinkOverride(authors[ia], authors[ib], action, reviewer, reason, at_ms)
            graph._overrides[(decision.author_a, decision.author_b)] = decision
            table = graph._split if action == "split" else graph._merged
            _insert(table, decision.author_a, decision.author_b)
        seeds = [a for e in graph._edges.values() if e.linked for a in (e.author_a, e.author_b)]
        seeds.extend(graph._merged)
        graph._regroup(seeds, 0)
        return graph

    @classmethod
    def from_bytes(cls, data: bytes, config: LinkingConfig | None = None) -> IdentityGraph:
        decoded: dict[str, Any] = loads(data)
        return cls.from_dict(decoded, config)

    # --- internals -----------------------------------------------------------------------

    def _attach(self, edge: Edge) -> None:
        edge.score = _edge_score(edge, self._rules)
        edge.linked = edge.score >= self.config.threshold
        self._edges[(edge.author_a, edge.author_b)] = edge
        self._connect(edge.author_a, edge.author_b)

    def _new_edge(self, pair: Pair) -> Edge | None:
        limit = self.config.max_edges_per_account
        victims = []
        for author in pair:
            if len(self._adjacent.get(author, ())) < limit:
                continue
            victim = self._oldest_unlinked(author)
            if victim is None:
                return None  # every edge of this account is linked: keep them
            victims.append(victim)
        for victim in victims:
            if (victim.author_a, victim.author_b) in self._edges:
                self._remove_edge(victim)
                self.stats.evicted += 1
        # Interned: every signal brings its own copy of the keys; edges keep one.
        pair = (sys.intern(pair[0]), sys.intern(pair[1]))
        edge = Edge(*pair)
        self._edges[pair] = edge
        self._connect(*pair)
        return edge

    def _connect(self, a: str, b: str) -> None:
        """Record a new edge's pair in both adjacency lists (callers add each pair once)."""
        self._adjacent.setdefault(a, []).append(b)
        self._adjacent.setdefault(b, []).append(a)

    def _oldest_unlinked(self, author: str) -> Edge | None:
        candidates = (self._edges[ordered_pair(author, o)] for o in self._adjacent[author])
        unlinked = [e for e in candidates if not e.linked]
        if not unlinked:
            return None
        return min(unlinked, key=lambda e: (e.last_ms, e.author_a, e.author_b))

    def _remove_edge(self, edge: Edge) -> None:
        a, b = edge.author_a, edge.author_b
        del self._edges[(a, b)]
        for x, y in ((a, b), (b, a)):
            others = self._adjacent[x]
            others.remove(y)
            if not others:
                del self._adjacent[x]

    def _linked_neighbours(self, author: str) -> set[str]:
        out = set(self._merged.get(author, ()))
        for other in self._adjacent.get(author, ()):
            if self._edges[ordered_pair(author, other)].linked:
                out.add(other)
        return out

    def _regroup(self, seeds: Iterable[str], event_time_ms: int) -> tuple[ClusterMembership, ...]:
        """Recompute the clusters around ``seeds``; the memberships of accounts that moved."""
        affected: set[str] = set()
        for seed in seeds:
            affected.update(self._cluster_of.get(seed, (seed,)))
            affected.add(seed)
        # Whole components: the accounts now connected to the affected ones, and the old
        # clusters of those, which may have been joined or left behind.
        components: list[list[str]] = []
        seen: set[str] = set()
        pending = sorted(affected)
        while pending:
            start = pending.pop()
            if start in seen:
                continue
            component = self._component(start)
            seen.update(component)
            components.append(component)
            for node in component:
                for old in self._cluster_of.get(node, ()):
                    if old not in seen:
                        pending.append(old)
        changed: list[str] = []
        for component in components:
            constrained = self._holds_split_pair(component)
            groups = self._divide(component) if constrained else [tuple(sorted(component))]
            for members in groups:
                for node in members:
                    if constrained:
                        self._constrained.add(node)
                    else:
                        self._constrained.discard(node)
                    if self._cluster_of.get(node, (node,)) != members:
                        changed.append(node)
                    if len(members) > 1:
                        self._cluster_of[node] = members
                    else:
                        self._cluster_of.pop(node, None)
        return tuple(self.membership(node, event_time_ms) for node in sorted(changed))

    def _component(self, start: str) -> list[str]:
        found = [start]
        seen = {start}
        queue = deque([start])
        while queue:
            for other in self._linked_neighbours(queue.popleft()):
                if other not in seen:
                    seen.add(other)
                    found.append(other)
                    queue.append(other)
        return found

    def _holds_split_pair(self, component: list[str]) -> bool:
        inside = set(component)
        return any(not self._split.get(x, set()).isdisjoint(inside) for x in component)

    def _linked_pairs(self, members: Iterable[str]) -> list[tuple[int, float, str, str]]:
        """Linked pairs among ``members``, strongest first: reviewer merges, then by score."""
        inside = set(members)
        rows = []
        for a in inside:
            for b in self._merged.get(a, ()):
                if a < b and b in inside:
                    rows.append((0, -1.0, a, b))
            for b in self._adjacent.get(a, ()):
                if a < b and b in inside and b not in self._merged.get(a, ()):
                    edge = self._edges[(a, b)]
                    if edge.linked:
                        rows.append((1, -edge.score, a, b))
        rows.sort()
        return rows

    def _divide(self, component: list[str]) -> list[tuple[str, ...]]:
        """Constrained Kruskal: join strongest pairs first, never joining a split pair."""
        parent = {node: node for node in component}
        groups: dict[str, set[str]] = {node: {node} for node in component}

        def root(node: str) -> str:
            while parent[node] != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        for _, _, a, b in self._linked_pairs(component):
            ra, rb = root(a), root(b)
            if ra == rb:
                continue
            small, large = sorted((ra, rb), key=lambda r: (len(groups[r]), r))
            if any(not self._split.get(x, set()).isdisjoint(groups[large]) for x in groups[small]):
                continue
            parent[small] = large
            groups[large] |= groups.pop(small)
        return [tuple(sorted(g)) for g in groups.values()]

    def _cluster_edges(self, members: tuple[str, ...]) -> tuple[tuple[ClusterEdge, ...], float]:
        """The cluster's linked pairs, and the weakest link of its strongest spanning tree."""
        if len(members) < 2:
            return (), 0.0
        rows = self._linked_pairs(members)
        edges = []
        parent = {m: m for m in members}

        def root(node: str) -> str:
            while parent[node] != node:
                parent[node] = parent[parent[node]]
                node = parent[node]
            return node

        weakest = 1.0
        for merged, negative, a, b in rows:
            score = 1.0 if merged == 0 else -negative
            kinds = self._contributing_kinds(a, b)
            steps: tuple[EdgeStep, ...] = ()
            if merged == 0:
                kinds.append(REVIEWER_MERGE)
                since = self._overrides[(a, b)].at_ms
            else:
                since, steps = edge_steps(self._edges[(a, b)], self._rules, self.config.threshold)
            edges.append(
                ClusterEdge(
                    a, b, round(score, 6), tuple(sorted(kinds)), since_ms=since, steps=steps
                )
            )
            ra, rb = root(a), root(b)
            if ra != rb:
                parent[ra] = rb
                weakest = min(weakest, score)
        edges.sort(key=lambda e: (e.author_a, e.author_b))
        return tuple(edges), round(weakest, 6)

    def _contributing_kinds(self, a: str, b: str) -> list[str]:
        edge = self._edges.get((a, b))
        if edge is None:
            return []
        return [k for k, ev in edge.kinds.items() if kind_score(ev, k, self.config) > 0.0]


def _insert(table: dict[str, set[str]], a: str, b: str) -> None:
    table.setdefault(a, set()).add(b)
    table.setdefault(b, set()).add(a)


def _discard(table: dict[str, set[str]], a: str, b: str) -> None:
    for x, y in ((a, b), (b, a)):
        others = table.get(x)
        if others is not None:
            others.discard(y)
            if not others:
                del table[x]


def _override_row(o: LinkOverride, index: dict[str, int]) -> list[Any]:
    return [index[o.author_a], index[o.author_b], o.action, o.reviewer, o.reason, o.at_ms]
