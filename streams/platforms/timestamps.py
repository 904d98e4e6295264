"""Platform timestamps → UTC epoch milliseconds, the event time every window runs on.

Only the platform's own timestamp is used: wall-clock time at ingestion would make replay
disagree with the original run and put late-arriving comments in the wrong windows.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from streams.normalise.envelope import InvalidField

# RFC 3339 as the platforms write it: X "2026-03-03T10:15:00.000Z", YouTube
# "2026-03-03T10:15:00Z", Facebook and Instagram "2026-03-03T10:15:00+0000" (no colon).
# A zone is mandatory: a naive time would silently be read in the server's zone.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))",
    re.ASCII,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
# Year 9999: beyond it datetime cannot represent the instant, and no comment is from then.
MAX_EVENT_TIME_MS = 253_402_300_799_999
_EXPECTED = "an RFC 3339 timestamp with a zone"


def iso8601_ms(value: str, path: str) -> int:
    match = _RFC3339.fullmatch(value)
    if match is None:
        raise InvalidField(path, _EXPECTED)
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    try:
        zone = UTC
        if zulu is None:
            offset = timedelta(hours=int(off_h), minutes=int(off_m))
            zone = timezone(-offset if sign == "-" else offset)
        instant = datetime(
            int(year), int(month), int(day), int(hour), int(minute), int(second), tzinfo=zone
        )
        whole_ms = (instant - _EPOCH) // _ONE_MS
    except (ValueError, OverflowError):
        raise InvalidField(path, _EXPECTED) from None
    # Integer arithmetic on the digits: float seconds would round .999 up into the next ms.
    millis = int((fraction or "").ljust(3, "0")[:3])
    return epoch_ms(whole_ms + millis, path)


def epoch_ms(value: int, path: str) -> int:
    if not 0 <= value <= MAX_EVENT_TIME_MS:
        raise InvalidField(path, "a time between 1970 and 9999")
    return value


def format_ms(ms: int, fmt: str) -> str:
    """Epoch milliseconds in a platform's own timestamp format (for sample payloads)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime(fmt)
