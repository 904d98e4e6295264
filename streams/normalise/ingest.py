"""Raw bytes from ``comments.raw`` → a canonical Comment, or a DeadLetter saying why not.

Pure: no Kafka, no clock, no logging. Every input gives exactly one outcome and nothing
escapes as an exception, because an exception escaping the agent would lose the message.
Dead-letter details name reasons and field paths only; the original bytes travel base64 in
``original_b64`` for whoever is allowed to look.
"""

from __future__ import annotations

import orjson

from schemas.comment import PLATFORMS, Comment
from schemas.deadletter import DeadLetter
from streams.normalise.envelope import (
    EnvelopeContext,
    FieldError,
    UnknownPlatform,
    parse_envelope,
)
from streams.normalise.pseudonymise import Pseudonymiser
from streams.normalise.text import normalise
from streams.platforms import READERS
from streams.platforms.base import PlatformComment

STAGE = "normalise"

# What a buggy adapter or normaliser can raise on odd input. Anything else (MemoryError,
# KeyboardInterrupt) is not about this record and must not be dead-lettered as if it were.
_RECORD_ERRORS = (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError)


class _Rejected(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def ingest(
    raw: bytes,
    *,
    source: str,
    pseudonymiser: Pseudonymiser,
    max_bytes: int,
    failed_at_ms: int,
) -> Comment | DeadLetter:
    """``source`` is ``"topic[partition]@offset"``; ``failed_at_ms`` stamps a dead letter
    (wall-clock, operational only) and never feeds the Comment's event time."""
    try:
        return _comment(raw, source=source, pseudonymiser=pseudonymiser, max_bytes=max_bytes)
    except _Rejected as rejected:
        return DeadLetter.of(
            raw,
            reason=rejected.reason,
            detail=rejected.detail,
            stage=STAGE,
            source=source,
            failed_at_ms=failed_at_ms,
        )


def _comment(raw: bytes, *, source: str, pseudonymiser: Pseudonymiser, max_bytes: int) -> Comment:
    if len(raw) > max_bytes:
        raise _Rejected("oversize", f"message is {len(raw)} bytes, the limit is {max_bytes}")
    try:
        decoded_text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Rejected("invalid_utf8", f"not UTF-8 at byte {exc.start}") from None
    try:
        decoded = orjson.loads(decoded_text)
    except orjson.JSONDecodeError as exc:
        # orjson's message names a position and the grammar rule, never the content.
        raise _Rejected("invalid_json", f"not JSON: {exc.msg} at char {exc.pos}") from None
    if not isinstance(decoded, dict):
        raise _Rejected("invalid_json", f"top level is a JSON {_json_kind(decoded)}, not an object")

    try:
        envelope = parse_envelope(decoded)
        native = READERS[envelope.platform](envelope.payload)
    except UnknownPlatform as exc:
        raise _Rejected("unknown_platform", str(exc)) from None
    except FieldError as exc:
        raise _Rejected(exc.reason, str(exc)) from None
    except _RECORD_ERRORS as exc:
        raise _Rejected(
            "invalid_record", f"{_safe_platform(decoded)} reader failed: {type(exc).__name__}"
        ) from None

    try:
        normalised = normalise(native.text).text
    except _RECORD_ERRORS as exc:
        raise _Rejected("processing_error", f"normalise failed: {type(exc).__name__}") from None

    post_id, post_text = _post(native, envelope.context)
    return Comment(
        comment_id=f"{envelope.platform}:{native.native_id}",
        platform=envelope.platform,
        author_key=pseudonymiser.author_key(envelope.platform, native.account_id),
        author_name=native.author_name,
        author_handle=native.author_handle,
        post_id=post_id,
        post_text=post_text,
        event_time_ms=native.event_time_ms,
        text=native.text,
        normalised=normalised,
        lang=native.lang,
        source=source,
        signals=envelope.context.signals,
    )


def _post(native: PlatformComment, context: EnvelopeContext) -> tuple[str, str]:
    """The connector's context wins: it knows which of the board's posts it was polling.

    The payload's post text is only kept when it is about that same post.
    """
    if not context.post_id:
        return native.post_id, native.post_text or context.post_text
    if context.post_text:
        return context.post_id, context.post_text
    return context.post_id, native.post_text if native.post_id == context.post_id else ""


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"


def _safe_platform(decoded: dict[str, object]) -> str:
    # Checked against the closed set so a hostile value never reaches the detail.
    platform = decoded.get("platform")
    return platform if isinstance(platform, str) and platform in PLATFORMS else "?"
