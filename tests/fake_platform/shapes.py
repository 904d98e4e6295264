"""Comment resources for seeding the fake, built by the platform modules' own ``sample``
functions, so the fake serves exactly the shapes the samples, the readers and the docs use."""

from __future__ import annotations

from typing import Any

from streams.platforms import linkedin, x, youtube
from streams.platforms.timestamps import iso8601_ms

BOARD_CHANNEL = "UCboardchannel000000000"
BOARD_X_ID = "2833475219"


def yt_thread(
    comment_id: str,
    published: str,
    *,
    author: str = "UCauthor000000000000001",
    text: str = "Diolch i'r staff",
    video: str = "dQw4w9WgXcQ",
) -> dict[str, Any]:
    """A ``youtube#commentThread``; ``published`` as YouTube writes it (``...Z``)."""
    return youtube.sample(
        comment_id=comment_id,
        channel_id=BOARD_CHANNEL,
        video_id=video,
        author_channel_id=author,
        name="@rhysm",
        handle="rhysm",
        text=text,
        at_ms=iso8601_ms(published, "publishedAt"),
    )


def x_tweet(
    tweet_id: str,
    author_id: str,
    *,
    text: str = "@CTMUHB thank you",
    created: str = "2026-12-01T10:00:00.000Z",
    conversation: str = "1799999999999999999",
) -> dict[str, Any]:
    return dict(
        x.sample(
            tweet_id=tweet_id,
            author_id=author_id,
            text=text,
            at_ms=iso8601_ms(created, "created_at"),
            conversation_id=conversation,
            in_reply_to_user_id=BOARD_X_ID,
        )
    )


def li_comment(
    post_urn: str,
    comment_id: str,
    created_ms: int,
    *,
    actor: str = "urn:li:person:AbC123",
    text: str = "Great work",
) -> dict[str, Any]:
    element = linkedin.sample(
        post_urn=post_urn, comment_id=comment_id, actor=actor, text=text, created_ms=created_ms
    )
    return {"id": comment_id, **element}
