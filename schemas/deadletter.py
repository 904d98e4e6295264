"""A message a stage could not process, kept whole so nothing is lost."""

from __future__ import annotations

import base64

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


class DeadLetter(Record, frozen=True):
    """Key on ``comments.deadletter``: the original key, so a retry lands on the same partition."""

    reason: str  # one of REASONS
    detail: str  # human-readable; never contains the comment text or account ids
    stage: str  # which stage gave up ("normalise", "classify", "executor", ...)
    source: str  # "topic[partition]@offset"
    original_b64: str  # the original message bytes, base64 (any bytes survive, valid UTF-8 or not)
    failed_at_ms: int  # wall-clock time of the failure (operational, not used by replay)

    @staticmethod
    def encode_original(raw: bytes) -> str:
        return base64.b64encode(raw).decode("ascii")

    def original(self) -> bytes:
        return base64.b64decode(self.original_b64)
