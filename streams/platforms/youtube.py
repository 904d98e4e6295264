"""YouTube Data API v3: a ``youtube#commentThread`` or ``youtube#comment`` → PlatformComment.

A thread's comment is its ``snippet.topLevelComment``; replies arrive as ``youtube#comment``
resources of their own (with ``snippet.parentId``). The comment's own id is used in both cases,
so the same comment seen as a thread and as a comment gets the same ``comment_id``.
"""

from __future__ import annotations

from streams.normalise.envelope import InvalidField, JsonObject, MissingField
from streams.platforms.base import PlatformComment
from streams.platforms.timestamps import iso8601_ms

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
