"""The raw envelope on ``comments.raw``: what a connector writes around a platform's comment.

One definition for the decoder (``streams.normalise.envelope.parse_envelope``) and for the
published JSON Schema (``schemas.jsonschema``). The payload inside is the platform's own
object; the adapters in ``streams/normalise/adapters`` read it.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from schemas.comment import PLATFORMS

Platform = Literal["x", "facebook", "instagram", "linkedin", "youtube"]
assert Platform.__args__ == PLATFORMS  # type: ignore[attr-defined]  # one list of platforms


class EnvelopeContext(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What the connector knows beyond the platform's comment object; every key optional."""

    post_id: str | None = None  # the board's post replied to
    post_text: str | None = None  # that post's text
    signals: tuple[str, ...] | None = None  # hashed device/IP signals the platform shares


class RawEnvelope(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One platform comment as a connector writes it."""

    platform: Platform
    payload: dict[str, Any]  # the platform's own comment object, exactly as its API returned it
    context: EnvelopeContext | None = None
