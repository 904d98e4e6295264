"""orjson encoding shared by every record, so all topics carry the same JSON dialect."""

from __future__ import annotations

from typing import Any

import orjson

_OPTS = orjson.OPT_SORT_KEYS


def dumps(record: Any) -> bytes:
    # Dataclasses serialise in field order and dicts in sorted order, so the bytes are a
    # function of the content alone: replay compares decisions byte for byte.
    return orjson.dumps(record, option=_OPTS)


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def right_sized(data: bytes) -> bytes:
    """A copy of ``data`` that owns only its own length, for values a table keeps.

    orjson (3.13) returns each result in a buffer of about 4 KB and never shrinks it, so a
    300-byte state held per author kept 4 KB resident: most of a worker's memory per author
    (docs/benchmarks.md, "Memory per 1M tracked authors"). Records sent and dropped at once do
    not need this; anything held for the life of a key does."""
    return bytes(memoryview(data))
