"""A model detector skips the evidence of scores that could count nowhere: under the lowest
threshold of the specs it serves (all_of takes the weakest member's confidence, any_of keeps
each member's), but never under a veto, where a hit counts at any score."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streams.classify.composite import CompositeDetector
from streams.classify.detectors import BuildContext, Detector, Params
from streams.classify.document import Document
from streams.classify.models.detector import ModelDetector

TEXT = "Honestly you are a complete fucking moron"


def _context() -> tuple[BuildContext, list[ModelDetector]]:
    built: list[ModelDetector] = []

    def build(dtype: str, params: Mapping[str, Any], where: str) -> Detector:
        assert dtype == "model"
        detector = ModelDetector(Params(params, where), ctx)
        built.append(detector)
        return detector

    def no_lexicon(name: str, params: Params) -> Any:
        raise AssertionError("no word lists here")

    ctx = BuildContext(lexicon=no_lexicon, build=build, names=None)
    return ctx, built


def _composite(ctx: BuildContext, **members: Any) -> CompositeDetector:
    return CompositeDetector(Params(members, "test"), ctx)


def test_a_member_skips_scores_under_the_threshold_and_a_veto_does_not() -> None:
    ctx, built = _context()
    composite = _composite(
        ctx,
        all_of=[{"type": "model", "params": {"model": "offensive"}}],
        none_of=[{"type": "model", "params": {"model": "offensive"}}],
    )
    member = built[0]
    score = member.models.scores_of([member._features(Document.build(TEXT))])[0][member.column]
    assert 0.3 < score < 1.0
    above, below = score - 0.01, score + 0.01

    composite.serve(above)
    assert member.hits(Document.build(TEXT))  # can count: the evidence is worked out
    composite.serve(below)  # a second spec with a higher threshold: the lower one stands
    assert member.hits(Document.build(TEXT))

    fresh_ctx, fresh = _context()
    _composite(
        fresh_ctx,
        all_of=[{"type": "model", "params": {"model": "offensive"}}],
        none_of=[{"type": "model", "params": {"model": "offensive"}}],
    ).serve(below)
    fresh_member, fresh_veto = fresh
    assert fresh_member.hits(Document.build(TEXT)) == []  # could count nowhere: skipped
    assert fresh_veto.hits(Document.build(TEXT))  # a veto counts at any score
