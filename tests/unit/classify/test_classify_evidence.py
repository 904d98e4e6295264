"""Findings point at the exact characters of the original text, whatever the disguise."""

from __future__ import annotations

import pytest

from schemas.comment import Comment
from streams.classify import Classifier


def spans(classifier: Classifier, text: str, clause: str) -> list[str]:
    """The rules' evidence for a clause. Trained models add their own (the words that drove
    the score): tests/unit/classify/test_text_models.py covers those."""
    return [
        text[f.start : f.end]
        for f in classifier.classify_text(text)
        if f.clause == clause and not f.detector.startswith("model.")
    ]


def test_separated_swear_word_span_is_the_disguised_original(classifier: Classifier) -> None:
    text = "You are a f.u.c.k.i.n.g idiot"
    assert spans(classifier, text, "abusive") == ["f.u.c.k.i.n.g", "idiot"]


@pytest.mark.parametrize(
    ("text", "evidence"),
    [
        ("what a load of sh1te", "sh1te"),
        ("FUUUUCK this place", "FUUUUCK"),
        ("ѕһіt service", "ѕһіt"),  # Cyrillic look-alikes
        ("absolute b\u200bollocks", "b\u200bollocks"),  # zero-width space inside
        ("Ｆｕｃｋ the health board", "Ｆｕｃｋ"),  # fullwidth
        ("What the f*ck is this", "f*ck"),
        ("Siân, you 🤬 twat", "twat"),
    ],
)
def test_evasions_are_found_and_shown_as_typed(
    classifier: Classifier, text: str, evidence: str
) -> None:
    assert spans(classifier, text, "abusive") == [evidence]


def test_phrase_span_covers_the_whole_phrase(classifier: Classifier) -> None:
    text = "Honestly. I KNOW where you live, nurse!!"
    assert spans(classifier, text, "intimidation") == ["I KNOW where you live"]


def test_original_surface_rules_point_at_the_url(classifier: Classifier) -> None:
    text = "Cheap scrubs at https://scrubs.example.shop/sale best prices"
    found = spans(classifier, text, "advertising")
    assert "https://scrubs.example.shop/sale" in found


def test_findings_are_sorted_deterministic_and_carry_clause_severity(
    classifier: Classifier,
) -> None:
    text = "Fuck off you paki, I know where you live"
    first = classifier.classify_text(text)
    assert first == classifier.classify_text(text)
    assert list(first) == sorted(first, key=lambda f: (f.start, f.clause, f.detector, f.end))
    by_clause = {f.clause: f for f in first}
    assert set(by_clause) == {"abusive", "hate", "intimidation"}
    assert by_clause["hate"].label == "race"
    assert by_clause["hate"].severity == "critical"
    assert all(0.0 <= f.confidence <= 1.0 for f in first)


def test_classify_reads_text_and_post_text_from_the_comment(classifier: Classifier) -> None:
    comment = Comment(
        comment_id="facebook:1",
        platform="facebook",
        author_key="k",
        author_name="",
        author_handle="",
        post_id="p",
        post_text="Flu vaccination clinics are open this week at Keir Hardie Health Park.",
        event_time_ms=0,
        text="Woke snowflakes, stop the boats",
        normalised="",
        lang="en",
        source="comments.normalised[0]@1",
    )
    assert {f.clause for f in classifier.classify(comment)} == {"trolling"}


def test_empty_and_symbol_only_comments_have_no_findings(classifier: Classifier) -> None:
    assert classifier.classify_text("") == ()
    assert classifier.classify_text("🙂🙂 !!! ...") == ()


def test_a_word_repeated_thousands_of_times_yields_a_bounded_evidence_list(
    classifier: Classifier,
) -> None:
    findings = classifier.classify_text("fuck " * 2000)
    profanity = [f for f in findings if f.detector == "lexicon.profanity"]
    assert len(profanity) == 10
    assert (profanity[0].start, profanity[-1].end) == (0, 49)
