"""What we say to authors (and the notes we leave for reviewers), in plain words.

The wording follows the acceptable-use guidance itself, so an author can match each message to
the promise it keeps. Texts are functions of their arguments only: replay reproduces them.
Messages never repeat the comment's text or anyone's name.

Every message the executor can send to an author exists in English and Welsh (the policy file
carries both, see ``say``); notes for reviewers are for staff and stay in English.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

# Plain-words titles, taken from the guidance's list. The policy file's own titles win when
# the config carries them; these cover the clause ids the health board's policy uses.
CLAUSE_TITLES = {
    "misleading": "defamatory, misleading or false content",
    "abusive": "abusive or threatening language, including swearing and altered spellings",
    "intimidation": "intimidating our staff or other people who use our pages",
    "naming_to_harass": "naming a member of staff or a service user in a way meant to harass "
    "or intimidate them",
    "obstructing_staff": "stopping our staff from carrying out their work safely",
    "allegation": "allegations against staff or other service users",
    "hate": "hate crime, or words used in hate crime",
    "obscene": "obscene, profane or sexually explicit content",
    "discriminatory": "discriminatory content",
    "illegal_activity": "promoting illegal activity",
    "advertising": "promoting individual products or services",
    "spamming": "posting the same message many times (spamming)",
    "trolling": "controversial, irrelevant or off-topic content (trolling)",
    "under_investigation": "content that is part of an investigation",
    "frequent_inflammatory": "frequent posts that are inflammatory, misleading or controversial, "
    "or that may cause distress",
    "cross_author_spamming": "the same message posted from several accounts (spamming)",
}

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def titles(reasons: Iterable[str], overrides: Mapping[str, str] | None = None) -> str:
    """'a', 'a and b', 'a, b and c', in the order given."""
    names = [
        (overrides or {}).get(r) or CLAUSE_TITLES.get(r) or r.replace("_", " ") for r in reasons
    ]
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def titles_cy(reasons: Iterable[str], welsh: Mapping[str, str]) -> str:
    """'x', 'x a y', 'x, y ac z': Welsh "and" is "ac" before a vowel, and mutates p, t, c."""
    names = [welsh.get(r) or r.replace("_", " ") for r in reasons]
    if len(names) <= 1:
        return "".join(names)
    last = names[-1]
    if last[:1].lower() in "aeiouwy":
        return f"{', '.join(names[:-1])} ac {last}"
    # "a" takes the aspirate mutation: "a throsedd", "a phostio", "a chynnwys".
    if last[:1] in "ptc" and last[1:2] != "h":
        last = last[0] + "h" + last[1:]
    return f"{', '.join(names[:-1])} a {last}"


_DAYS_CY = ("Llun", "Mawrth", "Mercher", "Iau", "Gwener", "Sadwrn", "Sul")
_MONTHS_CY = (
    "Ionawr",
    "Chwefror",
    "Mawrth",
    "Ebrill",
    "Mai",
    "Mehefin",
    "Gorffennaf",
    "Awst",
    "Medi",
    "Hydref",
    "Tachwedd",
    "Rhagfyr",
)


def local_deadline_cy(ts_ms: int, zone: ZoneInfo) -> str:
    """'16:00 ddydd Mercher 1 Ebrill 2026': the 24-hour clock, as official Welsh writes it."""
    moment = (_EPOCH + timedelta(milliseconds=ts_ms)).astimezone(zone)
    day, month = _DAYS_CY[moment.weekday()], _MONTHS_CY[moment.month - 1]
    return f"{moment:%H:%M} ddydd {day} {moment.day} {month} {moment.year}"


def local_deadline(ts_ms: int, zone: ZoneInfo) -> str:
    """'4pm on Wednesday 1 April 2026' in the health board's local time."""
    moment = (_EPOCH + timedelta(milliseconds=ts_ms)).astimezone(zone)
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    clock = f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"
    return f"{clock} on {moment:%A} {moment.day} {moment:%B %Y}"


# What the executor can say to an author, as templates: {reasons} (clause titles), {deadline}
# (a local date and time) and {contact} (the patient experience team). These English texts are
# the defaults; the policy file's ``enforcement.messages`` gives every one in Welsh and English.
ENGLISH: Mapping[str, str] = MappingProxyType(
    {
        "ask_removal": (
            "Hello. Your comment breaks our social media acceptable use guidance because it "
            "contains {reasons}. Please remove it by {deadline}. If you do not respond in time, "
            "we will block your access to our social media accounts; we will let you know "
            "before we do this."
        ),
        "notice_of_block": (
            "We asked you to remove your comment because it contains {reasons}. It is still on "
            "our page. If it is not removed by {deadline}, we will block your access to our "
            "social media accounts."
        ),
        "removal_explained": (
            "We have removed your comment because it contains {reasons}. In serious cases, such "
            "as allegations against staff or content that is part of an investigation, or "
            "content that is threatening or hateful, we have no option but to remove a comment "
            "immediately. If you want to raise a concern or make a complaint, please contact "
            "{contact}."
        ),
        "block_after_notice": (
            "We have blocked your access to our social media accounts because your comment, "
            "which contains {reasons}, was not removed after we asked you and told you we would "
            "do this."
        ),
        "block_frequent_inflammatory": (
            "We have blocked your access to our social media accounts because of frequent posts "
            "and comments that are inflammatory, misleading or controversial, or that may cause "
            "distress to our staff or other people."
        ),
        "block_linked": (
            "We have blocked your access to our social media accounts because we have "
            "reasonable cause to believe this account is from the same user as an account we "
            "have blocked for frequent inflammatory posts."
        ),
        "personal_care": (
            "We take patient confidentiality very seriously, so we cannot discuss anyone's care "
            "on social media, even your own. Please talk directly to the service involved; their "
            "contact details are on our website. If you wish to discuss your care or treatment, "
            "or make a complaint, please contact {contact}."
        ),
        "emergency_signpost": (
            "If you or someone you are with is having a medical or mental health emergency, "
            "please do not use social media to contact us. Call 999 now and ask for the service "
            "you need. For urgent help with your mental health, call NHS 111 Wales and choose "
            "option 2, at any time. Our social media accounts are run by staff who are not "
            "medical professionals and are not watched all the time."
        ),
    }
)
MESSAGE_KINDS = tuple(ENGLISH)
# The placeholders each message may use; anything else in a template is a config error.
PLACEHOLDERS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "ask_removal": frozenset({"reasons", "deadline"}),
        "notice_of_block": frozenset({"reasons", "deadline"}),
        "removal_explained": frozenset({"reasons", "contact"}),
        "block_after_notice": frozenset({"reasons"}),
        "block_frequent_inflammatory": frozenset(),
        "block_linked": frozenset(),
        "personal_care": frozenset({"contact"}),
        "emergency_signpost": frozenset(),
    }
)

# The language of a comment as replies see it, and of a reply: Welsh, English, or both (a
# bilingual text, Welsh first).
WELSH, ENGLISH_ONLY, BILINGUAL = "cy", "en", "cy+en"
WELSH_REPLIES = ("cy", "bilingual")  # how the board answers a comment written in Welsh


@dataclass(frozen=True, slots=True)
class Texts:
    """The Welsh side of every message. Empty (the default) answers everyone in English."""

    welsh: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    welsh_titles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    welsh_contact: str = ""
    english: Mapping[str, str] = field(default_factory=lambda: ENGLISH)
    welsh_replies: str = "bilingual"  # "cy": Welsh alone; "bilingual": Welsh, then English


@dataclass(frozen=True, slots=True)
class Said:
    text: str
    language: str  # "en" | "cy" | "cy+en"


def reply_language(language: str, languages: tuple[str, ...]) -> str:
    """How to answer a comment: "cy" when it is in Welsh, "cy+en" when it mixes both languages,
    "en" otherwise (English, or too short to tell)."""
    if language == "cy" and "en" not in languages:
        return WELSH
    if language in ("cy", "en") and {"cy", "en"} <= set(languages):
        return BILINGUAL
    return ENGLISH_ONLY


def say(
    texts: Texts,
    kind: str,
    audience: str,
    *,
    reasons: Iterable[str] = (),
    titles_en: Mapping[str, str] | None = None,
    deadline_ms: int | None = None,
    zone: ZoneInfo | None = None,
    contact: str = "",
) -> Said:
    """Message ``kind`` for a comment whose reply language is ``audience`` (reply_language).

    A Welsh comment gets the Welsh text, or both texts Welsh first, as the board configures; a
    mixed one gets both. Without Welsh texts everyone is answered in English.
    """
    reasons = tuple(reasons)
    english = texts.english[kind].format(
        reasons=titles(reasons, titles_en),
        deadline=local_deadline(deadline_ms, zone) if deadline_ms is not None and zone else "",
        contact=contact,
    )
    if audience == ENGLISH_ONLY or kind not in texts.welsh:
        return Said(english, ENGLISH_ONLY)
    welsh = texts.welsh[kind].format(
        reasons=titles_cy(reasons, texts.welsh_titles),
        deadline=local_deadline_cy(deadline_ms, zone) if deadline_ms is not None and zone else "",
        contact=texts.welsh_contact,
    )
    if audience == WELSH and texts.welsh_replies == "cy":
        return Said(welsh, WELSH)
    return Said(f"{welsh}\n\n{english}", BILINGUAL)


# Notes for the review queue. The first word says how soon to look.
def review_emergency() -> str:
    return (
        "URGENT: possible medical or mental health emergency. The 999 signpost was posted at "
        "once; check whether anything more is needed."
    )


def review_safeguarding() -> str:
    return "Safeguarding risk: content copied to the evidence store and referral queued."


def review_clause() -> str:
    return "A clause that needs a person's judgement: decide whether to act."


def review_deferred(kinds: Iterable[str]) -> str:
    listed = ", ".join(sorted(set(kinds)))
    return f"Arrived outside monitoring hours; waiting for the next working day: {listed}."


def review_author_replied() -> str:
    return (
        "The author replied to our request instead of removing the post: read the reply and "
        "decide. Automatic blocking has stopped for this comment."
    )


def review_undelivered(kind: str) -> str:
    return (
        f"Our {kind.replace('_', ' ')} could not be delivered, so the author was not told: "
        "decide what to do. Automatic blocking has stopped for this comment."
    )
