"""YouTube Data API v3: a ``youtube#commentThread`` or ``youtube#comment`` → PlatformComment.

A thread's comment is its ``snippet.topLevelComment``; replies arrive as ``youtube#comment``
resources of their own (with ``snippet.parentId``). The comment's own id is used in both cases,
so the same comment seen as a thread and as a comment gets the same ``comment_id``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from streams.normalise.envelope import InvalidField, JsonObject, MissingField
from streams.platforms.base import Envelope, PlatformComment, Poll
from streams.platforms.effecting import Effector, Target, need
from streams.platforms.errors import PlatformError, PostAlreadyDeleted, RateLimited, TokenExpired
from streams.platforms.http import Response
from streams.platforms.timestamps import format_ms, iso8601_ms

THREAD = "youtube#commentThread"
COMMENT = "youtube#comment"


def read(payload: JsonObject) -> PlatformComment:
    comment = _comment(payload)
    snippet = comment.required_obj("snippet")
    native_id = comment.required_str("id")
    text = _text(snippet)
    account_id = snippet.required_str("authorChannelId.value")
    published = snippet.required_str("publishedAt")
    name = snippet.optional_str("authorDisplayName")
    # A reply's snippet may omit videoId; the thread's snippet has it.
    post_id = snippet.optional_str("videoId") or payload.optional_str("snippet.videoId")
    return PlatformComment(
        native_id=native_id,
        account_id=account_id,
        author_name=name,
        author_handle=_handle(snippet.optional_str("authorChannelUrl"), name),
        post_id=post_id,
        post_text="",
        event_time_ms=iso8601_ms(published, snippet.path_of("publishedAt")),
        text=text,
        lang="",
        thread_id=snippet.optional_str("parentId"),
    )


def _comment(payload: JsonObject) -> JsonObject:
    kind = payload.optional_str("kind")
    if kind == THREAD or (not kind and payload.has("snippet.topLevelComment")):
        return payload.required_obj("snippet.topLevelComment")
    if kind in (COMMENT, ""):
        return payload
    raise InvalidField(payload.path_of("kind"), f"{THREAD} or {COMMENT}")


def _text(snippet: JsonObject) -> str:
    # textOriginal is what the author typed; textDisplay may be HTML-formatted and is only the
    # fallback for callers the API does not give the original to.
    if snippet.has("textOriginal"):
        return snippet.required_str("textOriginal", non_empty=False)
    if snippet.has("textDisplay"):
        return snippet.required_str("textDisplay", non_empty=False)
    raise MissingField(snippet.path_of("textOriginal"))


def _handle(channel_url: str, display_name: str) -> str:
    # Since handles replaced custom URLs, channel URLs end "/@handle" and display names are
    # often the handle itself; older channels have neither and get "".
    _, marker, rest = channel_url.rpartition("/@")
    if marker and rest:
        return rest.split("/", 1)[0]
    if display_name.startswith("@") and len(display_name) > 1:
        return display_name[1:]
    return ""


# --- API errors ------------------------------------------------------------------------------

# YouTube errors: {"error": {"code": 403, "errors": [{"reason": "quotaExceeded", ...}]}}.
_QUOTA_REASONS = frozenset({"quotaExceeded", "rateLimitExceeded", "userRateLimitExceeded"})
_GONE_REASONS = frozenset({"commentNotFound", "processingFailure"})
_AUTH_REASONS = frozenset({"authError", "expired", "invalidCredentials"})
QUOTA_RETRY_S = 3600.0  # the daily quota resets at midnight Pacific; look again hourly


def classify(response: Response) -> PlatformError | None:
    error = response.body.get("error") if isinstance(response.body, dict) else None
    reasons = {
        e.get("reason")
        for e in (error.get("errors") or [] if isinstance(error, dict) else [])
        if isinstance(e, dict)
    }
    if reasons & _QUOTA_REASONS:
        return RateLimited("youtube quota exhausted", retry_after_s=QUOTA_RETRY_S)
    if reasons & _AUTH_REASONS:
        return TokenExpired("youtube: the OAuth access token is expired or revoked")
    if response.status == 404 or reasons & {"commentNotFound"}:
        return PostAlreadyDeleted("youtube: comment not found")
    return None


# --- the effector ------------------------------------------------------------------------------

# Quota units per call (https://developers.google.com/youtube/v3/determine_quota_cost).
LIST_COST = 1
MODERATE_COST = 50
INSERT_COST = 50


class YoutubeEffector(Effector):
    """``comments.setModerationStatus`` (held for review, rejected, rejected with
    ``banAuthor``) and ``comments.insert`` for replies, with the channel owner's OAuth token
    (scope ``youtube.force-ssl``). YouTube has no hide that keeps the comment: holding it for
    review takes it off the public page until a person decides."""

    platform = "youtube"

    async def hide(self, target: Target) -> str:
        await self._moderate(target, "heldForReview")
        return "comment held for review"

    async def delete(self, target: Target) -> str:
        await self._moderate(target, "rejected")
        return "comment rejected"

    async def block(self, target: Target) -> str:
        # Bans go through a comment of the author's: the account's latest one.
        await self._moderate(target, "rejected", ban_author=True)
        return "comment rejected and author banned from the channel"

    async def reply(self, target: Target, message: str) -> str:
        # comments.insert takes a top-level comment as parent: a reply is answered in its
        # thread.
        parent = target.thread_id or need(target.comment_id, "comment id")
        body = {"snippet": {"parentId": parent, "textOriginal": message}}
        await self.api.call("POST", "/comments", params={"part": "snippet"}, json=body)
        return "reply posted"

    async def _moderate(self, target: Target, status: str, *, ban_author: bool = False) -> None:
        params = {"id": need(target.comment_id, "comment id"), "moderationStatus": status}
        if ban_author:
            params["banAuthor"] = "true"
        await self.api.call("POST", "/comments/setModerationStatus", params=params)


# --- the poller --------------------------------------------------------------------------------


class Quota(Protocol):
    async def spend(self, units: int) -> int:
        """Count units spent today; returns what is left."""
        ...

    async def left(self) -> int: ...


Fetch = Callable[[str, dict[str, str]], Awaitable[Response]]


@dataclass
class YoutubePoller:
    """``commentThreads.list`` for every video of the channel, newest first
    (``allThreadsRelatedToChannelId``, ``order=time``), until it reaches comments at or before
    the cursor. Each call is one quota unit; below the reserve it waits for the next day."""

    fetch: Fetch
    channel_id: str
    quota: Quota
    reserve: int
    # The cursor moves to the newest comment only once every page back to the old cursor is
    # read: stopping early would skip the pages between. This bound is only a safety net
    # (X serves at most the 800 latest mentions; YouTube a channel's recent threads).
    max_pages: int = 1000
    name: str = "youtube"

    async def poll(self, cursor: dict[str, Any]) -> Poll:
        since = str(cursor.get("since", ""))
        newest = since
        found: list[Envelope] = []
        page_token = ""
        for _ in range(self.max_pages):
            if await self.quota.left() <= self.reserve:
                # Stopped before reaching the old cursor: keep it (see the X poller).
                return Poll(found, {"since": since}, wait_s=QUOTA_RETRY_S)
            params = {
                "part": "snippet,replies",
                "allThreadsRelatedToChannelId": self.channel_id,
                "order": "time",
                "maxResults": "100",
                "textFormat": "plainText",
            }
            if page_token:
                params["pageToken"] = page_token
            body = (await self.fetch("/commentThreads", params)).body or {}
            await self.quota.spend(LIST_COST)
            older_seen = False
            for thread in body.get("items") or []:
                top = (thread.get("snippet") or {}).get("topLevelComment") or {}
                published = str((top.get("snippet") or {}).get("publishedAt", ""))
                # ">=": a comment published in the cursor's own second may be one not seen
                # yet; the ones that were are dropped by the connector's dedup.
                if published >= since:
                    found.append(Envelope("youtube", thread, {}))
                else:
                    older_seen = True
                newest = max(newest, published)
                video = (thread.get("snippet") or {}).get("videoId")
                for reply in (thread.get("replies") or {}).get("comments") or []:
                    reply_at = str((reply.get("snippet") or {}).get("publishedAt", ""))
                    if reply_at >= since:
                        found.append(
                            Envelope("youtube", reply, {"post_id": video} if video else {})
                        )
                        newest = max(newest, reply_at)
            page_token = str(body.get("nextPageToken") or "")
            if older_seen or not page_token:
                return Poll(found, {"since": newest})
        return Poll(found, {"since": since})


def sample(
    *,
    comment_id: str,
    channel_id: str,
    video_id: str,
    author_channel_id: str,
    name: str,
    handle: str,
    text: str,
    at_ms: int,
    like_count: int = 0,
) -> dict[str, Any]:
    """A ``youtube#commentThread`` as ``commentThreads.list`` returns it (samples and the
    fake)."""
    published = format_ms(at_ms, "%Y-%m-%dT%H:%M:%SZ")
    snippet = {
        "channelId": channel_id,
        "videoId": video_id,
        "textDisplay": text.replace("&", "&amp;").replace("'", "&#39;"),
        "textOriginal": text,
        "authorDisplayName": name,
        "authorChannelUrl": f"http://www.youtube.com/@{handle}",
        "authorChannelId": {"value": author_channel_id},
        "canRate": True,
        "viewerRating": "none",
        "likeCount": like_count,
        "publishedAt": published,
        "updatedAt": published,
    }
    return {
        "kind": THREAD,
        "id": comment_id,
        "snippet": {
            "channelId": channel_id,
            "videoId": video_id,
            "topLevelComment": {"kind": COMMENT, "id": comment_id, "snippet": snippet},
            "canReply": True,
            "totalReplyCount": 0,
            "isPublic": True,
        },
    }
