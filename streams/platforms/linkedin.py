"""LinkedIn Community Management API: a comments-collection element → PlatformComment.

The comment's URN ``urn:li:comment:(<post urn>,<comment id>)`` carries both the comment id
and the post; ``id`` and ``object`` say the same more plainly and win when present. The author
is the ``actor`` URN; a name is only there when the connector asks for the ``actor~``
decoration (persons have localised first/last names, organisations a localised name).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from streams.normalise.envelope import InvalidField, JsonObject, MissingField
from streams.platforms.base import Envelope, PlatformComment, Poll
from streams.platforms.effecting import Effector, Target, need
from streams.platforms.http import ApiClient, Response
from streams.platforms.timestamps import epoch_ms

_COMMENT_URN = re.compile(r"urn:li:comment:\((urn:li:[A-Za-z]+:[^,()]+),([0-9]+)\)", re.ASCII)
_ACTOR_URN = re.compile(r"urn:li:(?:person|organization|member):[^\s]+", re.ASCII)


def read(payload: JsonObject) -> PlatformComment:
    native_id, urn_post = _comment_id(payload)
    actor = payload.required_str("actor")
    if _ACTOR_URN.fullmatch(actor) is None:
        raise InvalidField(payload.path_of("actor"), "a person or organization URN")
    text = payload.required_str("message.text", non_empty=False)
    created = payload.required_int("created.time")
    return PlatformComment(
        native_id=native_id,
        account_id=actor,
        author_name=_author_name(payload),
        author_handle=payload.optional_str("actor~.vanityName"),
        post_id=payload.optional_str("object") or urn_post,
        post_text="",
        event_time_ms=epoch_ms(created, payload.path_of("created.time")),
        text=text,
        lang="",
    )


def _comment_id(payload: JsonObject) -> tuple[str, str]:
    """(comment id, post URN from the comment URN or "")."""
    for field in ("$URN", "commentUrn"):
        urn = payload.optional_str(field)
        if urn:
            match = _COMMENT_URN.fullmatch(urn)
            if match is None:
                raise InvalidField(payload.path_of(field), "a comment URN")
            return payload.optional_str("id") or match.group(2), match.group(1)
    native_id = payload.optional_str("id")
    if not native_id:
        raise MissingField(payload.path_of("id"))
    return native_id, ""


def _author_name(payload: JsonObject) -> str:
    decoration = payload.optional_obj("actor~")
    if decoration is None:
        return ""
    organisation = decoration.optional_str("localizedName")
    if organisation:
        return organisation
    first = decoration.optional_str("localizedFirstName")
    last = decoration.optional_str("localizedLastName")
    return f"{first} {last}".strip()


# --- the effector ------------------------------------------------------------------------------


def comment_urn(post_urn: str, comment_id: str) -> str:
    return f"urn:li:comment:({post_urn},{comment_id})"


def _path_urn(urn: str) -> str:
    # Rest.li puts URNs in paths percent-encoded, parentheses and commas included.
    return quote(urn, safe="")


class LinkedinEffector(Effector):
    """Comments on the organisation's posts through the Community Management API
    (``w_organization_social``, acting as the organisation): delete and reply. LinkedIn has no
    API to hide a comment or block a member."""

    platform = "linkedin"

    def __init__(self, api: ApiClient, *, org_urn: str) -> None:
        super().__init__(api)
        self.org_urn = org_urn

    async def delete(self, target: Target) -> str:
        post = need(target.post_id, "post URN")
        comment = need(target.comment_id, "comment id")
        await self.api.call(
            "DELETE",
            f"/rest/socialActions/{_path_urn(post)}/comments/{comment}",
            params={"actor": self.org_urn},
        )
        return "comment deleted"

    async def reply(self, target: Target, message: str) -> str:
        post = need(target.post_id, "post URN")
        parent = comment_urn(post, need(target.comment_id, "comment id"))
        body = {
            "actor": self.org_urn,
            "object": post,
            "parentComment": parent,
            "message": {"text": message},
        }
        await self.api.call("POST", f"/rest/socialActions/{_path_urn(parent)}/comments", json=body)
        return "reply posted"


# --- the poller --------------------------------------------------------------------------------


PAGE = 100  # the comments collection's largest page


@dataclass
class LinkedinPoller:
    """Comments on the organisation's recent posts (``GET /rest/posts?q=author``, then
    ``GET /rest/socialActions/{post}/comments``), newer than the cursor's ``created.time``."""

    fetch: Callable[[str, dict[str, str]], Awaitable[Response]]
    org_urn: str
    posts: int = 20
    max_comments: int = 5000  # per post and poll: a safety net, far above a busy post
    name: str = "linkedin"

    async def poll(self, cursor: dict[str, Any]) -> Poll:
        since = int(cursor.get("since_ms", 0))
        newest = since
        found: list[Envelope] = []
        listing = await self.fetch(
            "/rest/posts", {"author": self.org_urn, "q": "author", "count": str(self.posts)}
        )
        for post in (listing.body or {}).get("elements") or []:
            post_urn = str(post.get("id", ""))
            if not post_urn:
                continue
            edge = f"/rest/socialActions/{_path_urn(post_urn)}/comments"
            start = 0
            while True:
                page = await self.fetch(edge, {"start": str(start), "count": str(PAGE)})
                elements = (page.body or {}).get("elements") or []
                for element in elements:
                    created = int((element.get("created") or {}).get("time", 0))
                    # ">=": the cursor's own millisecond may hold one not seen yet (dedup).
                    if created >= since:
                        element.setdefault("object", post_urn)
                        found.append(Envelope("linkedin", element, {"post_id": post_urn}))
                        newest = max(newest, created)
                start += len(elements)
                if len(elements) < PAGE or start >= self.max_comments:
                    break
        return Poll(found, {"since_ms": newest})


def sample(
    *,
    post_urn: str,
    comment_id: str,
    actor: str,
    text: str,
    created_ms: int,
    first_name: str = "",
    last_name: str = "",
) -> dict[str, Any]:
    """One element of ``GET /rest/socialActions/{post}/comments`` (samples and the fake);
    with a name, the ``actor~`` decoration a projection asks for."""
    urn = comment_urn(post_urn, comment_id)
    element: dict[str, Any] = {"$URN": urn, "commentUrn": urn, "actor": actor}
    if first_name or last_name:
        element["actor~"] = {"localizedFirstName": first_name, "localizedLastName": last_name}
    element.update(
        {
            "object": post_urn,
            "message": {"text": text, "attributes": []},
            "created": {"actor": actor, "time": created_ms},
            "lastModified": {"actor": actor, "time": created_ms},
        }
    )
    return element
