"""Text fingerprints: a 64-bit SimHash for near-duplicates and a hash for exact repeats.

Both run on a folded form of the normalised text (case-folded, every run of characters that
are not letters or digits, emoji included, turned into one space), so "Save our A&E!!" and
"save our a&e 😡" are the same message. The SimHash is built over 4-byte shingles of that
form: a small edit changes only the few shingles that overlap it, so it moves the hash by
a few bits, while unrelated texts land about 32 bits apart.

Every hash here is derived from blake2b, never from Python's ``hash()``: fingerprints are
stored in tables and compared across processes, so they must not depend on hash randomisation.
Changing ``SHINGLE_BYTES``, ``_TABLE_PERSON`` or the folding changes every fingerprint, so
stored state must then move to a new table name.
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass

SHINGLE_BYTES = 4
# 16-bit counters per bit below cap the number of shingles; 16 KiB of UTF-8 stays far under it.
MAX_TEXT_BYTES = 16_384
_LANE_BITS = 16
_TABLE_PERSON = b"modstream.sh.v1"

_NOT_WORD = re.compile(r"[\W_]+")
_LANES = struct.Struct("<64H")  # the 64 counters, one per _LANE_BITS lane, little-endian


def _spread(value: int) -> int:
    """Move bit j of a 64-bit value to bit j * _LANE_BITS, so one big-int add counts 64 bits."""
    out = 0
    for bit in range(64):
        if value >> bit & 1:
            out |= 1 << (bit * _LANE_BITS)
    return out


def _random_u64(position: int, byte: int) -> int:
    digest = hashlib.blake2b(bytes((position, byte)), digest_size=8, person=_TABLE_PERSON)
    return int.from_bytes(digest.digest(), "little")


# Tabulation hashing: a shingle's hash is the XOR of one random word per (position, byte).
# Spreading is linear over XOR, so the tables hold spread words and a shingle costs four
# look-ups, three XORs and one add instead of a blake2b call and a 64-step bit loop.
_SPREAD_TABLES = tuple(
    tuple(_spread(_random_u64(position, byte)) for byte in range(256))
    for position in range(SHINGLE_BYTES)
)


@dataclass(frozen=True, slots=True)
class TextFingerprint:
    simhash: int  # 64-bit SimHash of the folded text's shingles; 0 for empty text
    exact: int  # 64-bit blake2b of the folded text: equal iff same words in the same order
    tokens: int  # words in the folded text; short texts are too generic to call repeats


def fold(text: str) -> str:
    """The form fingerprints are taken of: case-folded words joined by single spaces."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def fingerprint(text: str) -> TextFingerprint:
    folded = fold(text)
    data = folded.encode()[:MAX_TEXT_BYTES]
    exact = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")
    tokens = folded.count(" ") + 1 if folded else 0
    return TextFingerprint(simhash=_simhash(data), exact=exact, tokens=tokens)


def _simhash(data: bytes) -> int:
    if not data:
        return 0
    data = data.ljust(SHINGLE_BYTES)
    # A set: a word repeated ten times is still one feature, so padding a message with
    # repeats does not drag its hash away from the original.
    shingles = {data[i : i + SHINGLE_BYTES] for i in range(len(data) - SHINGLE_BYTES + 1)}
    t0, t1, t2, t3 = _SPREAD_TABLES
    counters = 0
    for s in shingles:
        counters += t0[s[0]] ^ t1[s[1]] ^ t2[s[2]] ^ t3[s[3]]
    half = len(shingles)
    out = 0
    for bit, ones in enumerate(_LANES.unpack(counters.to_bytes(_LANES.size, "little"))):
        # Bit is set when more than half of the shingles have it set (a +1/-1 vote).
        if 2 * ones > half:
            out |= 1 << bit
    return out


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def band_values(simhash: int, bands: int) -> tuple[int, ...]:
    """Split the 64 bits into ``bands`` contiguous slices (widths differ by at most one bit).

    Two hashes at distance < ``bands`` agree on at least one slice (pigeonhole), which is
    what lets a fingerprint-keyed index find near-duplicates by exact key look-ups.
    """
    out = []
    start = 0
    for index in range(bands):
        width = 64 // bands + (1 if index < 64 % bands else 0)
        out.append(simhash >> start & ((1 << width) - 1))
        start += width
    return tuple(out)


def first_common_band(a: int, b: int, bands: int) -> int | None:
    """Index of the first slice on which the two hashes agree, None if they agree on none."""
    for index, (x, y) in enumerate(zip(band_values(a, bands), band_values(b, bands), strict=True)):
        if x == y:
            return index
    return None
