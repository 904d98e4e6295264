"""The JSON dialect of every topic: typed records in, deterministic bytes out.

Records are msgspec Structs. Decoding checks every field's type against the record, so a
string where an integer belongs, or a list where an object belongs, is refused at the edge
with the field's path (``RecordError``), never accepted to fail later far from its cause.
Encoding writes struct fields in declaration order and dict keys sorted, so the bytes are a
function of the content alone: replay compares decisions byte for byte.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Self, TypeVar

import msgspec
import orjson

T = TypeVar("T")

_ENCODER = msgspec.json.Encoder(order="deterministic")
_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`")
UNKNOWN_FIELD = "not a field of this record"
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`")


class RecordError(ValueError):
    """A message is not the record it should be. ``path`` names the offending field (``""``
    for the message as a whole); the message says what was expected, never the value, which
    may be comment text or an account id."""

    def __init__(self, record: str, path: str, problem: str) -> None:
        where = f" at {path}" if path else ""
        super().__init__(f"{record}{where}: {problem}")
        self.record = record
        self.path = path
        self.problem = problem
        self.missing = problem == "required field is missing"
        self.unknown = problem == UNKNOWN_FIELD


class Record(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Base of every record on a topic: immutable, built with keyword arguments, no field
    beyond those declared (a misspelt field is an error, not silently dropped)."""

    def to_bytes(self) -> bytes:
        return dumps(self)

    @classmethod
    def from_bytes(cls, data: bytes | str) -> Self:
        return decode(data, cls)

    @classmethod
    def from_dict(cls, d: Any) -> Self:
        return convert(d, cls)


def replace(record: T, **changes: Any) -> T:
    """A copy of ``record`` with ``changes``: ``dataclasses.replace`` for records (and for the
    dataclasses that hold state, so one name serves both)."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return dataclasses.replace(record, **changes)
    return msgspec.structs.replace(record, **changes)  # type: ignore[type-var]


def dumps(record: Any) -> bytes:
    return _ENCODER.encode(record)


def loads(data: bytes | str) -> Any:
    """Untyped JSON (state snapshots, tools): records go through ``decode``."""
    return orjson.loads(data)


# One decoder per record type: building one per call costs about as much as the decoding.
_DECODERS: dict[type, msgspec.json.Decoder[Any]] = {}


def decode(data: bytes | str, record: type[T]) -> T:
    """``data`` as a ``record``, every field type-checked; raises RecordError."""
    decoder = _DECODERS.get(record)
    if decoder is None:
        decoder = _DECODERS[record] = msgspec.json.Decoder(record)
    try:
        value: T = decoder.decode(data)
        return value
    except msgspec.ValidationError as exc:
        raise _record_error(record, exc) from None
    except msgspec.DecodeError as exc:
        raise RecordError(record.__name__, "", f"not JSON ({exc})") from None


def convert(obj: Any, record: type[T]) -> T:
    """Already-parsed JSON (a dict) as a ``record``, checked like ``decode``."""
    try:
        return msgspec.convert(obj, type=record)
    except msgspec.ValidationError as exc:
        raise _record_error(record, exc) from None


def _record_error(record: type, exc: msgspec.ValidationError) -> RecordError:
    # msgspec says "Expected `int`, got `str` - at `$.comment.event_time_ms`"; it names types
    # and paths, never values.
    message = str(exc)
    at = _AT.search(message)
    path = at.group("path").lstrip(".") if at else ""
    problem = message[: at.start()] if at else message
    # msgspec quotes the rejected value here; it could be anything a sender wrote.
    problem = re.sub(r"^Invalid enum value .*$", "not one of the allowed values", problem)
    missing, unknown = _MISSING.match(problem), _UNKNOWN.match(problem)
    if missing or unknown:
        field = (missing or unknown).group("field")  # type: ignore[union-attr]
        path = f"{path}.{field}" if path else field
        problem = "required field is missing" if missing else UNKNOWN_FIELD
    elif "got `null`" in problem:
        problem = "required field is missing"
    return RecordError(record.__name__, path, problem)


def right_sized(data: bytes) -> bytes:
    """A copy of ``data`` that owns only its own length, for values a table keeps.

    orjson (3.13) returns each result in a buffer of about 4 KB and never shrinks it, so a
    300-byte state held per author kept 4 KB resident: most of a worker's memory per author
    (docs/benchmarks.md, "Memory per 1M tracked authors"). Records sent and dropped at once do
    not need this; anything held for the life of a key does."""
    return bytes(memoryview(data))
