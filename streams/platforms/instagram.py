"""Instagram Graph API: an IG Comment → PlatformComment.

Instagram shows the username, not a display name, beside a comment, so the username is both
the name and the handle. ``from.id`` (the commenter's IGSID) is the account id.
"""

from __future__ import annotations

from streams.normalise.envelope import JsonObject
from streams.platforms.base import PlatformComment
from streams.platforms.effecting import Effector, Target, need
from streams.platforms.timestamps import format_ms, iso8601_ms


def read(payload: JsonObject) -> PlatformComment:
    comment_id = payload.required_str("id")
    text = payload.required_str("text", non_empty=False)
    account_id = payload.required_str("from.id")
    timestamp = payload.required_str("timestamp")
    username = payload.optional_str("from.username") or payload.optional_str("username")
    return PlatformComment(
        native_id=comment_id,
        account_id=account_id,
        author_name=username,
        author_handle=username,
        post_id=payload.optional_str("media.id"),
        # Present only when the connector expands media{id,caption}.
        post_text=payload.optional_str("media.caption"),
        event_time_ms=iso8601_ms(timestamp, payload.path_of("timestamp")),
        text=text,
        lang="",
    )


class InstagramEffector(Effector):
    """IG comment moderation through the Graph API (``instagram_manage_comments``).
    Instagram offers no API to block an account: that stays a person's job."""

    platform = "instagram"

    async def hide(self, target: Target) -> str:
        comment = need(target.comment_id, "comment id")
        await self.api.call("POST", f"/{comment}", form={"hide": "true"})
        return "comment hidden"

    async def delete(self, target: Target) -> str:
        await self.api.call("DELETE", f"/{need(target.comment_id, 'comment id')}")
        return "comment deleted"

    async def reply(self, target: Target, message: str) -> str:
        comment = need(target.comment_id, "comment id")
        await self.api.call("POST", f"/{comment}/replies", form={"message": message})
        return "reply posted"


def sample(
    *,
    comment_id: str,
    account_id: str,
    username: str,
    text: str,
    at_ms: int,
    media_id: str,
    caption: str,
    like_count: int = 0,
) -> dict[str, object]:
    """An IG Comment as ``GET /{media-id}/comments`` returns it (samples and the fake)."""
    return {
        "id": comment_id,
        "text": text,
        "timestamp": format_ms(at_ms, "%Y-%m-%dT%H:%M:%S+0000"),
        "username": username,
        "from": {"id": account_id, "username": username},
        "media": {"id": media_id, "caption": caption},
        "like_count": like_count,
        "hidden": False,
    }
