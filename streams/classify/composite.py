"""Clauses that need two signals at once, e.g. intimidation = a threat + someone it targets."""

from __future__ import annotations

from collections.abc import Sequence

from streams.classify.detectors import BuildContext, Detector, Params
from streams.classify.document import Document, Hit


class CompositeDetector(Detector):
    """``all_of``: every member must hit; the first member is the evidence span, the others must
    lie within ``within_tokens`` words of it (anywhere in the comment when unset). The hit's
    confidence is the weakest member's. ``any_of``: the union of the members' hits.

    ``none_of`` (with either): vetoes. A hit is dropped when any veto member hits within
    ``within_tokens`` of it (anywhere when unset): "a model score counts unless the comment
    argues against what it quotes", for example.
    """

    def __init__(self, params: Params, ctx: BuildContext) -> None:
        self.mode = "all_of" if "all_of" in params.raw else "any_of"
        members = params.required(self.mode)
        self.members = tuple(
            ctx.build(
                str(m.get("type")),
                m.get("params") or {},
                f"{params.where} {self.mode}[{i}]",
            )
            for i, m in enumerate(members)
        )
        self.vetoes = tuple(
            ctx.build(
                str(m.get("type")),
                m.get("params") or {},
                f"{params.where} none_of[{i}]",
            )
            for i, m in enumerate(params.get("none_of") or ())
        )
        self.within = params.integer("within_tokens", None)
        self.label = params.get("label", "")
        if not isinstance(self.label, str):
            raise params.error("params.label must be a string")

    def serve(self, threshold: float) -> None:
        # all_of takes the weakest member's confidence and any_of keeps each member's, so a
        # member's hit under the threshold can never count; a veto's hit counts at any score.
        for member in self.members:
            member.serve(threshold)
        for veto in self.vetoes:
            veto.serve(0.0)

    def may_hit(self, doc: Document) -> bool:
        if self.mode == "any_of":
            return any(member.may_hit(doc) for member in self.members)
        return all(member.may_hit(doc) for member in self.members)

    def probe_ids(self) -> frozenset[int]:
        return frozenset().union(*(m.probe_ids() for m in self.members))

    def detect_batch(self, docs: Sequence[Document]) -> list[list[Hit]]:
        # Members see the batch first, so a member that vectorises (a model) does so; an
        # all_of member only sees the documents on which every member before it hit.
        if self.mode == "any_of":
            for member in self.members:
                member.hits_batch([d for d in docs if member.may_hit(d)])
        else:
            # Only documents every member may hit (the prefilter's cheap answer) are worth
            # running any member on; then each member runs where all before it hit.
            live = [d for d in docs if self.may_hit(d)]
            for member in self.members:
                live = [d for d, hits in zip(live, member.hits_batch(live), strict=True) if hits]
        return [self.detect(doc) for doc in docs]

    def detect(self, doc: Document) -> list[Hit]:
        found = self._combined(doc)
        if not self.vetoes or not found:
            return found
        vetoes = [v for member in self.vetoes for v in member.hits(doc)]
        return [h for h in found if not any(self._near(h, v) for v in vetoes)]

    def _combined(self, doc: Document) -> list[Hit]:
        if self.mode == "any_of":
            return [self._relabel(h) for m in self.members if m.may_hit(doc) for h in m.hits(doc)]
        primary, *others = self.members
        found: list[Hit] = []
        if not self.may_hit(doc):
            return found
        for hit in primary.hits(doc):
            confidence = hit.confidence
            for member in others:
                near = [h.confidence for h in member.hits(doc) if self._near(hit, h)]
                if not near:
                    break
                confidence = min(confidence, max(near))
            else:
                found.append(self._relabel(hit, confidence))
        return found

    def _near(self, a: Hit, b: Hit) -> bool:
        return self.within is None or a.token_gap(b) <= self.within

    def _relabel(self, hit: Hit, confidence: float | None = None) -> Hit:
        return Hit(
            hit.start,
            hit.end,
            hit.first_token,
            hit.last_token,
            hit.confidence if confidence is None else confidence,
            self.label or hit.label,
        )
