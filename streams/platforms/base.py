"""What every platform's payload reader extracts, before pseudonymisation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from streams.normalise.envelope import JsonObject


@dataclass(frozen=True, slots=True)
class PlatformComment:
    """One comment in platform-neutral form. It still holds the raw account id, so it never
    leaves ingestion and is kept out of ``repr`` (and so out of any log line or traceback)."""

    native_id: str  # the platform's id for the comment, unique within that platform
    account_id: str = field(repr=False)  # the platform's id for the author
    author_name: str
    author_handle: str  # without a leading "@"
    post_id: str  # the board's post or video replied to, "" when the payload does not say
    post_text: str  # that post's text when the payload carries it, else ""
    event_time_ms: int
    text: str = field(repr=False)
    lang: str
    # The top-level comment this one answers, where the platform threads replies under it
    # (YouTube replies); "" for a top-level comment. Effectors reply under the thread.
    thread_id: str = ""


# A reader takes the envelope's payload and raises MissingField / InvalidField.
Reader = Callable[[JsonObject], PlatformComment]


# Codes that say "no language identified" (X adds its own q-codes for media-only, very
# short, hashtag-only and mention-only posts): downstream reads "" as unknown.
_NO_LANGUAGE = frozenset({"und", "zxx", "qme", "qst", "qht", "qam"})


def language_tag(value: str) -> str:
    return "" if value in _NO_LANGUAGE else value


@dataclass(frozen=True, slots=True)
class Envelope:
    """One comment as the connector puts it on ``comments.raw`` (platform, payload, context)."""

    platform: str
    payload: dict[str, Any]
    context: dict[str, Any]

    def document(self) -> dict[str, Any]:
        return {"platform": self.platform, "payload": self.payload, "context": self.context}


@dataclass(frozen=True, slots=True)
class Poll:
    """One round of a poller: the comments found, the cursor to save once they are produced,
    and how long the platform asked us to wait before the next round (None: the interval)."""

    envelopes: list[Envelope]
    cursor: dict[str, Any]
    wait_s: float | None = None
