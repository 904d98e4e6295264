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
