"""The side branches' input: one record per comment for both the cross-author band index and
the linking index, on one topic of one partition (``streams.topics.SIDE``)."""

from __future__ import annotations

from typing import Any

from schemas.codec import Record
from schemas.comment import Comment


class SideRecord(Record, frozen=True):
    """What one comment gives the side branches: its band entries for cross-author campaign
    detection, and the comment itself for the linking index when it has index keys. A comment
    with neither writes no record."""

    bands: tuple[dict[str, Any], ...] = ()  # one per band key: a BandEntry's fields
    comment: Comment | None = None  # the comment, when it has linking index keys
