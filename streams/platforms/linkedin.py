"""LinkedIn Community Management API: a comments-collection element → PlatformComment.

The comment's URN ``urn:li:comment:(<post urn>,<comment id>)`` carries both the comment id
and the post; ``id`` and ``object`` say the same more plainly and win when present. The author
is the ``actor`` URN; a name is only there when the connector asks for the ``actor~``
decoration (persons have localised first/last names, organisations a localised name).
"""

from __future__ import annotations

import re

from streams.normalise.envelope import InvalidField, JsonObject, MissingField
from streams.platforms.base import PlatformComment
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
