"""A Welsh comment is answered in Welsh (or Welsh first), and reviewed in the Welsh lane."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from schemas.codec import replace
from schemas.verdict import Verdict
from streams.enforce.config import EnforcementConfig, from_dict
from streams.enforce.logic import decide, on_timer
from streams.language import LanguageReading, identify

from .enforce_builders import PROCEDURES, SEVERITIES, inflammatory, london, verdict

POLICY_FILE = Path(__file__).parents[3] / "deploy" / "policy" / "ctmuhb.yaml"
MON_10 = london(2026, 6, 8, 10)
PROCEDURES_CY = {**PROCEDURES, "welsh_review": "review"}


def policy_sections() -> tuple[dict[str, Any], dict[str, Any]]:
    doc = yaml.safe_load(POLICY_FILE.read_text())
    return doc["enforcement"], doc["monitoring_hours"]


def config(**messages_overrides: object) -> EnforcementConfig:
    enforcement, monitoring = policy_sections()
    enforcement["messages"] = {**enforcement["messages"], **messages_overrides}
    return from_dict(enforcement, monitoring, PROCEDURES_CY, SEVERITIES)


CFG = config()


def in_language(v: Verdict, language: str, languages: tuple[str, ...]) -> Verdict:
    return replace(v, language=language, languages=languages)


def action(out: Any, kind: str) -> Any:
    (found,) = [a for a in out.actions if a.kind == kind]
    return found


def test_a_welsh_emergency_gets_the_welsh_signpost_first_then_the_english() -> None:
    out = decide(None, in_language(verdict(MON_10, "emergency"), "cy", ("cy",)), CFG)
    signpost = action(out, "emergency_signpost")
    welsh, english = signpost.message.split("\n\n")
    assert welsh.startswith("Os ydych chi") and "999" in welsh and "GIG 111 Cymru" in welsh
    assert english.startswith("If you or someone") and "999" in english
    assert signpost.language == "cy+en"
    assert action(out, "queue_human_review").lane == "welsh"


def test_welsh_only_replies_when_the_board_chooses_them() -> None:
    cfg = config(welsh_replies="cy")
    out = decide(None, in_language(verdict(MON_10, "personal_care"), "cy", ("cy",)), cfg)
    redirect = action(out, "redirect_personal_care")
    assert redirect.language == "cy" and "\n" not in redirect.message
    assert "Tîm Profiad y Claf" in redirect.message
    # A comment mixing both languages is answered in both, whatever the setting.
    mixed = decide(None, in_language(verdict(MON_10, "personal_care"), "cy", ("cy", "en")), cfg)
    assert action(mixed, "redirect_personal_care").language == "cy+en"


@pytest.mark.parametrize("language", ["en", "und"])
def test_english_and_undetermined_comments_get_english(language: str) -> None:
    languages = ("en",) if language == "en" else ("cy", "en")
    out = decide(None, in_language(verdict(MON_10, "emergency"), language, languages), CFG)
    signpost = action(out, "emergency_signpost")
    assert signpost.language == "en" and signpost.message.startswith("If you or someone")
    assert action(out, "queue_human_review").lane == ""


def test_the_ladder_keeps_talking_welsh_after_the_comment() -> None:
    asked = decide(
        None, in_language(verdict(MON_10, "abusive"), "cy", ("cy",)), config(welsh_replies="cy")
    )
    reply = action(asked, "reply_ask_removal")
    assert "iaith sarhaus neu fygythiol" in reply.message
    assert "erbyn 10:00 ddydd Iau 11 Mehefin 2026" in reply.message  # 3 working days on
    notice = on_timer(asked.state, london(2026, 7, 1), config(welsh_replies="cy"))
    (noticed,) = [a for a in notice.actions if a.kind == "notice_of_block"]
    assert noticed.language == "cy" and noticed.message.startswith("Gofynnon ni")


def test_a_welsh_risk_cue_goes_to_the_welsh_speaking_lane() -> None:
    out = decide(None, in_language(verdict(MON_10, "welsh_review"), "cy", ("cy",)), CFG)
    review = action(out, "queue_human_review")
    assert review.lane == "welsh" and review.reasons == ("welsh_review",)
    assert [a.kind for a in out.actions] == ["queue_human_review"]


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"personal_care": {"en": "Call {contact}."}}, "in English and Welsh"),
        ({"ask_removal": {"en": "{reasons} {deadline}", "cy": "{reasons}"}}, "must say {deadline}"),
        ({"block_linked": {"en": "x", "cy": "y {name}"}}, "placeholder 'name' is unknown"),
        ({"clause_titles_cy": {"abusive": "iaith sarhaus"}}, "no Welsh title for"),
        ({"welsh_replies": "en"}, "welsh_replies"),
    ],
)
def test_the_messages_section_is_checked(override: dict[str, object], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        config(**override)


def test_without_welsh_texts_everyone_is_answered_in_english() -> None:
    from .enforce_builders import CFG as ENGLISH_ONLY_CFG

    out = decide(None, in_language(verdict(MON_10, "emergency"), "cy", ("cy",)), ENGLISH_ONLY_CFG)
    signpost = action(out, "emergency_signpost")
    assert signpost.language == "en" and signpost.message.startswith("If you or someone")
    assert action(out, "queue_human_review").lane == "welsh"  # still read by a Welsh speaker


def test_welsh_titles_join_with_a_or_ac_and_the_aspirate_mutation() -> None:
    from streams.enforce.messages import titles_cy

    welsh = {"a": "iaith sarhaus", "b": "trosedd casineb", "c": "enwi aelod o staff", "d": "bygwth"}
    assert titles_cy(["a", "b"], welsh) == "iaith sarhaus a throsedd casineb"
    assert titles_cy(["d", "a", "c"], welsh) == "bygwth, iaith sarhaus ac enwi aelod o staff"
    assert titles_cy(["a", "d"], welsh) == "iaith sarhaus a bygwth"


def written(v: Verdict, text: str) -> Verdict:
    """The verdict on a comment of this text, its language not identified (as classification
    leaves it when no Welsh-only detector hit)."""
    return replace(v, comment=replace(v.comment, text=text), language=None, languages=())


WELSH_TEXT = "Mae poen ofnadwy yn ei frest ac mae e'n chwysu, dwi ddim yn gwybod beth i wneud"


def test_the_language_is_identified_where_the_reply_is_written() -> None:
    out = decide(None, written(verdict(MON_10, "emergency"), WELSH_TEXT), CFG, language_of=identify)
    assert action(out, "emergency_signpost").language == "cy+en"
    assert action(out, "queue_human_review").lane == "welsh"
    english = "My dad has crushing chest pain and he is sweating, I do not know what to do"
    out = decide(None, written(verdict(MON_10, "emergency"), english), CFG, language_of=identify)
    assert action(out, "emergency_signpost").language == "en"
    # Behaviour alone (no finding on the comment itself) is answered in its language too.
    inflammatory_only = verdict(MON_10, behaviour=(inflammatory(MON_10, "facebook:c0"),))
    blocked = decide(None, written(inflammatory_only, WELSH_TEXT), CFG, language_of=identify)
    assert action(blocked, "block_account").language == "cy+en"


def test_a_verdict_that_calls_for_nothing_is_not_identified() -> None:
    seen: list[str] = []

    def counted(text: str) -> LanguageReading:
        seen.append(text)
        return identify(text)

    out = decide(None, written(verdict(MON_10), WELSH_TEXT), CFG, language_of=counted)
    assert out.actions == () and seen == []
    decide(None, written(verdict(MON_10, "personal_care"), WELSH_TEXT), CFG, language_of=counted)
    assert seen == [WELSH_TEXT]
    # Without an identifier (a caller that has none) the comment is answered in English.
    care = decide(None, written(verdict(MON_10, "personal_care"), WELSH_TEXT), CFG)
    assert action(care, "redirect_personal_care").language == "en"
