"""Language identification runs only when it can change a finding (issue 16, item 7).

``classify_batch``, ``classify_one`` and ``classify`` identify a comment's language only when a
language-restricted detector has a hit at its threshold; their findings must equal reading the
comment under ``identify(text).languages`` first, as ``verdict`` does.
"""

from __future__ import annotations

import pytest

from streams.classify import Classifier
from streams.classify import classifier as classifier_module
from streams.classify.evaluation import Case, as_comment
from streams.language import LanguageReading, identify
from streams.policy import parse_policy
from tests.unit.classify.test_language import POLICY

TEXTS = [
    "you twpsyn, you are an idiot and everyone on this page knows it",  # cy rule, English text
    "Rwyt ti'n twpsyn llwyr, cau dy geg",  # cy rule, Welsh text
    "mi wna i ladd y gath",  # the Welsh fallback cue alone
    "twpsyn, mi wna i ladd y gath",
    "the nurses on ward 7 were brilliant with my mum",  # nothing restricted hits
    "idiot",
    "",
    "Diolch yn fawr iawn i bawb ar ward 7. You twpsyn of a porter though",
]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []

    def counted(text: str) -> LanguageReading:
        seen.append(text)
        return identify(text)

    monkeypatch.setattr(classifier_module, "identify", counted)
    return seen


def test_lazy_findings_equal_findings_under_the_identified_languages() -> None:
    classifier = Classifier(parse_policy(POLICY))
    eager = [classifier.classify_text(t, languages=identify(t).languages) for t in TEXTS]
    assert classifier.classify_batch(TEXTS) == eager
    assert [classifier.classify_one(t) for t in TEXTS] == eager
    comments = [as_comment(Case(t, frozenset(), "clean"), i) for i, t in enumerate(TEXTS)]
    assert [classifier.classify(c) for c in comments] == eager
    # The English comment's Welsh-only rule is dropped, as identification says it must be.
    assert {f.detector for f in eager[0]} == {"pattern.en"}
    assert {f.detector for f in eager[1]} == {"pattern.cy"}


def test_language_is_identified_only_where_a_restricted_detector_hit(calls: list[str]) -> None:
    classifier = Classifier(parse_policy(POLICY))
    classifier.classify_batch(TEXTS)
    restricted_hits = [t for t in TEXTS if "twpsyn" in t or "ladd" in t]
    assert calls == restricted_hits
    calls.clear()
    for text in ("the nurses on ward 7 were brilliant with my mum", "idiot", ""):
        classifier.classify_one(text)
    assert calls == []
    classifier.classify_one("twpsyn")
    assert calls == ["twpsyn"]  # once per comment, however many restricted detectors hit
