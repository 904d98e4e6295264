"""Meta's webhook (Facebook Page ``feed`` and Instagram ``comments`` fields) and the Graph
API backfill that covers the connector's downtime. Pure except for the backfill's calls.

- ``GET`` handshake: ``hub.mode=subscribe`` and ``hub.verify_token`` equal to ours ->
  answer ``hub.challenge``; anything else -> 403.
- ``POST``: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, app secret>``,
  compared in constant time before the body is even parsed.
- Each ``entry[].changes[]`` that adds a comment becomes one envelope in the shape the
  payload readers take (a Graph Comment node, an IG Comment).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from streams.platforms.base import Envelope
from streams.platforms.http import ApiClient

SIGNATURE_HEADER = "X-Hub-Signature-256"
_FB_COMMENT_FIELDS = "id,message,created_time,from{id,name},parent{id}"
_IG_COMMENT_FIELDS = "id,text,timestamp,username,from{id,username},media{id},parent_id"
MAX_PAGES = 20  # per edge and backfill: a backfill is a gap-filler, not an archive crawl


def signature_valid(app_secret: bytes, body: bytes, header: str | None) -> bool:
    if not app_secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header.removeprefix("sha256=").strip().lower())


def handshake(params: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to echo, or None (answer 403)."""
    if not verify_token or params.get("hub.mode") != "subscribe":
        return None
    offered = params.get("hub.verify_token", "")
    if not hmac.compare_digest(offered.encode(), verify_token.encode()):
        return None
    return params.get("hub.challenge")


def comments_of(delivery: Any) -> tuple[list[Envelope], int]:
    """(the comments added in a delivery, how many changes were something else)."""
    if not isinstance(delivery, dict):
        return [], 0
    kind = delivery.get("object")
    found: list[Envelope] = []
    other = 0
    for entry in _dicts(delivery.get("entry")):
        for change in _dicts(entry.get("changes")):
            value = change.get("value")
            envelope = None
            if isinstance(value, dict):
                if kind == "page" and change.get("field") == "feed":
                    envelope = _facebook(value)
                elif kind == "instagram" and change.get("field") == "comments":
                    envelope = _instagram(value, entry.get("time"))
            if envelope is None:
                other += 1
            else:
                found.append(envelope)
    return found, other


def _facebook(value: dict[str, Any]) -> Envelope | None:
    # Edits, removals, reactions and posts arrive on the same field: only new comments count.
    if value.get("item") != "comment" or value.get("verb") != "add":
        return None
    created = value.get("created_time")
    payload: dict[str, Any] = {
        "id": value.get("comment_id"),
        "message": value.get("message", ""),
        # Webhooks send epoch seconds; the Graph node (and the reader) use ISO 8601.
        "created_time": _iso(created) if isinstance(created, int) else created,
        "from": value.get("from"),
    }
    parent, post = value.get("parent_id"), value.get("post_id")
    if parent and parent != post:
        payload["parent"] = {"id": parent}
    return Envelope("facebook", payload, {"post_id": post} if isinstance(post, str) else {})


def _instagram(value: dict[str, Any], sent_at: Any) -> Envelope | None:
    # The IG comment change has no timestamp of its own; Meta sends it as the comment is
    # made, so the entry's time is the comment's to within seconds.
    sender = value.get("from") if isinstance(value.get("from"), dict) else {}
    payload: dict[str, Any] = {
        "id": value.get("id"),
        "text": value.get("text", ""),
        "timestamp": _iso(sent_at) if isinstance(sent_at, int) else None,
        "from": value.get("from"),
        "username": sender.get("username") if isinstance(sender, dict) else None,
        "media": {"id": (value.get("media") or {}).get("id")},
    }
    if value.get("parent_id"):
        payload["parent_id"] = value["parent_id"]
    return Envelope("instagram", payload, {})


async def facebook_backfill(api: ApiClient, page_id: str, since_s: int) -> list[Envelope]:
    """Comments on the page's recent posts made after ``since_s`` (Graph ``comments`` edge,
    ``filter=stream`` so replies come too, ``since`` so old ones stay behind)."""
    found = []
    for post in await _edge(api, f"/{page_id}/posts", {"fields": "id", "limit": "25"}, 1):
        params = {
            "filter": "stream",
            "order": "chronological",
            "since": str(since_s),
            "fields": _FB_COMMENT_FIELDS,
            "limit": "100",
        }
        for node in await _edge(api, f"/{post['id']}/comments", params, MAX_PAGES):
            found.append(Envelope("facebook", node, {"post_id": post["id"]}))
    return found


async def instagram_backfill(api: ApiClient, ig_user_id: str, since_s: int) -> list[Envelope]:
    """Comments on the account's recent media newer than ``since_s``. The IG comments edge
    has no ``since``: it is filtered here, and the dedup drops what was already produced."""
    found = []
    cutoff = _iso(since_s)
    for media in await _edge(api, f"/{ig_user_id}/media", {"fields": "id", "limit": "25"}, 1):
        params = {"fields": _IG_COMMENT_FIELDS, "limit": "100"}
        for node in await _edge(api, f"/{media['id']}/comments", params, MAX_PAGES):
            stamp = node.get("timestamp")
            if isinstance(stamp, str) and _iso_key(stamp) > _iso_key(cutoff):
                found.append(Envelope("instagram", node, {}))
    return found


async def _edge(
    api: ApiClient, path: str, params: dict[str, str], pages: int
) -> list[dict[str, Any]]:
    """Follow a Graph edge's cursor pagination (``paging.cursors.after`` while
    ``paging.next`` exists) for at most ``pages`` pages."""
    nodes: list[dict[str, Any]] = []
    query = dict(params)
    for _ in range(pages):
        body = (await api.call("GET", path, params=query)).body or {}
        nodes.extend(n for n in _dicts(body.get("data")) if isinstance(n.get("id"), str))
        paging = body.get("paging")
        cursors = paging.get("cursors") if isinstance(paging, dict) and paging.get("next") else None
        after = cursors.get("after") if isinstance(cursors, dict) else None
        if not after:
            break
        query = {**params, "after": after}
    return nodes


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _iso(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _iso_key(stamp: str) -> str:
    # Graph writes every timestamp as YYYY-MM-DDTHH:MM:SS+0000, so the text orders by time.
    return stamp[:19]
