"""The raw envelope on ``comments.raw``, and checked reads of its untrusted fields.

A platform connector (or the sample feed, or replay) writes one message per comment. The
message key is ``"<platform>:<account id>"`` as the connector knows it; the value is a UTF-8
JSON object::

    {
      "platform": "x" | "facebook" | "instagram" | "linkedin" | "youtube",
      "payload": { ...the platform's own comment object, exactly as its API returned it... },
      "context": {                      # optional, and so is every key in it
        "post_id": "...",               # the board's post this comment replies to
        "post_text": "...",             # that post's text, when the connector has it
        "signals": ["sha256:...", ...]  # hashed device/IP signals the platform shares
      }
    }

What each ``payload`` is (field names are the platforms' own):

- ``x``: an X API v2 Tweet lookup response ``{"data": Tweet, "includes": {"users": [...],
  "tweets": [...]}}`` (expansions ``author_id,referenced_tweets.id``), or a bare Tweet object.
- ``facebook``: a Graph API Comment node: ``id`` (``"<post id>_<comment id>"``), ``message``,
  ``created_time``, ``from {id, name}``, optionally ``parent``.
- ``instagram``: an Instagram Graph API IG Comment: ``id``, ``text``, ``timestamp``,
  ``username``, ``from {id, username}``, ``media {id}``.
- ``linkedin``: one element of the Community Management API comments collection: ``id``
  and/or ``$URN``/``commentUrn``, ``actor`` (a person or organisation URN), ``object`` (the
  post's URN), ``message {text}``, ``created {time}`` in epoch milliseconds; optionally the
  ``actor~`` decoration with the author's localised name.
- ``youtube``: a YouTube Data API v3 ``youtube#commentThread`` (its top-level comment is the
  comment) or ``youtube#comment`` resource (a reply). The connector emits each reply as its own
  ``youtube#comment`` message, so a thread's ``replies`` are not read here.

The envelope's own fields are the record ``schemas.envelope.RawEnvelope``, from which the
JSON Schema in ``schemas/json/comments.raw.schema.json`` is generated: an unknown key in the
envelope or its context is refused by both. Inside the payload, unknown keys are ignored, so
platforms can add fields without breaking ingestion.

Errors name the path of the offending field (``payload.from.id``), never its value: a value
may be an account id or comment text, and error details end up in dead letters and logs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from schemas.codec import RecordError, convert
from schemas.comment import PLATFORMS
from schemas.envelope import EnvelopeContext as RawContext
from schemas.envelope import RawEnvelope


class FieldError(Exception):
    """A field the envelope needs is unusable; ``reason`` is the dead-letter reason code."""

    reason: ClassVar[str] = "invalid_record"

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path


class MissingField(FieldError):
    """A required field is absent or null. Usually a connector requesting too few fields."""

    reason = "missing_field"

    def __init__(self, path: str) -> None:
        super().__init__(path, "required field is missing")


class InvalidField(FieldError):
    """A field is present but of the wrong type or unparseable (e.g. a timestamp without zone)."""

    reason = "invalid_field"

    def __init__(self, path: str, expected: str) -> None:
        super().__init__(path, f"expected {expected}")


class UnknownField(FieldError):
    """The envelope or its context has a key the envelope record does not define."""

    reason = "invalid_field"

    def __init__(self, path: str) -> None:
        super().__init__(path, "not a field of the envelope")


class UnknownPlatform(Exception):
    """The envelope's ``platform`` is not one the pipeline has an adapter for."""

    def __init__(self) -> None:
        super().__init__(f"platform is not one of {', '.join(PLATFORMS)}")


@dataclass(frozen=True, slots=True)
class JsonObject:
    """A decoded JSON object and its path from the envelope root, for error messages.

    Dotted names walk nested objects: ``required_str("from.id")``. JSON ``null`` counts as
    absent, because several platforms send ``null`` for fields they chose not to fill.
    """

    data: Mapping[str, object]
    path: str

    def _lookup(self, dotted: str) -> tuple[object, str]:
        *parents, leaf = dotted.split(".")
        node: Mapping[str, object] = self.data
        walked = self.path
        for part in parents:
            walked = f"{walked}.{part}" if walked else part
            value = node.get(part)
            if value is None:
                # An absent parent reports the full requested path: that is what was needed.
                return None, self.path_of(dotted)
            if not isinstance(value, dict):
                raise InvalidField(walked, "an object")
            node = value
        return node.get(leaf), self.path_of(dotted)

    def path_of(self, dotted: str) -> str:
        """The field's path from the envelope root, as error messages name it."""
        return f"{self.path}.{dotted}" if self.path else dotted

    def has(self, dotted: str) -> bool:
        return self._lookup(dotted)[0] is not None

    def required_str(self, dotted: str, *, non_empty: bool = True) -> str:
        value, path = self._lookup(dotted)
        if value is None:
            raise MissingField(path)
        if not isinstance(value, str):
            raise InvalidField(path, "a string")
        if non_empty and not value:
            raise InvalidField(path, "a non-empty string")
        return value

    def optional_str(self, dotted: str) -> str:
        value, path = self._lookup(dotted)
        if value is None:
            return ""
        if not isinstance(value, str):
            raise InvalidField(path, "a string")
        return value

    def required_int(self, dotted: str) -> int:
        value, path = self._lookup(dotted)
        if value is None:
            raise MissingField(path)
        # bool is an int in Python but never a count or a timestamp in JSON.
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidField(path, "an integer")
        return value

    def required_obj(self, dotted: str) -> JsonObject:
        found = self.optional_obj(dotted)
        if found is None:
            raise MissingField(self.path_of(dotted))
        return found

    def optional_obj(self, dotted: str) -> JsonObject | None:
        value, path = self._lookup(dotted)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise InvalidField(path, "an object")
        return JsonObject(value, path)

    def object_list(self, dotted: str) -> list[JsonObject]:
        """A list of objects; absent means empty."""
        value, path = self._lookup(dotted)
        if value is None:
            return []
        if not isinstance(value, list):
            raise InvalidField(path, "a list")
        items: list[JsonObject] = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                raise InvalidField(f"{path}[{i}]", "an object")
            items.append(JsonObject(item, f"{path}[{i}]"))
        return items

    def str_list(self, dotted: str) -> tuple[str, ...]:
        """A list of strings; absent means empty."""
        value, path = self._lookup(dotted)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise InvalidField(path, "a list")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise InvalidField(f"{path}[{i}]", "a string")
        return tuple(value)


@dataclass(frozen=True, slots=True)
class EnvelopeContext:
    """What the connector knows beyond the platform's comment object."""

    post_id: str = ""
    post_text: str = ""
    signals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Envelope:
    platform: str  # one of PLATFORMS
    payload: JsonObject
    context: EnvelopeContext


def parse_envelope(decoded: Mapping[str, object]) -> Envelope:
    """Check the envelope's own fields against ``schemas.envelope.RawEnvelope``, the record the
    published schema is generated from; the payload is the platform adapter's job.

    Raises UnknownPlatform, MissingField or InvalidField. JSON ``null`` counts as absent.
    """
    try:
        raw = convert(decoded, RawEnvelope)
    except RecordError as exc:
        if exc.path == "platform" and not exc.missing:
            raise UnknownPlatform() from None
        if exc.missing:
            raise MissingField(exc.path) from None
        if exc.unknown:
            raise UnknownField(exc.path) from None
        raise InvalidField(exc.path, _expected(exc.problem)) from None
    context = raw.context or RawContext()
    return Envelope(
        raw.platform,
        JsonObject(raw.payload, "payload"),
        EnvelopeContext(
            post_id=context.post_id or "",
            post_text=context.post_text or "",
            signals=context.signals or (),
        ),
    )


def _expected(problem: str) -> str:
    # "Expected `array`, got `str`" -> "array"; the wording is msgspec's, without the value.
    match = re.match(r"Expected `([^`]+)`", problem)
    return (
        {"object": "an object", "str": "a string", "array": "a list"}.get(
            match.group(1), match.group(1)
        )
        if match
        else problem
    )
