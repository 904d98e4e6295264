"""The evidence trail for a pair of accounts, for the reviewer who must defend or undo a link.

Names every kind of evidence, including the ones with none, so a reviewer sees what was not
found as well as what was: each observation kept with its weight and time, what each kind
contributes after its cap and repeat rule, and how the combined score compares with the
threshold. When the pair is in one cluster without being linked directly, the chain of links
that joins them is shown too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from schemas.identity import LINK_KINDS, LinkOverride, ordered_pair
from streams.linking.graph import (
    MEASURED_KINDS,
    IdentityGraph,
    Observation,
    cluster_id,
    kind_score,
)


@dataclass(frozen=True, slots=True)
class KindTrail:
    kind: str
    kind_weight: float  # from the policy: how much one observation of this kind counts
    cap: float  # the most this kind can contribute
    min_count: int  # observations needed before it counts at all
    count: int  # observations so far
    accumulated: float  # noisy-OR of every observation, before the cap
    contributes: float  # what goes into the combined score
    first_ms: int | None
    last_ms: int | None
    observations: tuple[Observation, ...]  # the newest few, oldest first


@dataclass(frozen=True, slots=True)
class PairExplanation:
    author_a: str
    author_b: str
    kinds: tuple[KindTrail, ...]  # one per kind in LINK_KINDS, in that order
    combined: float
    threshold: float
    linked: bool  # linked directly (score over threshold, or merged by a reviewer)
    override: LinkOverride | None
    cluster_id: str | None  # when both are in one cluster
    path: tuple[str, ...] | None  # the chain of linked pairs joining them, when in one cluster


def explain_pair(graph: IdentityGraph, x: str, y: str) -> PairExplanation:
    a, b = ordered_pair(x, y)
    cfg = graph.config
    edge = graph.edge(a, b)
    trails = []
    for kind in LINK_KINDS:
        evidence = edge.kinds.get(kind) if edge is not None else None
        trails.append(
            KindTrail(
                kind=kind,
                kind_weight=cfg.weights[kind],
                cap=cfg.caps[kind],
                min_count=cfg.min_count(kind),
                count=evidence.count if evidence else 0,
                accumulated=evidence.combined if evidence else 0.0,
                contributes=kind_score(evidence, kind, cfg),
                first_ms=evidence.first_ms if evidence else None,
                last_ms=evidence.last_ms if evidence else None,
                observations=tuple(sorted(evidence.recent)) if evidence else (),
            )
        )
    decision = graph.override_for(a, b)
    merged = decision is not None and decision.action == "merge"
    members = graph.members(a)
    together = b in members
    return PairExplanation(
        author_a=a,
        author_b=b,
        kinds=tuple(trails),
        combined=edge.score if edge is not None else 0.0,
        threshold=cfg.threshold,
        linked=merged or (edge is not None and edge.linked),
        override=decision,
        cluster_id=cluster_id(members) if together else None,
        path=graph.linked_path(a, b) if together else None,
    )


def render(e: PairExplanation) -> str:
    lines = [f"Accounts {e.author_a} and {e.author_b}", _verdict(e), ""]
    lines.append("Evidence by kind (each observation counts signal weight × kind weight;")
    lines.append("observations of one kind combine by noisy-OR, up to the kind's cap;")
    lines.append("a new writing-style measurement replaces the one before):")
    for t in e.kinds:
        lines.extend(_kind_lines(t))
    contributing = [t for t in e.kinds if t.contributes > 0.0]
    if contributing:
        factors = " × ".join(f"(1 − {t.contributes:.3f})" for t in contributing)
        lines.append(f"Combined score: 1 − {factors} = {e.combined:.3f}")
    else:
        lines.append("Combined score: 0.000 (no kind contributes)")
    lines.append(f"Threshold: {e.threshold:.3f}")
    if e.override is not None:
        o = e.override
        lines.append(
            f"Reviewer decision: {o.action} by {o.reviewer} at {_when(o.at_ms)}: {o.reason}"
        )
    if e.cluster_id is not None and e.path is not None:
        lines.append(f"Cluster: {e.cluster_id}; joined through {' → '.join(e.path)}")
    else:
        lines.append("Cluster: not in the same cluster")
    return "\n".join(lines) + "\n"


def _verdict(e: PairExplanation) -> str:
    if e.override is not None and e.override.action == "split":
        return "Verdict: NOT LINKED: a reviewer split this pair; it never links again"
    if e.override is not None and e.override.action == "merge":
        return "Verdict: LINKED: a reviewer merged this pair"
    relation = "≥" if e.linked else "<"
    state = "LINKED" if e.linked else "NOT LINKED"
    return (
        f"Verdict: {state}: combined score {e.combined:.3f} {relation} threshold {e.threshold:.3f}"
    )


def _kind_lines(t: KindTrail) -> list[str]:
    head = f"- {t.kind} (kind weight {t.kind_weight:.2f}, cap {t.cap:.2f}"
    head += f", needs {t.min_count} observations)" if t.min_count > 1 else ")"
    if t.count == 0:
        return [f"{head}: no evidence"]
    span = (
        f"{_when(t.first_ms)} to {_when(t.last_ms)}"
        if t.first_ms != t.last_ms
        else _when(t.first_ms)
    )
    plural = "observation" if t.count == 1 else "observations"
    lines = [f"{head}: {t.count} {plural}, {span}"]
    if t.count < t.min_count:
        lines.append(
            f"    accumulated {t.accumulated:.3f}; "
            f"contributes 0.000 until {t.min_count} observations"
        )
    else:
        capped = " (capped)" if t.accumulated > t.cap else ""
        # A measurement (writing style) is replaced by the newest one, not accumulated.
        measure = "newest measurement" if t.kind in MEASURED_KINDS else "accumulated"
        lines.append(f"    {measure} {t.accumulated:.3f}; contributes {t.contributes:.3f}{capped}")
    if len(t.observations) < t.count:
        lines.append(f"    the newest {len(t.observations)} of {t.count}:")
    for o in t.observations:
        sources = f" [{', '.join(o.source_ids)}]" if o.source_ids else ""
        lines.append(
            f"    {_when(o.event_time_ms)}  weight {o.weight:.2f} × {t.kind_weight:.2f}"
            f" = {o.weight * t.kind_weight:.3f}  {o.evidence}{sources}"
        )
    return lines


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")
