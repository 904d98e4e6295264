"""X API v2: a Tweet lookup response (or a bare Tweet) → PlatformComment.

The response shape is ``{"data": Tweet, "includes": {"users": [User], "tweets": [Tweet]}}``
when the connector asks for ``expansions=author_id,referenced_tweets.id``; the author's
name and handle and the replied-to tweet's text only exist in ``includes``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from streams.normalise.envelope import JsonObject
from streams.platforms.base import Envelope, PlatformComment, Poll, language_tag
from streams.platforms.effecting import Effector, Target, need
from streams.platforms.errors import PlatformError, PostAlreadyDeleted, RateLimited
from streams.platforms.http import ApiClient, Response, retry_after_seconds
from streams.platforms.timestamps import format_ms, iso8601_ms


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


# --- API errors ------------------------------------------------------------------------------


def classify(response: Response) -> PlatformError | None:
    if response.status == 429:
        # X says when the window resets rather than how long to wait.
        return RateLimited("x: 429", retry_after_s=retry_after_seconds(response.headers))
    errors = response.body.get("errors") if isinstance(response.body, dict) else None
    types = {e.get("type", "") for e in errors or [] if isinstance(e, dict)}
    if any(t.endswith("/resource-not-found") for t in types):
        return PostAlreadyDeleted("x: resource not found")
    return None


def rate_limit_wait(headers: Mapping[str, str], now_s: float) -> float | None:
    """How long to wait when the window is spent (``x-rate-limit-remaining: 0``)."""
    if headers.get("x-rate-limit-remaining") != "0":
        return None
    return retry_after_seconds(headers, now_s)


# --- the effector ------------------------------------------------------------------------------


class XEffector(Effector):
    """Hide a reply (``PUT /2/tweets/:id/hidden``), block or mute the author
    (``POST /2/users/:id/blocking|muting``: which one the app's tier allows is the
    ``MODSTREAM_X_BLOCK_MODE`` setting) and reply (``POST /2/tweets``), with a user-context
    OAuth 2.0 token for the board's account. X has no API to delete another user's post."""

    platform = "x"

    def __init__(self, api: ApiClient, *, user_id: str, block_mode: str = "block") -> None:
        super().__init__(api)
        self.user_id = user_id
        self.block_mode = block_mode

    async def hide(self, target: Target) -> str:
        tweet = need(target.comment_id, "post id")
        await self.api.call("PUT", f"/2/tweets/{tweet}/hidden", json={"hidden": True})
        return "reply hidden"

    async def block(self, target: Target) -> str:
        edge = "blocking" if self.block_mode == "block" else "muting"
        body = {"target_user_id": need(target.account_id, "account id")}
        await self.api.call("POST", f"/2/users/{self.user_id}/{edge}", json=body)
        return "account blocked" if edge == "blocking" else "account muted"

    async def reply(self, target: Target, message: str) -> str:
        tweet = need(target.comment_id, "post id")
        body = {"text": message, "reply": {"in_reply_to_tweet_id": tweet}}
        await self.api.call("POST", "/2/tweets", json=body)
        return "reply posted"


# --- the poller --------------------------------------------------------------------------------

MENTION_PARAMS = {
    "max_results": "100",
    "expansions": "author_id,referenced_tweets.id",
    "tweet.fields": "created_at,author_id,conversation_id,lang,referenced_tweets",
    "user.fields": "name,username",
}


@dataclass
class XPoller:
    """The account's mentions timeline (``GET /2/users/:id/mentions``): replies to the
    board's posts mention the board, so this covers both. ``since_id`` is the cursor, pages
    follow ``meta.next_token``, and ``x-rate-limit-remaining: 0`` waits for the reset."""

    fetch: Callable[[str, dict[str, str]], Awaitable[Response]]
    user_id: str
    clock: Callable[[], float] = time.time
    # The cursor moves to the newest comment only once every page back to the old cursor is
    # read: stopping early would skip the pages between. This bound is only a safety net
    # (X serves at most the 800 latest mentions; YouTube a channel's recent threads).
    max_pages: int = 1000
    name: str = "x"

    async def poll(self, cursor: dict[str, Any]) -> Poll:
        since_id = str(cursor.get("since_id", ""))
        newest = since_id
        found: list[Envelope] = []
        token = ""
        wait_s: float | None = None
        for _ in range(self.max_pages):
            params = dict(MENTION_PARAMS)
            if since_id:
                params["since_id"] = since_id
            if token:
                params["pagination_token"] = token
            response = await self.fetch(f"/2/users/{self.user_id}/mentions", params)
            body = response.body or {}
            includes = body.get("includes") or {}
            users = {u.get("id"): u for u in includes.get("users") or []}
            tweets = {t.get("id"): t for t in includes.get("tweets") or []}
            for tweet in body.get("data") or []:
                refs = [r.get("id") for r in tweet.get("referenced_tweets") or []]
                payload = {
                    "data": tweet,
                    "includes": {
                        "users": [users[a] for a in [tweet.get("author_id")] if a in users],
                        "tweets": [tweets[r] for r in refs if r in tweets],
                    },
                }
                found.append(Envelope("x", payload, {}))
                newest = _later_id(newest, str(tweet.get("id", "")))
            wait_s = rate_limit_wait(response.headers, self.clock())
            token = str((body.get("meta") or {}).get("next_token") or "")
            if not token:
                return Poll(found, {"since_id": newest}, wait_s=wait_s)
            if wait_s is not None:
                break
        # Pages are left between here and the old cursor: keep it, so the next round reads
        # them (what was found now is produced, and found again it is dropped as a duplicate).
        return Poll(found, {"since_id": since_id}, wait_s=wait_s)


def _later_id(a: str, b: str) -> str:
    # Snowflake ids grow with time; compare as numbers (string order fails across lengths).
    if not a:
        return b
    if not b:
        return a
    return a if int(a) >= int(b) else b


def sample(
    *,
    tweet_id: str,
    author_id: str,
    text: str,
    at_ms: int,
    conversation_id: str,
    in_reply_to_user_id: str,
    lang: str = "en",
) -> dict[str, object]:
    """A Tweet with the fields ``MENTION_PARAMS`` ask for (samples and the fake)."""
    return {
        "id": tweet_id,
        "text": text,
        "author_id": author_id,
        "created_at": format_ms(at_ms, "%Y-%m-%dT%H:%M:%S.000Z"),
        "conversation_id": conversation_id,
        "in_reply_to_user_id": in_reply_to_user_id,
        "referenced_tweets": [{"type": "replied_to", "id": conversation_id}],
        "lang": lang,
        "edit_history_tweet_ids": [tweet_id],
    }
