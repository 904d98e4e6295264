"""What an evidence key may be, read from the environment.

``MODSTREAM_EVIDENCE_KEY`` is either 32 random bytes, written in base64 (``openssl rand
-base64 32``), URL-safe base64 (``secrets.token_urlsafe(32)``) or hex, or a passphrase,
written ``passphrase:<at least 20 characters>``, which the store stretches with scrypt under
a salt of its own. A short or guessable string is refused: the key guards safeguarding
evidence, and HKDF alone adds no work factor to guessing one.

``MODSTREAM_EVIDENCE_OLD_KEYS`` lists earlier keys (comma-separated, same forms) that records
may still be under; ``legacy:<secret>`` names a key of the first store format, where any string
of 16 bytes or more was accepted. Records are written under the current key only; ``modstream
evidence rotate`` moves the rest onto it.

No cryptography here: settings validate with it, the store derives keys from what it returns.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from dataclasses import dataclass, field
from typing import Literal

KEY_BYTES = 32
PASSPHRASE_PREFIX = "passphrase:"  # noqa: S105 - the prefix that marks one, not a password
LEGACY_PREFIX = "legacy:"
MIN_PASSPHRASE_CHARS = 20
MIN_LEGACY_BYTES = 16

KeyKind = Literal["random", "passphrase", "legacy"]


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One evidence key as configured: its kind and secret (never printed)."""

    kind: KeyKind
    secret: bytes = field(repr=False)


def parse_key(value: str, name: str, *, legacy_allowed: bool = False) -> KeySpec:
    """The key in ``value``; raises ValueError naming ``name`` and the accepted forms."""
    value = value.strip()
    if value.startswith(PASSPHRASE_PREFIX):
        passphrase = value[len(PASSPHRASE_PREFIX) :]
        if len(passphrase) < MIN_PASSPHRASE_CHARS:
            raise ValueError(
                f"{name}: a passphrase must be at least {MIN_PASSPHRASE_CHARS} characters"
            )
        return KeySpec("passphrase", passphrase.encode())
    if value.startswith(LEGACY_PREFIX):
        secret = value[len(LEGACY_PREFIX) :].encode()
        if not legacy_allowed:
            raise ValueError(
                f"{name}: a legacy key can only be an old key (MODSTREAM_EVIDENCE_OLD_KEYS); "
                "rotate onto a new random key"
            )
        if len(secret) < MIN_LEGACY_BYTES:
            raise ValueError(f"{name}: a legacy key is at least {MIN_LEGACY_BYTES} bytes")
        return KeySpec("legacy", secret)
    raw = decode_random_key(value)
    if raw is None:
        raise ValueError(
            f"{name} must be {KEY_BYTES} random bytes in base64 (openssl rand -base64 32) or "
            f"hex, or passphrase:<at least {MIN_PASSPHRASE_CHARS} characters>"
        )
    return KeySpec("random", raw)


def parse_old_keys(value: str, name: str) -> tuple[KeySpec, ...]:
    return tuple(
        parse_key(part, f"{name} entry {i}", legacy_allowed=True)
        for i, part in enumerate((p for p in value.split(",") if p.strip()), 1)
    )


def decode_random_key(value: str) -> bytes | None:
    """Exactly ``KEY_BYTES`` bytes from hex or (URL-safe, perhaps unpadded) base64."""
    candidates = []
    if len(value) == 2 * KEY_BYTES:
        with contextlib.suppress(ValueError):
            candidates.append(bytes.fromhex(value))
    padded = value + "=" * (-len(value) % 4)
    standard = padded.replace("-", "+").replace("_", "/")  # URL-safe is the same with 2 swaps
    with contextlib.suppress(binascii.Error, ValueError, UnicodeEncodeError):
        candidates.append(base64.b64decode(standard.encode("ascii"), validate=True))
    return next((c for c in candidates if len(c) == KEY_BYTES), None)
