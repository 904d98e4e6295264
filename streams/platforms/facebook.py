"""Facebook Graph API: a Comment node → PlatformComment.

Graph comment ids are ``"<post object id>_<comment id>"``, so the post replied to can be read
from the id when the connector's context does not name it. Facebook exposes no public handle.
"""

from __future__ import annotations

from streams.normalise.envelope import JsonObject
from streams.platforms.base import PlatformComment
from streams.platforms.effecting import Effector, Target, need
from streams.platforms.http import ApiClient
from streams.platforms.timestamps import format_ms, iso8601_ms


def read(payload: JsonObject) -> PlatformComment:
    comment_id = payload.required_str("id")
    # A photo- or sticker-only comment has an empty message; it is still a comment.
    text = payload.required_str("message", non_empty=False)
    account_id = payload.required_str("from.id")
    created = payload.required_str("created_time")
    post_id, separator, _ = comment_id.partition("_")
    return PlatformComment(
        native_id=comment_id,
        account_id=account_id,
        author_name=payload.optional_str("from.name"),
        author_handle="",
        post_id=post_id if separator else "",
        post_text="",
        event_time_ms=iso8601_ms(created, payload.path_of("created_time")),
        text=text,
        lang="",
    )


class FacebookEffector(Effector):
    """Page comment moderation through the Graph API with a Page access token
    (``pages_manage_engagement``, ``pages_read_user_content``, ``pages_manage_metadata``)."""

    platform = "facebook"

    def __init__(self, api: ApiClient, *, page_id: str) -> None:
        super().__init__(api)
        self.page_id = page_id

    async def hide(self, target: Target) -> str:
        comment = need(target.comment_id, "comment id")
        await self.api.call("POST", f"/{comment}", form={"is_hidden": "true"})
        return "comment hidden"

    async def delete(self, target: Target) -> str:
        await self.api.call("DELETE", f"/{need(target.comment_id, 'comment id')}")
        return "comment deleted"

    async def reply(self, target: Target, message: str) -> str:
        comment = need(target.comment_id, "comment id")
        await self.api.call("POST", f"/{comment}/comments", form={"message": message})
        return "reply posted"

    async def block(self, target: Target) -> str:
        user = need(target.account_id, "account id")
        await self.api.call("POST", f"/{self.page_id}/blocked", form={"user": user})
        return "account blocked from the page"


def sample(
    *, comment_id: str, account_id: str, name: str, text: str, at_ms: int, like_count: int = 0
) -> dict[str, object]:
    """A Graph API Comment node as the ``comments`` edge returns it (samples and the fake)."""
    return {
        "id": comment_id,
        "message": text,
        "created_time": format_ms(at_ms, "%Y-%m-%dT%H:%M:%S+0000"),
        "from": {"id": account_id, "name": name},
        "like_count": like_count,
        "comment_count": 0,
    }
