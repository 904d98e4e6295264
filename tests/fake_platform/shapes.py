"""Comment resources in each platform's documented response shape, for seeding the fake."""

from __future__ import annotations

from typing import Any


def yt_thread(
    comment_id: str,
    published: str,
    *,
    author: str = "UCauthor000000000000001",
    text: str = "Diolch i'r staff",
    video: str = "dQw4w9WgXcQ",
) -> dict[str, Any]:
    """A ``youtube#commentThread`` as ``commentThreads.list`` returns it."""
    snippet = {
        "videoId": video,
        "textDisplay": text,
        "textOriginal": text,
        "authorDisplayName": "@rhysm",
        "authorChannelUrl": "http://www.youtube.com/@rhysm",
        "authorChannelId": {"value": author},
        "publishedAt": published,
        "updatedAt": published,
    }
    return {
        "kind": "youtube#commentThread",
        "id": comment_id,
        "snippet": {
            "channelId": "UCboardchannel000000000",
            "videoId": video,
            "topLevelComment": {"kind": "youtube#comment", "id": comment_id, "snippet": snippet},
            "canReply": True,
            "totalReplyCount": 0,
            "isPublic": True,
        },
    }


def x_tweet(
    tweet_id: str,
    author_id: str,
    *,
    text: str = "@CTMUHB thank you",
    created: str = "2026-12-01T10:00:00.000Z",
    conversation: str = "1799999999999999999",
) -> dict[str, Any]:
    """A Tweet object with the fields the mentions poller asks for."""
    return {
        "id": tweet_id,
        "text": text,
        "author_id": author_id,
        "created_at": created,
        "conversation_id": conversation,
        "lang": "en",
        "referenced_tweets": [{"type": "replied_to", "id": conversation}],
        "edit_history_tweet_ids": [tweet_id],
    }


def li_comment(
    post_urn: str,
    comment_id: str,
    created_ms: int,
    *,
    actor: str = "urn:li:person:AbC123",
    text: str = "Great work",
) -> dict[str, Any]:
    """One element of ``GET /rest/socialActions/{post}/comments``."""
    return {
        "id": comment_id,
        "commentUrn": f"urn:li:comment:({post_urn},{comment_id})",
        "$URN": f"urn:li:comment:({post_urn},{comment_id})",
        "actor": actor,
        "object": post_urn,
        "message": {"text": text, "attributes": []},
        "created": {"actor": actor, "time": created_ms},
        "lastModified": {"actor": actor, "time": created_ms},
    }
