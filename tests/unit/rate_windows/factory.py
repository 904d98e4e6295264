"""Builders for the records the rate-window tests feed in."""

from __future__ import annotations

from schemas.comment import Comment
from schemas.verdict import Finding, Verdict

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS

# Distinct comments of the kind a health board's pages get; no two are near-duplicates.
DISTINCT_TEXTS = (
    "Thank you so much to all the staff at the Royal Glamorgan for looking after my mum",
    "When will the new minor injuries unit open? Nobody answers the phone at all",
    "Save our A&E! Sign the petition now and share with everyone you know",
    "Why is the waiting list for hip replacements still over two years in this health board",
    "The car parking at Prince Charles Hospital is a disgrace, nowhere to park for an hour",
    "My dad waited eleven hours in an ambulance outside the emergency department last night",
    "Is the flu vaccine clinic at Keir Hardie open on Saturday mornings this month",
    "Brilliant news about the new cancer centre, well done to everyone involved in the project",
    "The phone line for booking blood tests has been engaged all morning, is there another number",
    "Can anyone tell me if visiting hours have changed on the children's ward at Princess of Wales",
    "Absolutely shocking that the maternity unit is closing at weekends, where are women to go",
    "Thank you to the district nurses who came out to see my nan every day, they were wonderful",
    "The GP out of hours service told me to go to A&E and then A&E sent me back to the GP",
    "How do I make a complaint about the treatment my brother received on ward twelve",
    "Great to see the health board investing in mental health services for young people at last",
    "Why does it take six weeks to get a letter with results that the consultant already has",
    "Staff at the vaccination centre in Merthyr were friendly and everything ran on time today",
    "Please stop closing community hospitals, people in the valleys cannot travel to Cardiff",
    "The new app for ordering repeat prescriptions keeps crashing when I try to log in",
    "Does the physiotherapy department at Ysbyty Cwm Rhondda have a walk in service",
)


def verdict(
    author: str,
    comment_id: str,
    event_time_ms: int,
    text: str,
    clauses: tuple[str, ...] = (),
    offset: int | None = None,
) -> Verdict:
    """``offset``: the input's offset on comments.raw partition 0; None gives a source with
    no position, so only comment ids tell a redelivery."""
    comment = Comment(
        comment_id=comment_id,
        platform="facebook",
        author_key=author,
        author_name=author,
        author_handle="",
        post_id="facebook:post-1",
        post_text="",
        event_time_ms=event_time_ms,
        text=text,
        normalised=text.lower(),
        lang="en",
        source="comments.raw" if offset is None else f"comments.raw[0]@{offset}",
    )
    findings = tuple(
        Finding(clause=c, detector=f"test.{c}", start=0, end=1, confidence=0.9, severity="high")
        for c in clauses
    )
    return Verdict(comment=comment, findings=findings, policy_version="test")
