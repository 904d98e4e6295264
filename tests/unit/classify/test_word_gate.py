"""The word gate may only skip rules that cannot match: every rule's hits are as without it."""

from __future__ import annotations

import re

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams.classify import Classifier
from streams.classify.document import Document
from streams.classify.matchers import PatternDetector
from streams.classify.word_gate import WordGate, WordSets, fold, word_sets
from tests.unit.classify.conftest import ROOT

LABELLED = ROOT / "tests" / "data" / "labelled"


def corpus() -> list[str]:
    texts = []
    for name in ("dev.jsonl", "holdout.jsonl", "holdout2.jsonl"):
        for line in (LABELLED / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(orjson.loads(line)["text"])
    return texts


def pattern_detectors(classifier: Classifier) -> list[PatternDetector]:
    return [d for d in classifier._built.values() if isinstance(d, PatternDetector)]


def ungated(detector: PatternDetector, doc: Document) -> list[object]:
    gate, detector.words = detector.words, WordGate(())
    try:
        return list(detector.detect(doc))
    finally:
        detector.words = gate


def test_every_labelled_comment_gets_the_same_hits_with_and_without_the_gate(
    classifier: Classifier,
) -> None:
    detectors = pattern_detectors(classifier)
    assert sum(d.words.useful for d in detectors) > len(detectors) // 2
    compared = matched = 0
    for text in corpus():
        for detector in detectors:
            gated = list(detector.detect(Document.build(text)))
            assert gated == ungated(detector, Document.build(text)), (detector.rules[0][0], text)
            compared += 1
            matched += bool(gated)
    assert matched > 100  # the corpus exercises the rules, not just their absence


def test_rules_that_begin_with_known_words_are_read() -> None:
    (place,) = word_sets(r"\b(lets|let us) go\b", re.IGNORECASE)[:1]
    assert place.whole == {"go"} or place.whole == {"lets", "let"}
    sets = word_sets(r"\b(my|a) (\w+ ){0,2}(?:foster (carer|mum)|childminder)\b", re.I)
    assert any(h.whole == {"foster", "childminder"} for h in sets)
    assert word_sets(r"bookings?", re.I) == ()  # no \b: could start mid-word
    assert word_sets(r"bookings? open", re.I)[0].prefixes == {"open"}  # after a space: a word
    assert word_sets(r"(?:^|[.!?]\s*)block", re.I) == ()
    (place,) = word_sets(r"\bbookings? open", re.I)[:1]
    assert "booking" in place.prefixes or "open" in place.whole


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"\bsick\b", "ſick"),  # long s matches s under IGNORECASE
        (r"\bkind\b", "\u212aind"),  # Kelvin sign matches k
        (r"\bill\b", "\u0130ll"),  # dotted capital I
        (r"\bfoo", "FOObar"),
    ],
)
def test_folding_agrees_with_the_regex_engine(pattern: str, text: str) -> None:
    regex = re.compile(pattern, re.IGNORECASE)
    gate = WordGate((("r", regex),))
    allowed = gate.candidates(WordSets(text, ignore_case=True))
    assert (regex.search(text) is not None) <= bool(allowed)


def test_case_sensitive_rules_are_not_folded() -> None:
    regex = re.compile(r"\bDr [A-Z]\w+")
    gate = WordGate((("titled", regex),))
    assert gate.candidates(WordSets("Dr Jones", ignore_case=False))
    assert not gate.candidates(WordSets("dr jones", ignore_case=False))


WORDS = ["my", "our", "foster", "carer", "chest", "pain", "let", "us", "block", "i", "x"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([*WORDS, "İ", "ſ", "\u212a", "-", "'", " "]), max_size=12),
    st.sampled_from(
        [
            r"\b(my|our) (\w+ )?foster (carer|mum)\b",
            r"\b(crushing )?chest pains?\b|\bclutching (his|her) chest",
            r"\b(lets|let us) block\b",
            r"\bi\b",
            r"\bx+\b",
        ]
    ),
)
def test_a_rule_that_matches_is_always_a_candidate(parts: list[str], pattern: str) -> None:
    text = " ".join(parts)
    regex = re.compile(pattern, re.IGNORECASE)
    gate = WordGate((("r", regex),))
    if regex.search(text):
        assert gate.candidates(WordSets(text, ignore_case=True))
        assert gate.candidates(WordSets(fold(text), ignore_case=True))
