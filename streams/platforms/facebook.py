"""Facebook Graph API: a Comment node → PlatformComment.

Graph comment ids are ``"<post object id>_<comment id>"``, so the post replied to can be read
from the id when the connector's context does not name it. Facebook exposes no public handle.
"""

from __future__ import annotations

from streams.normalise.envelope import JsonObject
from streams.platforms.base import PlatformComment
from streams.platforms.timestamps import iso8601_ms


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
