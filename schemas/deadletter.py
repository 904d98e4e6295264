"""A message a stage could not process, and where to find it again.

A dead letter carries at most ``ORIGINAL_PREFIX_BYTES`` of the original, with the original's
length and sha256: an input near the broker's size limit would otherwise make a dead letter over
that limit, which the producer refuses, and the input would get no answer at all. The whole
original stays on its input topic at ``source`` (``topic[partition]@offset``) for as long as that
topic is retained.
"""

from __future__ import annotations

import base64
import hashlib

from schemas.codec import Record

# Reason codes are a closed set: they label metrics and alert rules.
REASONS = (
    "invalid_json",
    "invalid_utf8",
    "oversize",
    "unknown_platform",
    "missing_field",
    "invalid_field",
    "invalid_record",
    "processing_error",
    "action_failed",
)
# How much of the original a dead letter carries: enough to read what went wrong, small enough
# that base64 and the other fields stay far under any broker's message size limit.
ORIGINAL_PREFIX_BYTES = 64 * 1024


class DeadLetter(Record, frozen=True):
    """Key on ``comments.deadletter``: the original key, so a retry lands on the same partition."""

    reason: str  # one of REASONS
    detail: str  # human-readable; never contains the comment text or account ids
    stage: str  # which stage gave up ("normalise", "classify", "executor", ...)
    source: str  # "topic[partition]@offset"
    original_b64: str  # the original's first bytes (at most 64 KiB), base64 (any bytes survive)
    failed_at_ms: int  # wall-clock time of the failure (operational, not used by replay)
    original_length: int = -1  # the original's length in bytes (-1: written before it was kept)
    original_sha256: str = ""  # hex sha256 of the whole original, to match it at ``source``

    @classmethod
    def of(
        cls, raw: bytes, *, reason: str, detail: str, stage: str, source: str, failed_at_ms: int
    ) -> DeadLetter:
        """A dead letter for ``raw``, carrying a bounded prefix of it, its length and digest."""
        return cls(
            reason=reason,
            detail=detail,
            stage=stage,
            source=source,
            original_b64=cls.encode_original(raw[:ORIGINAL_PREFIX_BYTES]),
            failed_at_ms=failed_at_ms,
            original_length=len(raw),
            original_sha256=hashlib.sha256(raw).hexdigest(),
        )

    @property
    def truncated(self) -> bool:
        return self.original_length > len(self.original())

    @staticmethod
    def encode_original(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    def original(self) -> bytes:
        return base64.b64decode(self.original_b64)
