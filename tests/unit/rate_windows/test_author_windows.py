from collections.abc import Iterable

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.codec import dumps, loads, replace
from schemas.verdict import BehaviourFinding, Verdict
from streams.rate_windows.config import WindowConfig, WindowSpec
from streams.rate_windows.logic import (
    AuthorWindows,
    ObserveStats,
    Position,
    expire,
    observe,
    source_position,
)

from .factory import DISTINCT_TEXTS, HOUR_MS, MINUTE_MS, verdict

DEFAULTS = WindowConfig()
# Threshold 1: every post carries a flooding finding whose count is the window's count.
COUNT_10_MIN = WindowConfig(windows=(WindowSpec(600, flooding=1),), allowed_lateness_s=300)
COUNT_10_MIN_AND_DAY = WindowConfig(
    windows=(WindowSpec(600, flooding=1), WindowSpec(86_400, flooding=1)), allowed_lateness_s=300
)
COPIES = (
    "Save our A&E! Sign the petition now and share with everyone you know",
    "SAVE OUR A&E!!! SIGN THE PETITION NOW AND SHARE WITH EVERYONE YOU KNOW",
    "Save our A&E 😡😡 Sign the petition now and share with everyone you know",
    "save our A & E. sign the petition now and share with everyone you know",
    "Save our A&E! Please sign the petition now and share with everyone you know",
)


def run(
    verdicts: Iterable[Verdict], cfg: WindowConfig, state: AuthorWindows | None = None
) -> tuple[AuthorWindows, list[tuple[BehaviourFinding, ...]], list[ObserveStats]]:
    state = state or AuthorWindows()
    findings, stats = [], []
    for v in verdicts:
        state, found, stat = observe(state, v, cfg)
        findings.append(found)
        stats.append(stat)
    return state, findings, stats


def posts(
    times_ms: Iterable[int], author: str = "a", clauses: tuple[str, ...] = (), first: int = 0
) -> list[Verdict]:
    """One post per time, ids "<author>:<n>" counting from ``first``, all different texts."""
    return [
        verdict(author, f"{author}:{i}", t, DISTINCT_TEXTS[i % len(DISTINCT_TEXTS)], clauses)
        for i, t in enumerate(times_ms, start=first)
    ]


def counts(findings: list[tuple[BehaviourFinding, ...]], window_s: int = 600) -> list[int]:
    return [f.count for found in findings for f in found if f.window_s == window_s]


def kinds(found: tuple[BehaviourFinding, ...]) -> list[tuple[str, int]]:
    return [(f.kind, f.window_s) for f in found]


# --- window edges -------------------------------------------------------------------------


def test_an_event_at_the_end_of_a_window_is_inside_it() -> None:
    _, findings, _ = run(posts([0, 300_000, 599_999]), COUNT_10_MIN)
    assert counts(findings) == [1, 2, 3]
    assert findings[2][0].window_start_ms == 0


def test_an_event_exactly_one_window_later_starts_past_the_first() -> None:
    # Buckets are 60 s: the event at 600 000 ms is judged on buckets [60 000, 660 000).
    _, findings, _ = run(posts([0, 1, 300_000, 600_000]), COUNT_10_MIN)
    assert counts(findings) == [1, 2, 3, 2]
    assert findings[3][0].window_start_ms == 60_000
    assert findings[3][0].comment_ids == ("a:2", "a:3")


# --- event time: out of order, late -------------------------------------------------------


def test_out_of_order_within_lateness_counts_normally() -> None:
    _, findings, stats = run(posts([100_000, 400_000, 200_000, 450_000]), COUNT_10_MIN)
    # The out-of-order post is judged on its own window (it does not see the later post)...
    assert counts(findings) == [1, 2, 2, 4]
    # ...and later posts count it.
    assert findings[3][0].comment_ids == ("a:0", "a:2", "a:1", "a:3")
    assert not any(s.late for s in stats)


def test_lateness_is_measured_from_the_authors_latest_event() -> None:
    watermark = 10 * HOUR_MS
    on_time = watermark - 300_000
    _, _, stats = run(posts([watermark, on_time, on_time - 1]), COUNT_10_MIN)
    assert [s.late for s in stats] == [False, False, True]


def test_a_late_event_still_counts_where_its_buckets_are_kept() -> None:
    # Six minutes behind: late, but its 10-minute buckets are still kept, so it counts.
    watermark = 10 * HOUR_MS
    state, findings, stats = run(posts([watermark, watermark - 6 * MINUTE_MS]), COUNT_10_MIN)
    assert stats[1].late and stats[1].uncounted_windows_s == ()
    assert counts(findings) == [1, 1]  # its own window ends before the newer post
    assert sum(b.posts for b in state.windows[0].buckets) == 2
    _, findings, _ = run(posts([watermark + 1], first=2), COUNT_10_MIN, state)
    assert counts(findings) == [3]


def test_a_very_late_event_counts_in_its_own_day_window_and_is_reported() -> None:
    cfg = COUNT_10_MIN_AND_DAY
    state, findings, stats = run(posts([10 * HOUR_MS, 2 * HOUR_MS]), cfg)
    assert stats[1].late
    # Its 10-minute buckets are long gone: not counted there, and the stats say so.
    assert stats[1].uncounted_windows_s == (600,)
    assert kinds(findings[1]) == [("flooding", 86_400)]
    assert findings[1][0].count == 1  # its own day window ends with its own 2.4 h bucket
    day = next(w for w in state.windows if w.size_s == 86_400)
    assert sum(b.posts for b in day.buckets) == 2
    # A later on-time post sees both in the day window.
    _, findings, _ = run(posts([10 * HOUR_MS + MINUTE_MS], first=2), cfg, state)
    assert counts(findings, 86_400) == [3]


# --- expiry and bounds --------------------------------------------------------------------


def test_state_stays_bounded_over_a_long_stream_and_expires_when_idle() -> None:
    every_5_min = [i * 5 * MINUTE_MS for i in range(10 * 24 * 12)]  # ten days
    state, _, _ = run(posts(every_5_min), DEFAULTS)
    lateness_buckets = {600: 5, 3600: 1, 86_400: 1}
    for w in state.windows:
        assert len(w.buckets) <= DEFAULTS.buckets_per_window + lateness_buckets[w.size_s] + 1
    assert len(state.recent) == DEFAULTS.max_recent_posts
    assert len(state.given) == DEFAULTS.redelivery_memo_posts
    # Every post here carries a flooding finding with ten ids: the memory of what was given
    # is most of it (about 3 kB without).
    assert len(orjson.dumps(state.to_dict())) < 8_000

    last = every_5_min[-1]
    after_an_hour = expire(state, last + 2 * HOUR_MS, DEFAULTS)
    assert [w.size_s for w in after_an_hour.windows] == [86_400]
    assert not after_an_hour.is_empty()
    gone = expire(state, last + 2 * 86_400_000, DEFAULTS)
    assert gone.is_empty()
    assert gone.watermark_ms == last


def test_old_buckets_fall_away_as_the_author_posts_on() -> None:
    state, _, _ = run(posts([0, 11 * MINUTE_MS + 300_000]), COUNT_10_MIN)
    # 0 ms is in no window an on-time event could have any more.
    assert [b.number for b in state.windows[0].buckets] == [16]
    assert [p.comment_id for p in state.recent] == ["a:1"]


# --- behaviours ---------------------------------------------------------------------------


def test_a_flood_trips_at_the_threshold_and_every_post_after_carries_it() -> None:
    every_30_s = [i * 30_000 for i in range(17)]
    _, findings, _ = run(posts(every_30_s), DEFAULTS)
    assert [kinds(f) for f in findings[:14]] == [[]] * 14
    assert kinds(findings[14]) == [("flooding", 600)]
    assert findings[14][0].count == 15 and findings[14][0].threshold == 15
    assert kinds(findings[16]) == [("flooding", 600)] and findings[16][0].count == 17
    # Evidence is bounded to the newest max_evidence posts in the window.
    assert findings[16][0].comment_ids == tuple(f"a:{i}" for i in range(7, 17))


def test_copy_paste_within_ten_minutes_is_spamming() -> None:
    vs = [verdict("a", f"a:{i}", i * 2 * MINUTE_MS, text) for i, text in enumerate(COPIES[:3])]
    _, findings, _ = run(vs, DEFAULTS)
    assert [kinds(f) for f in findings] == [[], [], [("spamming", 600)]]
    assert findings[2][0].comment_ids == ("a:0", "a:1", "a:2")


def test_five_near_copies_in_an_hour_are_spamming() -> None:
    vs = [verdict("a", f"a:{i}", i * 12 * MINUTE_MS, text) for i, text in enumerate(COPIES)]
    _, findings, _ = run(vs, DEFAULTS)
    assert [kinds(f) for f in findings] == [[], [], [], [], [("spamming", 3600)]]
    spam = findings[4][0]
    assert (spam.count, spam.threshold) == (5, 5)
    assert spam.comment_ids == ("a:0", "a:1", "a:2", "a:3", "a:4")


def test_short_replies_repeated_are_not_spamming() -> None:
    vs = [verdict("a", f"a:{i}", i * MINUTE_MS, "Thank you 🙏") for i in range(5)]
    _, findings, _ = run(vs, DEFAULTS)
    assert all(f == () for f in findings)


def test_three_inflammatory_posts_in_an_hour_are_frequent_inflammatory() -> None:
    vs = posts([0, 20 * MINUTE_MS, 40 * MINUTE_MS], clauses=("abusive",))
    vs.append(verdict("a", "a:benign", 45 * MINUTE_MS, DISTINCT_TEXTS[10]))
    vs.append(verdict("a", "a:care", 46 * MINUTE_MS, DISTINCT_TEXTS[11], ("personal_care",)))
    vs.append(verdict("a", "a:hate", 50 * MINUTE_MS, DISTINCT_TEXTS[12], ("hate",)))
    _, findings, _ = run(vs, DEFAULTS)
    assert [kinds(f) for f in findings] == [
        [],
        [],
        [("frequent_inflammatory", 3600)],
        [],  # a benign post is not itself inflammatory: it carries nothing
        [],  # nor is a clause outside inflammatory_clauses
        [("frequent_inflammatory", 3600)],
    ]
    assert findings[2][0].comment_ids == ("a:0", "a:1", "a:2")
    assert findings[5][0].count == 4


def test_five_inflammatory_posts_in_a_day_are_frequent_inflammatory() -> None:
    _, findings, _ = run(
        posts([i * 3 * HOUR_MS for i in range(5)], clauses=("trolling",)), DEFAULTS
    )
    assert [kinds(f) for f in findings] == [[], [], [], [], [("frequent_inflammatory", 86_400)]]


def test_an_ordinary_author_interleaved_with_a_flooder_gets_nothing() -> None:
    flood = posts([i * 20_000 for i in range(30)], author="flooder")
    normal = posts([i * 3 * MINUTE_MS + 7_000 for i in range(3)], author="normal")
    table: dict[str, AuthorWindows] = {}
    found: dict[str, list[BehaviourFinding]] = {"flooder": [], "normal": []}
    for v in sorted(flood + normal, key=lambda v: v.comment.event_time_ms):
        key = v.comment.author_key
        table[key], findings, _ = observe(table.get(key, AuthorWindows()), v, DEFAULTS)
        found[key].extend(findings)
    assert found["normal"] == []
    assert {f.kind for f in found["flooder"]} == {"flooding"}


# --- redelivery, determinism, storage -----------------------------------------------------


def test_a_redelivered_verdict_is_not_counted_twice_and_yields_the_same_findings() -> None:
    vs = posts([0, 20 * MINUTE_MS, 40 * MINUTE_MS], clauses=("abusive",))
    state, findings, _ = run(vs, DEFAULTS)
    again, refound, stats = observe(state, vs[-1], DEFAULTS)
    assert stats.duplicate
    assert again == state
    assert refound == findings[-1]


SPAM_3 = WindowConfig(windows=(WindowSpec(600, spamming=3),))
INFLAMMATORY_2_AND_DAY = WindowConfig(
    windows=(WindowSpec(600, inflammatory=2), WindowSpec(86_400, flooding=2))
)


def numbered(vs: list[Verdict]) -> list[Verdict]:
    """The same verdicts at offsets 0, 1, ... of one partition, as the live stage sees them."""
    return [
        verdict(
            v.comment.author_key,
            v.comment.comment_id,
            v.comment.event_time_ms,
            v.comment.normalised,
            tuple(f.clause for f in v.findings),
            offset=i,
        )
        for i, v in enumerate(vs)
    ]


# (what flows, its config, which one comes again after all of it): each redelivery meets state
# that already counts later posts, which would change its findings if they were derived again.
REDELIVERIES = {
    "flood, more posts after": (posts([0, 1_000, 2_000, 3_000, 4_000]), COUNT_10_MIN, 1),
    "flood, the first post": (posts([0, 1_000, 2_000]), COUNT_10_MIN, 0),
    "out of order, a later post earlier in time": (
        posts([100_000, 400_000, 200_000, 450_000]),
        COUNT_10_MIN,
        1,
    ),
    "its short window gone since": (
        posts([0, 1_000, 2 * HOUR_MS, 3 * HOUR_MS]),
        COUNT_10_MIN_AND_DAY,
        1,
    ),
    "spam copies after it": (
        [verdict("a", f"a:{i}", i * MINUTE_MS, text) for i, text in enumerate(COPIES)],
        SPAM_3,
        2,
    ),
    "inflammatory posts after it": (
        posts([0, 60_000, 120_000, 180_000], clauses=("abusive",)),
        INFLAMMATORY_2_AND_DAY,
        1,
    ),
    "nothing the first time, a flood after": (
        posts([0, *range(HOUR_MS, HOUR_MS + 20_000, 1_000)]),
        WindowConfig(windows=(WindowSpec(86_400, flooding=3),)),
        0,
    ),
}


@pytest.mark.parametrize("with_offsets", [True, False], ids=["offsets", "ids-only"])
@pytest.mark.parametrize(("flow", "cfg", "again"), REDELIVERIES.values(), ids=REDELIVERIES.keys())
def test_a_redelivered_post_gets_the_findings_it_got_the_first_time(
    flow: list[Verdict], cfg: WindowConfig, again: int, with_offsets: bool
) -> None:
    vs = numbered(flow) if with_offsets else flow
    state, findings, _ = run(vs, cfg)
    refound_state, refound, stats = observe(state, vs[again], cfg)
    assert refound == findings[again]
    assert stats.duplicate and not stats.late
    assert refound_state == state  # not counted again
    # And what comes next is judged exactly as if the redelivery had not happened.
    nxt = verdict("a", "a:next", vs[-1].comment.event_time_ms, COPIES[0], offset=len(vs))
    assert observe(refound_state, nxt, cfg)[1] == observe(state, nxt, cfg)[1]


def test_a_redelivery_past_the_memory_is_still_not_counted_twice() -> None:
    # Remembers only the last post's findings and keeps two recent posts: the first post is
    # known again only by its offset.
    cfg = WindowConfig(
        windows=(WindowSpec(600, flooding=1),), redelivery_memo_posts=1, max_recent_posts=2
    )
    vs = numbered(posts([0, 1_000, 2_000, 3_000]))
    state, _, _ = run(vs, cfg)
    again, _, stats = observe(state, vs[0], cfg)
    assert stats.duplicate
    assert sum(b.posts for w in again.windows for b in w.buckets) == 4
    _, findings, _ = observe(again, verdict("a", "a:4", 4_000, COPIES[0], offset=4), cfg)
    assert counts([findings]) == [5]


def test_an_offset_on_another_partition_says_nothing_about_redelivery() -> None:
    cfg = WindowConfig(windows=(WindowSpec(600, flooding=1),), redelivery_memo_posts=1)
    state, _, _ = run(numbered(posts([0, 1_000, 2_000])), cfg)
    elsewhere = replace(
        verdict("a", "a:9", 3_000, COPIES[0]),
        comment=replace(verdict("a", "a:9", 3_000, COPIES[0]).comment, source="other[1]@0"),
    )
    _, findings, stats = observe(state, elsewhere, cfg)
    assert not stats.duplicate
    assert counts([findings]) == [4]


@pytest.mark.parametrize(
    ("source", "position"),
    [
        ("ns.comments.raw[3]@1234", Position("ns.comments.raw[3]", 1234)),
        ("comments.raw[0]@0", Position("comments.raw[0]", 0)),
        ("comments.raw", None),
        ("", None),
        ("comments.raw[0]@", None),
        ("comments.raw@12", None),
        ("comments.raw[0]@-1", None),
    ],
)
def test_source_positions(source: str, position: Position | None) -> None:
    assert source_position(source) == position


def test_what_each_post_was_given_is_bounded() -> None:
    cfg = WindowConfig(windows=(WindowSpec(600, flooding=1),), redelivery_memo_posts=3)
    state, _, _ = run(numbered(posts([0, 1_000, 2_000, 3_000, 4_000])), cfg)
    assert [g.comment_id for g in state.given] == ["a:2", "a:3", "a:4"]
    assert state.counted_to == Position("comments.raw[0]", 4)


def test_a_state_written_before_redeliveries_were_remembered_still_reads() -> None:
    state, _, _ = run(posts([0, 1_000]), COUNT_10_MIN)
    old = {k: v for k, v in state.to_dict().items() if k in ("wm", "w", "r")}
    restored = AuthorWindows.from_dict(old)
    assert restored.given == () and restored.counted_to is None
    assert restored.recent == state.recent


def test_the_same_verdicts_give_the_same_state_bytes_and_findings() -> None:
    vs = posts([i * 40_000 for i in range(40)], clauses=("abusive",))
    first = run(vs, DEFAULTS)
    second = run(vs, DEFAULTS)
    assert dumps(first[0].to_dict()) == dumps(second[0].to_dict())
    assert first[1] == second[1]


def test_a_state_written_under_another_bucket_size_is_not_misread() -> None:
    state, _, _ = run(posts([0, 1_000]), COUNT_10_MIN)
    coarser = WindowConfig(windows=(WindowSpec(600, flooding=1),), buckets_per_window=5)
    _, findings, _ = run(posts([2_000], first=2), coarser, state)
    assert counts(findings) == [1]  # counting restarts rather than mixing bucket numbers


event_times = st.lists(
    st.tuples(st.integers(0, 20 * MINUTE_MS), st.integers(0, 300_000)), min_size=1, max_size=40
)


@settings(max_examples=60, deadline=None)
@given(event_times)
def test_counts_match_a_brute_force_count_for_events_within_lateness(
    steps: list[tuple[int, int]],
) -> None:
    # Each event is at most the allowed lateness behind the latest one, so none is late and
    # every bucket a window needs is still kept: the count must be exact.
    base, times = 0, []
    for advance, behind in steps:
        base += advance
        times.append(base - behind)
    state, findings, stats = run(posts(times), COUNT_10_MIN)
    for i, t in enumerate(times):
        own = t // 60_000
        expected = sum(1 for u in times[: i + 1] if own - 9 <= u // 60_000 <= own)
        assert findings[i][0].count == expected
    assert not any(s.late for s in stats)
    assert list(state.recent) == sorted(state.recent)


@settings(max_examples=40, deadline=None)
@given(event_times, st.sampled_from([(), ("abusive",)]))
def test_state_round_trips_through_json(
    steps: list[tuple[int, int]], clauses: tuple[str, ...]
) -> None:
    times = [sum(a for a, _ in steps[: i + 1]) - b for i, (_, b) in enumerate(steps)]
    state, _, _ = run(posts(times, clauses=clauses), DEFAULTS)
    restored = AuthorWindows.from_dict(loads(dumps(state.to_dict())))
    assert restored == state
    assert dumps(restored.to_dict()) == dumps(state.to_dict())
    # And carries on exactly as the original would.
    nxt = verdict("a", "a:next", max(times), COPIES[0], clauses)
    assert observe(restored, nxt, DEFAULTS) == observe(state, nxt, DEFAULTS)


def test_an_empty_state_round_trips() -> None:
    empty = AuthorWindows()
    assert empty.is_empty()
    assert AuthorWindows.from_dict(loads(dumps(empty.to_dict()))) == empty
