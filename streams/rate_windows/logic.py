"""Per-author rate windows on event time: flooding, spamming and frequent inflammatory posting.

One ``AuthorWindows`` value per author key is the whole state, meant to live in a Faust table
keyed like ``comments.verdicts``; ``observe`` is a pure function from (state, verdict) to
(new state, behaviour findings, stats).

Counting. Each window of W seconds is ``buckets_per_window`` tumbling buckets of W/n. An event
in bucket k is judged on the n buckets ending with k, so a window spans between W - W/n and W
of event time: a threshold can trip up to one bucket later than an exact sliding window would,
never earlier. Repeats are compared pairwise over a short list of the author's recent posts,
because near-duplicate is not something a counter can hold.

Emission. An event carries a finding for a (kind, window) when the event is itself one of the
things counted (any post for flooding, a near-copy for spamming, an inflammatory post for
frequent_inflammatory) and the count with it is at or over the threshold. So every further
post in a flood carries the finding again.

Redelivery. After a crash, inputs whose offsets were not committed come again, but the state
restored from the changelog may already count them and the posts after them. Findings derived
from that state would differ from the first ones (higher counts, later evidence), and the
actions enforcement builds from them would keep their ids with other content. So the findings
each of the author's latest ``redelivery_memo_posts`` posts got are kept in the state, and a
post seen again gets exactly those back, without touching the state. A post already counted is
never counted again: it is recognised by its comment id (memory, recent posts) or, past those,
by its source offset, because one author's posts reach ``comments.raw`` under one key, so on
one partition in offset order, and an offset at or below the highest counted there is a
redelivery. Only such a deep redelivery (beyond the memory) has its findings derived afresh.

Time. The author's watermark is the latest event time seen. An event more than
``allowed_lateness_s`` behind it is late: it is still counted in every window whose buckets for
it are kept, and ``ObserveStats`` says so (and lists windows where nothing was kept to count
it in) so the agent can meter it. Buckets fall away once no on-time event can need them.
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass
from typing import Any, NamedTuple

from schemas.verdict import BehaviourFinding, Verdict
from streams.rate_windows.config import WindowConfig, WindowSpec
from streams.rate_windows.fingerprint import TextFingerprint, fingerprint, hamming


class Bucket(NamedTuple):
    number: int  # event_time_ms // bucket_ms
    posts: int
    inflammatory: int


class RecentPost(NamedTuple):
    event_time_ms: int
    comment_id: str
    simhash: int | None  # None: too few words to count as a repeated message
    inflammatory: bool


@dataclass(frozen=True, slots=True)
class WindowCounts:
    size_s: int
    bucket_ms: int  # stored so a state written under another bucket size is never misread
    buckets: tuple[Bucket, ...]  # ascending number, never empty buckets


class Given(NamedTuple):
    """What one post was given, kept so a redelivery of it gets the same answer."""

    comment_id: str
    findings: tuple[BehaviourFinding, ...]


class Position(NamedTuple):
    """Where an input sits in ``comments.raw``: ``topic[partition]`` and offset."""

    partition: str
    offset: int


@dataclass(frozen=True, slots=True)
class AuthorWindows:
    """Everything the stage remembers about one author."""

    watermark_ms: int | None = None  # latest event time seen; None before the first post
    windows: tuple[WindowCounts, ...] = ()  # only windows with live buckets
    recent: tuple[RecentPost, ...] = ()  # ascending (event time, comment id), newest kept
    given: tuple[Given, ...] = ()  # in the order observed, newest last
    counted_to: Position | None = None  # the highest source position counted

    def is_empty(self) -> bool:
        """Nothing left to count against: the table can delete the author's key."""
        return not self.windows and not self.recent

    def to_dict(self) -> dict[str, Any]:
        # Short keys and positional rows: this is stored once per author, millions of times.
        return {
            "wm": self.watermark_ms,
            "w": [[w.size_s, w.bucket_ms, [list(b) for b in w.buckets]] for w in self.windows],
            "r": [
                [p.event_time_ms, p.comment_id, p.simhash, int(p.inflammatory)] for p in self.recent
            ],
            **_given_rows(self.given),
            "c": list(self.counted_to) if self.counted_to is not None else None,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AuthorWindows:
        # "g" and "c" are absent from states written before redeliveries were remembered.
        counted_to = d.get("c")
        return cls(
            watermark_ms=d["wm"],
            windows=tuple(
                WindowCounts(size_s, bucket_ms, tuple(Bucket(*b) for b in buckets))
                for size_s, bucket_ms, buckets in d["w"]
            ),
            recent=tuple(RecentPost(t, cid, sh, bool(inf)) for t, cid, sh, inf in d["r"]),
            given=_given_of(d.get("gi", ()), d.get("g", ())),
            counted_to=Position(*counted_to) if counted_to is not None else None,
        )


@dataclass(frozen=True, slots=True)
class ObserveStats:
    late: bool  # more than allowed lateness behind the author's watermark (never on a redelivery)
    duplicate: bool  # already counted (a redelivery): not counted again
    uncounted_windows_s: tuple[int, ...]  # windows whose buckets for this event had expired
    fingerprint: TextFingerprint  # for the cross-author fan-out, so the text is hashed once


def is_inflammatory(verdict: Verdict, cfg: WindowConfig) -> bool:
    return any(f.clause in cfg.inflammatory_clauses for f in verdict.findings)


def observe(
    state: AuthorWindows, verdict: Verdict, cfg: WindowConfig
) -> tuple[AuthorWindows, tuple[BehaviourFinding, ...], ObserveStats]:
    comment = verdict.comment
    event_ms = comment.event_time_ms
    fp = fingerprint(comment.normalised)
    given = next((g for g in state.given if g.comment_id == comment.comment_id), None)
    if given is not None:
        # A redelivery: the state already counts this post and maybe later ones, so only the
        # answer it got the first time is the answer as of this post.
        return state, given.findings, ObserveStats(False, True, (), fp)
    post = RecentPost(
        event_ms,
        comment.comment_id,
        fp.simhash if fp.tokens >= cfg.spamming_min_tokens else None,
        is_inflammatory(verdict, cfg),
    )
    position = source_position(comment.source)
    duplicate = _counted_before(state.counted_to, position) or any(
        p.comment_id == post.comment_id for p in state.recent
    )
    previous = state.watermark_ms
    late = previous is not None and event_ms < previous - cfg.allowed_lateness_ms
    watermark = event_ms if previous is None else max(previous, event_ms)
    # Judged against the untrimmed list: the event itself is always a candidate, even when it
    # is too old to be kept.
    recent = state.recent if duplicate else _with_post(state.recent, post)

    windows: list[WindowCounts] = []
    findings: list[BehaviourFinding] = []
    uncounted: list[int] = []
    oldest_kept_ms = watermark
    for spec, bucket_ms in cfg.bucket_sizes:
        first_kept = _first_kept_bucket(watermark, spec.size_s, bucket_ms, cfg)
        oldest_kept_ms = min(oldest_kept_ms, first_kept * bucket_ms)
        own = event_ms // bucket_ms
        buckets = _buckets_of(state, spec.size_s, bucket_ms)
        if own < first_kept:
            uncounted.append(spec.size_s)
        else:
            if not duplicate:
                buckets = _counted(buckets, own, post.inflammatory)
            findings.extend(_findings(spec, bucket_ms, own, buckets, post, recent, cfg))
        buckets = _from(buckets, first_kept)
        if buckets:
            windows.append(WindowCounts(spec.size_s, bucket_ms, buckets))

    kept = _trimmed(recent, oldest_kept_ms, cfg)
    found = tuple(findings)
    new_state = AuthorWindows(
        watermark,
        tuple(windows),
        kept,
        (*state.given, Given(post.comment_id, found))[-cfg.redelivery_memo_posts :],
        _furthest(state.counted_to, position),
    )
    return new_state, found, ObserveStats(late, duplicate, tuple(uncounted), fp)


def expire(state: AuthorWindows, now_ms: int, cfg: WindowConfig) -> AuthorWindows:
    """Drop what no event on time at ``now_ms`` could count against; for idle authors.

    ``now_ms`` is event time (the partition's watermark), never the wall clock. The author's
    own watermark is kept, so lateness is still judged against what they last posted.
    """
    horizon = now_ms if state.watermark_ms is None else max(state.watermark_ms, now_ms)
    windows = []
    for w in state.windows:
        buckets = _from(w.buckets, _first_kept_bucket(horizon, w.size_s, w.bucket_ms, cfg))
        if buckets:
            windows.append(WindowCounts(w.size_s, w.bucket_ms, buckets))
    oldest_kept_ms = min(
        _first_kept_bucket(horizon, spec.size_s, bucket_ms, cfg) * bucket_ms
        for spec, bucket_ms in cfg.bucket_sizes
    )
    kept = _trimmed(state.recent, oldest_kept_ms, cfg)
    return AuthorWindows(state.watermark_ms, tuple(windows), kept, state.given, state.counted_to)


def source_position(source: str) -> Position | None:
    """``topic[partition]@offset`` as stages name an input; None for anything else."""
    where, at, offset = source.rpartition("@")
    if not at or not where.endswith("]") or not offset.isdigit():
        return None
    return Position(where, int(offset))


def _counted_before(counted_to: Position | None, position: Position | None) -> bool:
    # Offsets only order inputs within one partition; from elsewhere nothing can be told.
    return (
        counted_to is not None
        and position is not None
        and position.partition == counted_to.partition
        and position.offset <= counted_to.offset
    )


def _furthest(counted_to: Position | None, position: Position | None) -> Position | None:
    if position is None:
        return counted_to
    if counted_to is None or position.partition != counted_to.partition:
        return position
    return max(counted_to, position, key=lambda p: p.offset)


def _first_kept_bucket(watermark_ms: int, size_s: int, bucket_ms: int, cfg: WindowConfig) -> int:
    # The oldest bucket in the window of the oldest event that is still on time.
    buckets_per_window = size_s * 1000 // bucket_ms
    return (watermark_ms - cfg.allowed_lateness_ms) // bucket_ms - (buckets_per_window - 1)


def _buckets_of(state: AuthorWindows, size_s: int, bucket_ms: int) -> tuple[Bucket, ...]:
    for w in state.windows:
        if w.size_s == size_s and w.bucket_ms == bucket_ms:
            return w.buckets
    # New window, or the bucket size changed with the policy: start counting afresh.
    return ()


def _from(buckets: tuple[Bucket, ...], first_kept: int) -> tuple[Bucket, ...]:
    if not buckets or buckets[0].number >= first_kept:
        return buckets  # the usual case: nothing has aged out since the last post
    return tuple(b for b in buckets if b.number >= first_kept)


def _counted(buckets: tuple[Bucket, ...], own: int, inflammatory: bool) -> tuple[Bucket, ...]:
    add = int(inflammatory)
    if not buckets or buckets[-1].number < own:
        return (*buckets, Bucket(own, 1, add))  # the usual case: a post newer than the last
    for i, b in enumerate(buckets):
        if b.number == own:
            bumped = Bucket(own, b.posts + 1, b.inflammatory + add)
            return (*buckets[:i], bumped, *buckets[i + 1 :])
        if b.number > own:
            return (*buckets[:i], Bucket(own, 1, add), *buckets[i:])
    return (*buckets, Bucket(own, 1, add))


def _with_post(recent: tuple[RecentPost, ...], post: RecentPost) -> tuple[RecentPost, ...]:
    if not recent or recent[-1] < post:
        return (*recent, post)
    ordered = list(recent)
    insort(ordered, post)
    return tuple(ordered)


def _trimmed(
    recent: tuple[RecentPost, ...], oldest_kept_ms: int, cfg: WindowConfig
) -> tuple[RecentPost, ...]:
    if recent and recent[0].event_time_ms < oldest_kept_ms:
        recent = tuple(p for p in recent if p.event_time_ms >= oldest_kept_ms)
    return recent[-cfg.max_recent_posts :]


def _findings(
    spec: WindowSpec,
    bucket_ms: int,
    own: int,
    buckets: tuple[Bucket, ...],
    post: RecentPost,
    recent: tuple[RecentPost, ...],
    cfg: WindowConfig,
) -> list[BehaviourFinding]:
    first = own - cfg.buckets_per_window + 1
    start_ms, end_ms = first * bucket_ms, (own + 1) * bucket_ms
    out = []
    if spec.flooding is not None:
        posts = sum(b.posts for b in buckets if first <= b.number <= own)
        if posts >= spec.flooding:
            in_window = [p for p in recent if start_ms <= p.event_time_ms < end_ms]
            out.append(_finding("flooding", spec, posts, spec.flooding, start_ms, in_window, cfg))
    if spec.spamming is not None and post.simhash is not None:
        sh = post.simhash
        copies = [
            p
            for p in recent
            if start_ms <= p.event_time_ms < end_ms
            and p.simhash is not None
            and hamming(p.simhash, sh) <= cfg.near_duplicate_max_distance
        ]
        if len(copies) >= spec.spamming:
            out.append(
                _finding("spamming", spec, len(copies), spec.spamming, start_ms, copies, cfg)
            )
    if spec.inflammatory is not None and post.inflammatory:
        count = sum(b.inflammatory for b in buckets if first <= b.number <= own)
        if count >= spec.inflammatory:
            hits = [p for p in recent if p.inflammatory and start_ms <= p.event_time_ms < end_ms]
            out.append(
                _finding(
                    "frequent_inflammatory", spec, count, spec.inflammatory, start_ms, hits, cfg
                )
            )
    return out


def _finding(
    kind: str,
    spec: WindowSpec,
    count: int,
    threshold: int,
    start_ms: int,
    evidence: list[RecentPost],
    cfg: WindowConfig,
) -> BehaviourFinding:
    return BehaviourFinding(
        kind=kind,
        window_s=spec.size_s,
        count=count,
        threshold=threshold,
        window_start_ms=start_ms,
        comment_ids=tuple(p.comment_id for p in evidence[-cfg.max_evidence :]),
    )


def _given_rows(given: tuple[Given, ...]) -> dict[str, Any]:
    # In a flood each post's findings name mostly the same comments as the last post's, so ids
    # are stored once ("gi") and findings point into that list: a quarter of the bytes.
    index: dict[str, int] = {}

    def at(comment_id: str) -> int:
        return index.setdefault(comment_id, len(index))

    def row(f: BehaviourFinding) -> list[Any]:
        refs = [at(c) for c in f.comment_ids]
        return [f.kind, f.window_s, f.count, f.threshold, f.window_start_ms, refs]

    rows = [[at(g.comment_id), [row(f) for f in g.findings]] for g in given]
    return {"gi": list(index), "g": rows}


def _given_of(ids: list[str], rows: list[list[Any]]) -> tuple[Given, ...]:
    def finding(
        kind: str, window_s: int, count: int, threshold: int, start_ms: int, refs: list[int]
    ) -> BehaviourFinding:
        return BehaviourFinding(
            kind, window_s, count, threshold, start_ms, tuple(ids[i] for i in refs)
        )

    return tuple(Given(ids[at], tuple(finding(*f) for f in findings)) for at, findings in rows)
