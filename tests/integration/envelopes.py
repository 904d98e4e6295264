"""Hand-built raw envelopes for integration tests that need exact authors, texts and times."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

# Tuesday 3 March 2026, 10:00 UK time (GMT): inside monitoring hours.
T0_MS = 1_772_532_000_000


def facebook(
    account: str,
    name: str,
    comment_no: int,
    text: str,
    at_ms: int,
    *,
    signals: tuple[str, ...] = (),
) -> tuple[bytes, bytes]:
    created = datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")
    envelope = {
        "platform": "facebook",
        "payload": {
            "id": f"1000200030004000_{comment_no}",
            "message": text,
            "created_time": created,
            "from": {"id": account, "name": name},
        },
        "context": {
            "post_text": "Flu and COVID-19 vaccination clinics are open this week.",
            "signals": list(signals),
        },
    }
    return f"facebook:{account}".encode(), orjson.dumps(envelope)
