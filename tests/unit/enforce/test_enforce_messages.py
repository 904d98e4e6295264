"""Reply texts: plain titles, local deadlines, no personal data."""

from __future__ import annotations

import pytest

from streams.enforce import messages

from .enforce_builders import LONDON, PROCEDURES, london, utc


@pytest.mark.parametrize(
    ("ts", "expected"),
    [
        (london(2026, 6, 10, 16), "4pm on Wednesday 10 June 2026"),
        (london(2026, 6, 10, 9, 30), "9:30am on Wednesday 10 June 2026"),
        (london(2026, 6, 10, 12), "12pm on Wednesday 10 June 2026"),
        (utc(2026, 3, 30, 16), "5pm on Monday 30 March 2026"),  # BST: UTC+1
        (utc(2026, 12, 29, 16), "4pm on Tuesday 29 December 2026"),  # GMT
    ],
)
def test_local_deadline(ts: int, expected: str) -> None:
    assert messages.local_deadline(ts, LONDON) == expected


def test_titles_join_in_plain_english() -> None:
    assert messages.titles(["obscene"]) == "obscene, profane or sexually explicit content"
    assert messages.titles(["advertising", "trolling", "spamming"]) == (
        "promoting individual products or services, controversial, irrelevant or off-topic "
        "content (trolling) and posting the same message many times (spamming)"
    )
    assert messages.titles(["abusive"], {"abusive": "Abusive"}) == "Abusive"
    assert messages.titles(["brand_new"]) == "brand new"


def test_every_violation_clause_has_a_plain_title() -> None:
    routes = {"personal_care", "emergency", "safeguarding"}
    assert set(PROCEDURES) - routes <= set(messages.CLAUSE_TITLES)


def test_texts_keep_the_guidance_promises() -> None:
    texts = messages.Texts()

    def english(kind: str, **values: object) -> str:
        said = messages.say(texts, kind, "en", **values)  # type: ignore[arg-type]
        assert said.language == "en"
        return said.text

    ask = english(
        "ask_removal", reasons=["abusive"], deadline_ms=london(2026, 6, 10, 16), zone=LONDON
    )
    assert "Please remove it by 4pm on Wednesday 10 June 2026" in ask
    assert "let you know before" in ask
    assert "999" in english("emergency_signpost") and "111" in english("emergency_signpost")
    care = english("personal_care", contact="the patient experience team")
    assert "confidentiality" in care and "the patient experience team" in care
    assert "same user" in english("block_linked")
