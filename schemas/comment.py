"""The canonical comment, as every stage after normalisation sees it."""

from __future__ import annotations

from schemas.codec import Record

PLATFORMS = ("x", "facebook", "instagram", "linkedin", "youtube")


class Comment(Record, frozen=True):
    """One comment from one platform, with the author pseudonymised.

    Key on ``comments.normalised``: ``author_key``.
    """

    comment_id: str  # "<platform>:<native id>": unique across platforms
    platform: str  # one of PLATFORMS
    author_key: str  # keyed hash of "<platform>:<account id>"; the raw id never leaves ingestion
    author_name: str  # display name as shown publicly (linking compares names)
    author_handle: str  # @handle / vanity name where the platform has one, else ""
    post_id: str  # the post or thread replied to ("" if top-level and unknown)
    post_text: str  # that post's text when the platform gives it, else ""
    event_time_ms: int  # when the author posted (UTC epoch ms): every window and timer runs on it
    text: str  # the original text, kept for evidence and display
    normalised: str  # matching form (see streams.normalise.text)
    lang: str  # BCP-47 tag when the platform gives one, else ""
    source: str  # "topic[partition]@offset" of the raw message this came from
    signals: tuple[str, ...] = ()  # platform-provided hashed signals (device/IP hash), if any
