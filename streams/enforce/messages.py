"""What we say to authors (and the notes we leave for reviewers), in plain words.

The wording follows the acceptable-use guidance itself, so an author can match each message to
the promise it keeps. Texts are functions of their arguments only: replay reproduces them.
Messages never repeat the comment's text or anyone's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
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


def local_deadline(ts_ms: int, zone: ZoneInfo) -> str:
    """'4pm on Wednesday 1 April 2026' in the health board's local time."""
    moment = (_EPOCH + timedelta(milliseconds=ts_ms)).astimezone(zone)
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    clock = f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"
    return f"{clock} on {moment:%A} {moment.day} {moment:%B %Y}"


def ask_removal(reasons: str, deadline: str) -> str:
    return (
        f"Hello. Your comment breaks our social media acceptable use guidance because it "
        f"contains {reasons}. Please remove it by {deadline}. If you do not respond in time, "
        "we will block your access to our social media accounts; we will let you know before "
        "we do this."
    )


def notice_of_block(reasons: str, deadline: str) -> str:
    return (
        f"We asked you to remove your comment because it contains {reasons}. It is still on our "
        f"page. If it is not removed by {deadline}, we will block your access to our social "
        f"media accounts."
    )


def removal_explained(reasons: str, contact: str) -> str:
    return (
        f"We have removed your comment because it contains {reasons}. In serious cases, such as "
        f"allegations against staff or content that is part of an investigation, or content "
        f"that is threatening or hateful, we have no option but to remove a comment "
        f"immediately. If you want to raise a concern or make a complaint, please contact "
        f"{contact}."
    )


def block_after_notice(reasons: str) -> str:
    return (
        f"We have blocked your access to our social media accounts because your comment, which "
        f"contains {reasons}, was not removed after we asked you and told you we would do "
        f"this."
    )


def block_frequent_inflammatory() -> str:
    return (
        "We have blocked your access to our social media accounts because of frequent posts "
        "and comments that are inflammatory, misleading or controversial, or that may cause "
        "distress to our staff or other people."
    )


def block_linked() -> str:
    return (
        "We have blocked your access to our social media accounts because we have reasonable "
        "cause to believe this account is from the same user as an account we have blocked for "
        "frequent inflammatory posts."
    )


def personal_care(contact: str) -> str:
    return (
        "We take patient confidentiality very seriously, so we cannot discuss anyone's care on "
        "social media, even your own. Please talk directly to the service involved; their "
        "contact details are on our website. If you wish to discuss your care or treatment, or "
        f"make a complaint, please contact {contact}."
    )


def emergency_signpost() -> str:
    return (
        "If you or someone you are with is having a medical or mental health emergency, please "
        "do not use social media to contact us. Call 999 now and ask for the service you need. "
        "Our social media accounts are run by staff who are not medical professionals and are "
        "not watched all the time."
    )


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
