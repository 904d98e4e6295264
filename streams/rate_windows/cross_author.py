"""Cross-author near-duplicates: the same text from many accounts within a short time.

Logic for a stage keyed by fingerprint band rather than by author. The author-keyed stage fans
each comment out as one ``BandEntry`` per slice of its SimHash (``band_entries``), keyed by
``BandEntry.key``; near-copies share at least one slice, so they meet on the same key, and each
key's state (``BandState``) only ever holds texts that agree on that slice.

A comment is part of a campaign (``cross_author_spamming``) when, on one key, near-copies from at
least ``min_authors`` distinct accounts (its own included) lie within ``window_s`` of it, before
or after, in event time. That is a property of the set of posts on the key, not of the order
they arrived in, and it only ever turns from false to true as copies arrive. ``observe_band``
reports each comment the moment it turns true on a key (``BandOutcome.members``), whichever
copy arrived last; the notice built from it (``streams.rate_windows.campaign``) depends on that
comment and the policy alone, so every key, every arrival order and every replay says the same
bytes about it. Why not wait for the window to close on a watermark instead: see
docs/replay.md, "Campaign notices".

A key keeps a post while an on-time copy could still meet it in event time, and, live, also
for that long in wall-clock time after it arrived: partitions interleave, so a key's event
time can jump hours ahead of copies still on their way (measured: 7 hours of event time on a
2,000-comment burst), and a post dropped on event time alone would miss them.

Each pair of near-copies from two accounts is also reported once as ``LinkEvidence`` for the
sock-puppet stage: only from the lowest-numbered slice the two agree on, which every key can
work out alone.

Texts under ``min_tokens`` words are never fanned out: "thank you" from many people is
gratitude, not a campaign.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, NamedTuple

from schemas.codec import Record
from streams.rate_windows.config import WindowConfig
from streams.rate_windows.fingerprint import (
    TextFingerprint,
    band_values,
    first_common_band,
    hamming,
)


class BandEntry(Record, frozen=True):
    """One comment as seen by one fingerprint slice: the fan-out message."""

    band: int  # which slice of the SimHash
    value: int  # that slice's bits
    author_key: str
    comment_id: str
    event_time_ms: int
    simhash: int
    exact: int
    source: str = ""  # the comment's own topic[partition]@offset on comments.raw

    @property
    def key(self) -> str:
        """The message key: slice number and bits, e.g. "2:9f3c"."""
        return f"{self.band}:{self.value:x}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "band": self.band,
            "value": self.value,
            "author_key": self.author_key,
            "comment_id": self.comment_id,
            "event_time_ms": self.event_time_ms,
            "simhash": self.simhash,
            "exact": self.exact,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class LinkEvidence:
    """Two accounts posted near-copies close in time: one weighted edge for the linking stage."""

    author_a: str  # the pair in sorted order, so the same pair always reads the same
    author_b: str
    comment_a: str  # author_a's comment
    comment_b: str
    distance: int  # SimHash bits apart (0 is not proof of identical text: see exact)
    exact: bool  # the folded texts are identical
    gap_ms: int  # event-time gap between the two posts

    def to_dict(self) -> dict[str, Any]:
        return {
            "author_a": self.author_a,
            "author_b": self.author_b,
            "comment_a": self.comment_a,
            "comment_b": self.comment_b,
            "distance": self.distance,
            "exact": self.exact,
            "gap_ms": self.gap_ms,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LinkEvidence:
        return cls(**d)


class BandPost(NamedTuple):
    event_time_ms: int
    comment_id: str
    author_key: str
    simhash: int
    exact: int
    source: str = ""  # the comment's offset on comments.raw, which its notice names
    seen_ms: int = 0  # wall-clock ms it reached this key (live only; 0 in replay)


# Field readers for the passes over every post on a key: the hot path once keys fill up
# (docs/benchmarks.md, "Cost per comment as state accumulates").
_EVENT_TIME_OF = attrgetter("event_time_ms")
_COMMENT_ID = attrgetter("comment_id")


@dataclass(frozen=True, slots=True)
class BandState:
    """Everything one band key remembers: its recent posts, oldest first."""

    watermark_ms: int | None = None
    posts: tuple[BandPost, ...] = ()

    def is_empty(self) -> bool:
        return not self.posts

    def to_dict(self) -> dict[str, Any]:
        return {"wm": self.watermark_ms, "p": list(map(list, self.posts))}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BandState:
        return cls(d["wm"], tuple(map(BandPost._make, d["p"])))


@dataclass(frozen=True, slots=True)
class BandOutcome:
    # Comments on this key that became part of a campaign with this entry: the entry's own
    # comment and/or earlier copies it completed, in post order.
    members: tuple[BandPost, ...]
    links: tuple[LinkEvidence, ...]  # one per other author with a near-copy in the window
    late: bool  # more than allowed lateness behind this key's watermark
    duplicate: bool  # comment already in this key's state (a redelivery); not stored twice


def band_entries(
    fp: TextFingerprint,
    author_key: str,
    comment_id: str,
    event_time_ms: int,
    cfg: WindowConfig,
    *,
    source: str = "",
) -> tuple[BandEntry, ...]:
    """The messages to fan out for one comment; none for texts too short to be a campaign."""
    if fp.tokens < cfg.cross_author.min_tokens:
        return ()
    return tuple(
        BandEntry(band, value, author_key, comment_id, event_time_ms, fp.simhash, fp.exact, source)
        for band, value in enumerate(band_values(fp.simhash, cfg.cross_author.bands))
    )


def observe_band(
    state: BandState, entry: BandEntry, cfg: WindowConfig, *, wall_ms: int | None = None
) -> tuple[BandState, BandOutcome]:
    """Store the entry on its key; say which comments it made campaign members, and which
    accounts it links.

    ``wall_ms``: the wall clock, live only; posts are then also kept for the allowed lateness
    plus the window in wall-clock time (see the module docstring). Replay passes None: its
    input is in record-timestamp order, so event time alone keeps what it needs.
    """
    ca = cfg.cross_author
    event_ms = entry.event_time_ms
    post = BandPost(
        event_ms,
        entry.comment_id,
        entry.author_key,
        entry.simhash,
        entry.exact,
        entry.source,
        0 if wall_ms is None else wall_ms,
    )
    duplicate = post.comment_id in map(_COMMENT_ID, state.posts)
    previous = state.watermark_ms
    late = previous is not None and event_ms < previous - cfg.allowed_lateness_ms
    watermark = event_ms if previous is None else max(previous, event_ms)
    posts = list(state.posts)
    if not duplicate:
        insort(posts, post)

    window_ms = ca.window_s * 1000
    max_distance = cfg.near_duplicate_max_distance
    # Most posts on a key merely share 64/bands bits by chance. Only posts within twice the
    # window and twice the distance of this one can be near anything near it (both measures
    # obey the triangle inequality), so the pairwise work below runs on those few, in post
    # order, and gives exactly what it would give on every post.
    simhash, reach_bits, reach_ms = post.simhash, 2 * max_distance, 2 * window_ms
    similar = [p for p in posts if (p.simhash ^ simhash).bit_count() <= reach_bits]
    region = [p for p in similar if abs(p.event_time_ms - event_ms) <= reach_ms]
    neighbours = [
        p
        for p in region
        if abs(p.event_time_ms - event_ms) <= window_ms
        and (p.simhash ^ simhash).bit_count() <= max_distance
    ]
    # Per author, the near-copy closest in time: one link each.
    closest: dict[str, BandPost] = {}
    for p in neighbours:
        gap = abs(p.event_time_ms - event_ms)
        best = closest.get(p.author_key)
        if best is None or gap < abs(best.event_time_ms - event_ms):
            closest[p.author_key] = p
    closest[post.author_key] = post

    members = () if duplicate else _new_members(region, neighbours, post, cfg)
    links = tuple(
        _link(post, other)
        for author, other in sorted(closest.items())
        if author != post.author_key
        and first_common_band(post.simhash, other.simhash, ca.bands) == entry.band
    )

    # Oldest a neighbour of an on-time event can be (and, live, anything that arrived within
    # that long in wall-clock time); newest max_posts_per_band kept.
    hold_ms = cfg.allowed_lateness_ms + window_ms
    oldest_ms = watermark - hold_ms
    recent_ms = None if wall_ms is None else wall_ms - hold_ms
    # Posts are in event-time order: the on-time ones are a suffix, found by bisection, and
    # only the older prefix needs its wall-clock arrival looked at.
    first_on_time = bisect_left(posts, oldest_ms, key=_EVENT_TIME_OF)
    held = (
        [p for p in posts[:first_on_time] if p.seen_ms >= recent_ms]
        if recent_ms is not None and first_on_time
        else []
    )
    kept = (*held, *posts[first_on_time:])[-ca.max_posts_per_band :]
    return BandState(watermark, kept), BandOutcome(members, links, late, duplicate)


def _new_members(
    posts: list[BandPost], subjects: list[BandPost], post: BandPost, cfg: WindowConfig
) -> tuple[BandPost, ...]:
    """Posts whose campaign test ``post`` just turned true: the count of distinct accounts with
    a near-copy within the window, which only grows as copies arrive, reached ``min_authors``
    with ``post`` and not without it. So each comment is reported once per key it reaches.

    ``subjects``: the posts near ``post`` (itself included), in post order; ``posts`` need only
    hold every post near one of them."""
    window_ms = cfg.cross_author.window_s * 1000
    max_distance = cfg.near_duplicate_max_distance
    need = cfg.cross_author.min_authors

    def near(a: BandPost, b: BandPost) -> bool:
        return (
            abs(a.event_time_ms - b.event_time_ms) <= window_ms
            and (a.simhash ^ b.simhash).bit_count() <= max_distance
        )

    if len(subjects) <= 1:
        # Nothing near this post but itself, and min_authors is at least 2: no count changed.
        return ()
    members = []
    for subject in subjects:
        around = [p for p in posts if near(p, subject)]
        if len({p.author_key for p in around}) < need:
            continue
        before = {p.author_key for p in around if p.comment_id != post.comment_id}
        if subject.comment_id == post.comment_id or len(before) < need:
            members.append(subject)
    return tuple(members)


def expire_band(state: BandState, now_ms: int, cfg: WindowConfig) -> BandState:
    """Drop posts no on-time event at ``now_ms`` (event time) could match; for idle keys."""
    horizon = now_ms if state.watermark_ms is None else max(state.watermark_ms, now_ms)
    oldest_ms = horizon - cfg.allowed_lateness_ms - cfg.cross_author.window_s * 1000
    return BandState(
        state.watermark_ms, tuple(p for p in state.posts if p.event_time_ms >= oldest_ms)
    )


def _link(post: BandPost, other: BandPost) -> LinkEvidence:
    a, b = sorted((post, other), key=lambda p: p.author_key)
    return LinkEvidence(
        author_a=a.author_key,
        author_b=b.author_key,
        comment_a=a.comment_id,
        comment_b=b.comment_id,
        distance=hamming(a.simhash, b.simhash),
        exact=a.exact == b.exact,
        gap_ms=abs(a.event_time_ms - b.event_time_ms),
    )
