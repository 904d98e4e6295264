"""Which language a comment is in; mixed comments are read in both; the verdict carries the
language where classifying it needed it."""

from __future__ import annotations

import pytest

from schemas.verdict import Verdict
from streams.classify import Classifier
from streams.classify.evaluation import Case, as_comment
from streams.language import identify
from streams.policy import PolicyError, parse_policy


@pytest.mark.parametrize(
    ("text", "language", "languages"),
    [
        ("Mae poen ofnadwy yn ei frest ac mae e'n chwysu", "cy", ("cy",)),
        ("My dad has crushing chest pain and he is sweating", "en", ("en",)),
        ("Diolch", "cy", ("cy",)),
        ("ok", "und", ("cy", "en")),
        ("👍👍", "und", ("cy", "en")),
        (
            "Diolch yn fawr iawn i bawb ar ward 7. The nurses were brilliant with my mum",
            "cy",
            ("cy", "en"),
        ),
    ],
)
def test_language_of_a_comment(text: str, language: str, languages: tuple[str, ...]) -> None:
    reading = identify(text)
    assert (reading.language, reading.languages) == (language, languages)


POLICY = b"""
name: t
clauses:
  - id: abusive
    title: Abusive
    kind: violation
    severity: medium
    procedure: warn_then_block
    detectors:
      - id: pattern.en
        type: pattern
        threshold: 0.5
        params: {rules: {idiot: '\\bidiot\\b'}}
      - id: pattern.cy
        type: pattern
        threshold: 0.5
        languages: [cy]
        params: {rules: {twpsyn: '\\btwpsyn\\b'}}
  - id: welsh_review
    title: Welsh risk cue
    kind: route
    severity: low
    procedure: review
    fallback: true
    detectors:
      - id: lexicon.cue
        type: pattern
        threshold: 0.5
        languages: [cy]
        params: {rules: {cue: '\\b(ladd|lladd)\\b'}}
"""


def test_welsh_detectors_read_welsh_and_mixed_comments_only() -> None:
    classifier = Classifier(parse_policy(POLICY))
    english = "you twpsyn, you are an idiot and everyone on this page knows it"
    assert {f.detector for f in classifier.classify_text(english, languages=("en",))} == {
        "pattern.en"
    }
    both = classifier.classify_text(english, languages=("cy", "en"))
    assert {f.detector for f in both} == {"pattern.en", "pattern.cy"}
    # () is "not identified": every detector runs.
    assert len(classifier.classify_text(english)) == 2


def test_a_fallback_clause_counts_only_when_nothing_else_is_found() -> None:
    classifier = Classifier(parse_policy(POLICY))
    cue_only = classifier.classify_text("mi wna i ladd y gath", languages=("cy",))
    assert [f.clause for f in cue_only] == ["welsh_review"]
    with_abuse = classifier.classify_text("twpsyn, mi wna i ladd y gath", languages=("cy",))
    assert [f.clause for f in with_abuse] == ["abusive"]


def test_the_verdict_carries_the_language_when_classifying_needed_it() -> None:
    classifier = Classifier(parse_policy(POLICY))
    welsh_rule_hit = classifier.verdict(
        as_comment(Case("Rwyt ti'n twpsyn llwyr, cau dy geg", frozenset(), "clean"), 0), "v1"
    )
    assert [f.detector for f in welsh_rule_hit.findings] == ["pattern.cy"]
    assert welsh_rule_hit.language == "cy" and welsh_rule_hit.languages == ("cy",)
    assert Verdict.from_bytes(welsh_rule_hit.to_bytes()) == welsh_rule_hit
    # No Welsh-only detector hit: the language is left to enforcement (None), even for a
    # flagged Welsh comment; its findings are those under the identified languages.
    for text in ("Rwyt ti'n dwpsyn llwyr, cau dy geg", "Rwyt ti'n idiot llwyr, cau dy geg"):
        verdict = classifier.verdict(as_comment(Case(text, frozenset(), "clean"), 0), "v1")
        assert verdict.findings == classifier.classify_text(text, "", identify(text).languages)
        assert (verdict.language, verdict.languages) == (None, ())
        assert Verdict.from_bytes(verdict.to_bytes()) == verdict


def test_detector_languages_are_checked() -> None:
    bad = POLICY.replace(b"languages: [cy]", b"languages: [fr]", 1)
    with pytest.raises(PolicyError, match="language 'fr' is unknown"):
        parse_policy(bad)


def test_language_accuracy_counts_comments_of_five_words_or_more() -> None:
    from streams.classify.language_eval import language_accuracy

    cases = [
        Case("Mae'r nyrsys ar ward 4 yn hollol wych", frozenset(), "clean", language="cy"),
        Case("The nurses on ward 4 are brilliant", frozenset(), "clean", language="en"),
        Case(
            "Diolch yn fawr iawn i bawb. The nurses were brilliant",
            frozenset(),
            "clean",
            language="mixed",
        ),
        Case("The nurses on ward 4 are brilliant", frozenset(), "clean", language="cy"),  # wrong
        Case("Diolch", frozenset(), "clean", language="cy"),  # too short to count
    ]
    score = language_accuracy(cases)
    assert (score.correct, score.cases, score.short) == (3, 4, 1)
    assert score.by_label == {"cy": [1, 2], "en": [1, 1], "mixed": [1, 1]}
    assert [case.text for case, _ in score.wrong] == ["The nurses on ward 4 are brilliant"]
