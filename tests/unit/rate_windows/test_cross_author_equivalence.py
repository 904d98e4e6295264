"""``observe_band`` works pairwise only on the posts that can matter (within twice the window
and twice the distance of the new post). This pins that it gives exactly what the earlier
all-pairs version gave, kept here as the oracle, on random keys crowded with chance collisions,
near-copies, redeliveries, late posts and wall-clock holds."""

import random
from bisect import insort

import pytest

from streams.rate_windows.config import CrossAuthorConfig, WindowConfig
from streams.rate_windows.cross_author import (
    BandEntry,
    BandOutcome,
    BandPost,
    BandState,
    _link,
    observe_band,
)
from streams.rate_windows.fingerprint import first_common_band, hamming


def all_pairs_observe_band(
    state: BandState, entry: BandEntry, cfg: WindowConfig, wall_ms: int | None
) -> tuple[BandState, BandOutcome]:
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
    duplicate = any(p.comment_id == post.comment_id for p in state.posts)
    previous = state.watermark_ms
    late = previous is not None and event_ms < previous - cfg.allowed_lateness_ms
    watermark = event_ms if previous is None else max(previous, event_ms)
    posts = list(state.posts)
    if not duplicate:
        insort(posts, post)
    window_ms = ca.window_s * 1000

    def near(a: BandPost, b: BandPost) -> bool:
        return (
            abs(a.event_time_ms - b.event_time_ms) <= window_ms
            and hamming(a.simhash, b.simhash) <= cfg.near_duplicate_max_distance
        )

    closest: dict[str, BandPost] = {}
    for p in posts:
        gap = abs(p.event_time_ms - event_ms)
        if not near(p, post):
            continue
        best = closest.get(p.author_key)
        if best is None or gap < abs(best.event_time_ms - event_ms):
            closest[p.author_key] = p
    closest[post.author_key] = post
    members: list[BandPost] = []
    if not duplicate:
        for subject in posts:
            if not near(subject, post):
                continue
            around = [p for p in posts if near(p, subject)]
            if len({p.author_key for p in around}) < ca.min_authors:
                continue
            before = {p.author_key for p in around if p.comment_id != post.comment_id}
            if subject.comment_id == post.comment_id or len(before) < ca.min_authors:
                members.append(subject)
    links = tuple(
        _link(post, other)
        for author, other in sorted(closest.items())
        if author != post.author_key
        and first_common_band(post.simhash, other.simhash, ca.bands) == entry.band
    )
    hold_ms = cfg.allowed_lateness_ms + window_ms
    recent_ms = None if wall_ms is None else wall_ms - hold_ms
    kept = tuple(
        p
        for p in posts
        if p.event_time_ms >= watermark - hold_ms
        or (recent_ms is not None and p.seen_ms >= recent_ms)
    )[-ca.max_posts_per_band :]
    return BandState(watermark, kept), BandOutcome(tuple(members), links, late, duplicate)


def flip(simhash: int, bits: int, rng: random.Random) -> int:
    for bit in rng.sample(range(64), bits):
        simhash ^= 1 << bit
    return simhash


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("live", [False, True])
def test_observe_band_matches_the_all_pairs_version(seed: int, live: bool) -> None:
    rng = random.Random(seed)
    cfg = WindowConfig(
        cross_author=CrossAuthorConfig(
            window_s=rng.choice((60, 600)),
            min_authors=rng.choice((2, 3, 4)),
            max_posts_per_band=rng.choice((16, 256)),
        )
    )
    templates = [rng.getrandbits(64) for _ in range(4)]
    state = expected = BandState()
    seen: list[BandEntry] = []
    t = 1_000_000_000
    members = links = 0
    for n in range(600):
        t += rng.randint(0, 10_000)
        if seen and rng.random() < 0.05:
            entry = rng.choice(seen)  # a redelivery
        else:
            if rng.random() < 0.6:
                simhash = flip(rng.choice(templates), rng.randint(0, 14), rng)
            else:
                simhash = rng.getrandbits(64)  # a chance collision on this key
            when = t - rng.choice((0, 0, 0, rng.randint(0, 900_000)))  # some arrive late
            entry = BandEntry(
                band=3,
                value=7,
                author_key=f"a{rng.randint(0, 30)}",
                comment_id=f"c{n}",
                event_time_ms=when,
                simhash=simhash,
                exact=simhash & 0xFF,
                source=f"raw[0]@{n}",
            )
            seen.append(entry)
        wall = t + rng.randint(0, 5_000) if live else None
        state, outcome = observe_band(state, entry, cfg, wall_ms=wall)
        expected, want = all_pairs_observe_band(expected, entry, cfg, wall)
        assert (state, outcome) == (expected, want), f"entry {n}"
        members += len(outcome.members)
        links += len(outcome.links)
    # The streams exercise the interesting paths, not only empty outcomes.
    assert members > 0 and links > 0
