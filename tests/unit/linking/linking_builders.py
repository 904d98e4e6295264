"""Builders for the records the linking tests feed in."""

from __future__ import annotations

from schemas.comment import Comment
from schemas.identity import LinkSignal, ordered_pair

T0 = 1_772_535_600_000  # 2026-03-03 11:00 UTC
SECOND_MS = 1000
MINUTE_MS = 60 * SECOND_MS
DAY_MS = 86_400_000


def comment(
    author: str,
    comment_id: str,
    *,
    at_ms: int = T0,
    post_id: str = "x:post-1",
    name: str = "",
    handle: str = "",
    signals: tuple[str, ...] = (),
    text: str = "When does the minor injuries unit open on Sundays?",
) -> Comment:
    return Comment(
        comment_id=comment_id,
        platform="x",
        author_key=author,
        author_name=name,
        author_handle=handle,
        post_id=post_id,
        post_text="",
        event_time_ms=at_ms,
        text=text,
        normalised=text.casefold(),
        lang="en",
        source="comments.normalised[0]@0",
        signals=signals,
    )


def signal(
    kind: str,
    x: str,
    y: str,
    *,
    weight: float = 1.0,
    at_ms: int = T0,
    evidence: str = "test evidence",
    sources: tuple[str, ...] = ("x:1", "x:2"),
) -> LinkSignal:
    a, b = ordered_pair(x, y)
    return LinkSignal(
        kind=kind,
        author_a=a,
        author_b=b,
        weight=weight,
        evidence=evidence,
        event_time_ms=at_ms,
        source_ids=sources,
    )


def strong_pair(x: str, y: str, *, at_ms: int = T0) -> list[LinkSignal]:
    """Enough evidence of two kinds to link under the default config."""
    return [
        signal("shared_signal", x, y, at_ms=at_ms),
        signal("shared_signal", x, y, at_ms=at_ms + MINUTE_MS),
        signal("shared_signal", x, y, at_ms=at_ms + 2 * MINUTE_MS),
        signal("name", x, y, at_ms=at_ms + 3 * MINUTE_MS),
    ]
