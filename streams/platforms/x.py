"""X API v2: a Tweet lookup response (or a bare Tweet) → PlatformComment.

The response shape is ``{"data": Tweet, "includes": {"users": [User], "tweets": [Tweet]}}``
when the connector asks for ``expansions=author_id,referenced_tweets.id``; the author's
name and handle and the replied-to tweet's text only exist in ``includes``.
"""

from __future__ import annotations

from streams.normalise.envelope import JsonObject
from streams.platforms.base import PlatformComment, language_tag
from streams.platforms.timestamps import iso8601_ms


def read(payload: JsonObject) -> PlatformComment:
    data = payload.optional_obj("data")
    tweet = data if data is not None else payload
    includes = payload.optional_obj("includes") if data is not None else None

    tweet_id = tweet.required_str("id")
    text = tweet.required_str("text", non_empty=False)
    author_id = tweet.required_str("author_id")
    event_time_ms = iso8601_ms(tweet.required_str("created_at"), tweet.path_of("created_at"))
    post_id = _post_id(tweet, tweet_id)

    author_name = author_handle = post_text = ""
    if includes is not None:
        for user in includes.object_list("users"):
            if user.optional_str("id") == author_id:
                author_name = user.optional_str("name")
                author_handle = user.optional_str("username")
                break
        for included in includes.object_list("tweets"):
            if post_id and included.optional_str("id") == post_id:
                post_text = included.optional_str("text")
                break

    return PlatformComment(
        native_id=tweet_id,
        account_id=author_id,
        author_name=author_name,
        author_handle=author_handle,
        post_id=post_id,
        post_text=post_text,
        event_time_ms=event_time_ms,
        text=text,
        lang=language_tag(tweet.optional_str("lang")),
    )


def _post_id(tweet: JsonObject, tweet_id: str) -> str:
    # The conversation root is the board's post even when this replies to another reply;
    # a root tweet's conversation_id is its own id, and then there is no post to name.
    conversation_id = tweet.optional_str("conversation_id")
    if conversation_id and conversation_id != tweet_id:
        return conversation_id
    for ref in tweet.object_list("referenced_tweets"):
        if ref.optional_str("type") == "replied_to":
            return ref.optional_str("id")
    return ""
