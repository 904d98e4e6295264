"""The batch path a trained model will use: ``detect_batch`` sees a whole batch once.

A detector that vectorises overrides ``Detector.detect_batch``; ``Classifier.classify_batch``
calls it once per batch (through composites too), and its findings equal one at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
import yaml

from streams.classify import classifier as classifier_module
from streams.classify.classifier import Classifier
from streams.classify.detectors import BuildContext, Detector, Params
from streams.classify.document import Document, Hit
from streams.policy import parse_policy


class WordModel(Detector):
    """Stands in for a model: hits the word "bad", and counts how it was called."""

    batches: list[int] = []  # noqa: RUF012 (one list shared by the instances of a test)
    singles = 0

    def __init__(self, params: Params, ctx: BuildContext) -> None:
        params.check_all_used()

    def detect(self, doc: Document) -> list[Hit]:
        WordModel.singles += 1
        words = doc.token_words()
        return [doc.hit_for_tokens(i, i, 0.9, "bad") for i, w in enumerate(words) if w == "bad"]

    def detect_batch(self, docs: Sequence[Document]) -> list[list[Hit]]:
        WordModel.batches.append(len(docs))
        singles = WordModel.singles
        found = [self.detect(doc) for doc in docs]
        WordModel.singles = singles  # a real model scores the batch at once
        return found


def policy_with(detector: dict[str, Any]) -> Any:
    clause = {
        "id": "abusive",
        "title": "t",
        "kind": "violation",
        "severity": "medium",
        "procedure": "warn_then_block",
        "detectors": [{"id": "d", "threshold": 0.5, **detector}],
    }
    return parse_policy(yaml.safe_dump({"name": "t", "clauses": [clause]}).encode())


TEXTS = ["a bad day", "a good day", "bad bad bad", "", "fine, not bad at all"]


@pytest.fixture
def model_type(monkeypatch: pytest.MonkeyPatch) -> str:
    # Borrow a published type name for the stand-in; the lead adds the real ``model`` type.
    monkeypatch.setitem(classifier_module.FACTORIES, "topic_relevance", WordModel)
    WordModel.batches, WordModel.singles = [], 0
    return "topic_relevance"


def test_a_vectorising_detector_sees_each_batch_once(model_type: str) -> None:
    classifier = Classifier(policy_with({"type": model_type, "params": {}}))
    batched = classifier.classify_batch(TEXTS)
    assert WordModel.batches == [len(TEXTS)] and WordModel.singles == 0
    assert batched == [classifier.classify_text(t) for t in TEXTS]
    assert [len(f) for f in batched] == [1, 0, 3, 0, 1]


DAY = {"type": "pattern", "params": {"rules": {"day": r"\bday\b"}}}


def test_an_all_of_hands_its_model_only_the_comments_its_rules_may_match(model_type: str) -> None:
    both = {"type": "composite", "params": {"all_of": [{"type": model_type}, DAY]}}
    classifier = Classifier(policy_with(both))
    batched = classifier.classify_batch(TEXTS)
    # The scan says "day" can only be in the first two texts: the model scores those, once.
    assert WordModel.batches == [2] and WordModel.singles == 0
    assert [len(f) for f in batched] == [1, 0, 0, 0, 0]
    assert batched == [classifier.classify_text(t) for t in TEXTS]


def test_an_any_of_hands_its_model_the_whole_batch(model_type: str) -> None:
    either = {"type": "composite", "params": {"any_of": [{"type": model_type}, DAY]}}
    classifier = Classifier(policy_with(either))
    batched = classifier.classify_batch(TEXTS)
    assert WordModel.batches == [len(TEXTS)] and WordModel.singles == 0
    assert [len(f) for f in batched] == [2, 1, 3, 0, 1]
