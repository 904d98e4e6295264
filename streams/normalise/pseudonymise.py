"""Account ids → pseudonymous author keys, at the edge, before anything is stored or logged.

A keyed hash (not a plain one) because account ids are guessable: anyone could hash every
public X id and reverse an unkeyed digest. The same key always gives the same author key, so
per-author state survives restarts and replay; rotating the key starts every author afresh.
"""

from __future__ import annotations

import hashlib
import hmac

MIN_KEY_BYTES = 16
AUTHOR_KEY_CHARS = 32  # 128 bits of the digest: collisions are negligible for any user base


class PseudonymKeyError(ValueError):
    """The pseudonymisation key is missing or too short.

    Set MODSTREAM_PSEUDONYM_KEY to a random secret of at least 16 bytes. Keep it stable: a
    new key gives every author a new key, which resets their warnings and rate windows.
    """


class Pseudonymiser:
    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes):
            raise PseudonymKeyError("the pseudonymisation key must be bytes")
        if len(key) < MIN_KEY_BYTES:
            raise PseudonymKeyError(
                f"the pseudonymisation key must be at least {MIN_KEY_BYTES} bytes, got {len(key)}"
            )
        self._key = key

    def author_key(self, platform: str, account_id: str) -> str:
        message = f"{platform}:{account_id}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:AUTHOR_KEY_CHARS]

    def __repr__(self) -> str:
        # The key is a secret; keep it out of reprs, tracebacks and debug logs.
        return "Pseudonymiser(key=<hidden>)"
