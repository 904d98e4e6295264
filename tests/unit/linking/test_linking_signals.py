"""Signal extractors: what each kind of evidence fires on, and what it ignores."""

from __future__ import annotations

import itertools
from collections import Counter

from schemas.comment import Comment
from schemas.identity import LinkSignal
from streams.linking.config import LinkingConfig
from streams.linking.signals import (
    KeyState,
    StyleProfile,
    display_name_similarity,
    handle_similarity,
    index_keys,
    near_duplicate_signal,
    observe_key,
    style_signal,
    style_similarity,
)
from streams.rate_windows.config import WindowConfig
from streams.rate_windows.cross_author import BandState, LinkEvidence, band_entries, observe_band
from streams.rate_windows.fingerprint import fingerprint

from .linking_builders import DAY_MS, MINUTE_MS, SECOND_MS, T0, comment

CFG = LinkingConfig()
A, B, C = "author-a", "author-b", "author-c"


def feed(key: str, comments: list[Comment]) -> tuple[KeyState, list[LinkSignal]]:
    state = KeyState()
    found: list[LinkSignal] = []
    for c in comments:
        state, signals = observe_key(state, key, c, CFG)
        found.extend(signals)
    return state, found


def key_of(prefix: str, c: Comment) -> str:
    return next(k for k in index_keys(c) if k.startswith(prefix))


# --- index keys ----------------------------------------------------------------------------


def test_index_keys_cover_each_extractor_and_hide_names() -> None:
    c = comment(A, "x:1", name="Gareth Jones", handle="@NHS_Truth_77", signals=("sha256:d1",))
    keys = index_keys(c)
    assert [k.split(":")[0] for k in keys] == ["handle", "name", "post", "signal"]
    assert "signal:sha256:d1" in keys and "post:x:post-1" in keys
    # Names and handles are personal data: keys carry digests, never the names themselves.
    assert not any("gareth" in k.lower() or "truth" in k.lower() for k in keys)


def test_handles_differing_only_in_digits_and_punctuation_share_a_key() -> None:
    one = comment(A, "x:1", handle="nhs_truth_77")
    two = comment(B, "x:2", handle="NHSTruth78")
    assert key_of("handle", one) == key_of("handle", two)


# --- names ---------------------------------------------------------------------------------


def test_a_persona_stem_with_different_digits_is_a_full_handle_match() -> None:
    strength, why = handle_similarity("nhs_truth_77", "Gareth Jones", "nhs_truth_78", "Sian Evans")
    assert strength == 1.0
    assert "stem" in why and "truth" not in why  # says what kind of match, not what matched
    assert handle_similarity("NHS.Truth", "G J", "nhs_truth", "S E")[0] == 1.0


def test_handles_spelt_from_the_owners_names_are_a_weaker_match() -> None:
    # Two Dave Smiths pick "dave_smith" and "davesmith1" on their own.
    strength, why = handle_similarity("dave_smith", "Dave Smith", "davesmith1", "Dave Smith")
    assert strength == 0.5
    assert "from their names" in why


def test_unrelated_or_missing_handles_are_no_match() -> None:
    assert handle_similarity("rhondda_mam", "Ceri", "valleyrunner", "Ceri") == (0.0, "")
    assert handle_similarity("", "Ceri", "valleyrunner", "Ceri") == (0.0, "")


def test_identical_common_names_alone_are_weak_and_unrelated_names_are_nothing() -> None:
    assert display_name_similarity("", "John Smith", "", "john  smith") == (
        0.5,
        "identical display names",
    )
    assert display_name_similarity("", "John Smith", "", "Sian Evans") == (0.0, "")


def test_identical_names_with_handles_a_typo_apart_are_a_stronger_match() -> None:
    strength, why = display_name_similarity("sarahjones", "S J", "sarajones", "S J")
    assert strength == 0.8 and "1 edit(s) apart" in why
    # Handles on one stem are the handle key's fact: not counted again under the name key.
    assert display_name_similarity("sj_1", "S J", "sj_2", "S J")[0] == 0.5


def test_a_name_key_raises_one_signal_per_pair_however_often_they_post() -> None:
    posts = [
        comment(A, "x:1", handle="nhs_truth_77"),
        comment(B, "x:2", handle="nhs_truth_78", at_ms=T0 + MINUTE_MS),
        comment(A, "x:3", handle="nhs_truth_77", at_ms=T0 + 2 * MINUTE_MS),
        comment(B, "x:4", handle="nhs_truth_78", at_ms=T0 + 3 * MINUTE_MS),
    ]
    _, found = feed(key_of("handle", posts[0]), posts)
    assert [(s.kind, s.author_a, s.author_b, s.weight) for s in found] == [("name", A, B, 1.0)]
    assert found[0].source_ids == ("x:1", "x:2")


def test_a_name_shared_by_too_many_accounts_goes_quiet() -> None:
    sarahs = [
        comment(f"author-{i:02d}", f"x:{i}", name="Sarah Jones", at_ms=T0 + i * MINUTE_MS)
        for i in range(CFG.max_accounts_per_key + 3)
    ]
    state, found = feed(key_of("name", sarahs[0]), sarahs)
    assert state.saturated and state.entries == ()  # names not kept for nothing
    before = len(found)
    late = comment("author-zz", "x:99", name="Sarah Jones", at_ms=T0 + DAY_MS)
    assert observe_key(state, key_of("name", late), late, CFG) == (state, ())
    assert before == sum(range(CFG.max_accounts_per_key))  # only until it was seen as common


# --- shared platform signals ---------------------------------------------------------------


def test_a_shared_device_hash_is_observed_on_every_comment_from_it() -> None:
    posts = [
        comment(A, "x:1", signals=("sha256:d1",)),
        comment(B, "x:2", signals=("sha256:d1",), at_ms=T0 + MINUTE_MS),
        comment(A, "x:3", signals=("sha256:d1",), at_ms=T0 + DAY_MS),
        comment(C, "x:4", signals=("sha256:d1",), at_ms=T0 + 2 * DAY_MS),
    ]
    _, found = feed("signal:sha256:d1", posts)
    pairs = [(s.author_a, s.author_b) for s in found]
    assert pairs[:2] == [(A, B), (A, B)] and sorted(pairs[2:]) == [(A, C), (B, C)]
    assert all(s.kind == "shared_signal" and s.weight == 1.0 for s in found)
    assert "3 accounts" in found[-1].evidence and "sha256" not in found[-1].evidence


def test_a_public_network_hash_goes_quiet_once_seen_on_too_many_accounts() -> None:
    many = [
        comment(f"author-{i:02d}", f"x:{i}", signals=("sha256:wifi",), at_ms=T0 + i * SECOND_MS)
        for i in range(20)
    ]
    state, found = feed("signal:sha256:wifi", many)
    assert state.saturated
    assert {s.author_b for s in found} <= {
        f"author-{i:02d}" for i in range(CFG.max_accounts_per_key)
    }


def test_a_device_seen_longer_ago_than_expiry_is_forgotten() -> None:
    posts = [
        comment(A, "x:1", signals=("sha256:d1",)),
        comment(B, "x:2", signals=("sha256:d1",), at_ms=T0 + CFG.expiry_ms + 1),
    ]
    assert feed("signal:sha256:d1", posts)[1] == []


# --- co-timing -----------------------------------------------------------------------------


def test_replies_to_one_post_seconds_apart_are_co_timed_once_per_pair() -> None:
    posts = [
        comment(A, "x:1"),
        comment(B, "x:2", at_ms=T0 + 12 * SECOND_MS),
        comment(A, "x:3", at_ms=T0 + 20 * SECOND_MS),  # A again: the pair is already counted
        comment(C, "x:4", at_ms=T0 + 5 * MINUTE_MS),  # minutes later: not co-timed
    ]
    _, found = feed("post:x:post-1", posts)
    assert [(s.kind, s.author_a, s.author_b) for s in found] == [("co_timing", A, B)]
    assert found[0].evidence.startswith("replied to the same post 12 s apart")
    assert found[0].event_time_ms == T0 + 12 * SECOND_MS


def test_a_redelivered_reply_is_not_paired_again() -> None:
    first, second = comment(A, "x:1"), comment(B, "x:2", at_ms=T0 + SECOND_MS)
    state, found = feed("post:x:post-1", [first, second])
    assert len(found) == 1
    assert observe_key(state, "post:x:post-1", second, CFG) == (state, ())


def test_a_busy_post_proves_nothing_about_who_replied_together() -> None:
    crowd = [
        comment(f"author-{i:02d}", f"x:{i}", at_ms=T0 + i * SECOND_MS)
        for i in range(CFG.co_timing_max_neighbours + 4)
    ]
    _, found = feed("post:x:post-1", crowd)
    late_comers = {s.author_b for s in found}
    # Once more accounts than co_timing_max_neighbours replied within the window, nobody is
    # paired any more.
    assert f"author-{len(crowd) - 1:02d}" not in late_comers


def test_live_a_reply_from_a_partition_running_behind_still_meets_its_pair() -> None:
    """After a restart one partition can run hours ahead of another in event time; the post
    key keeps replies for a while of wall clock too, so the pair replay (reading in
    record-timestamp order) finds is found live, with the same bytes."""
    a, b = comment(A, "x:1"), comment(B, "x:2", at_ms=T0 + 20 * SECOND_MS)
    ahead = [comment(f"author-{i}", f"x:{10 + i}", at_ms=T0 + i * 3_600_000) for i in (1, 2)]
    key = "post:x:post-1"

    def run(order: list[Comment], wall: bool) -> list[LinkSignal]:
        state, found = KeyState(), []
        for i, c in enumerate(order):
            state, signals = observe_key(state, key, c, CFG, wall_ms=T0 + i if wall else None)
            found.extend(signals)
        return [s for s in found if {s.author_a, s.author_b} == {A, B}]

    in_order = run([a, b, *ahead], wall=False)  # as replay reads them
    assert len(in_order) == 1
    assert run([a, *ahead, b], wall=True) == in_order  # live, b's partition behind
    assert run([a, *ahead, b], wall=False) == []  # event time alone had dropped a by then


# --- near-duplicates, from the cross-author fingerprint index ------------------------------


def test_near_copies_from_the_cross_author_index_become_signals() -> None:
    windows = WindowConfig()
    text = "Everyone knows the Royal Glamorgan is unsafe and the managers are covering it up"
    edited = text + " again"
    bands: dict[str, BandState] = {}
    links: list[LinkEvidence] = []
    for author, cid, t, body in ((A, "x:1", T0, text), (B, "x:2", T0 + MINUTE_MS, edited)):
        for entry in band_entries(fingerprint(body), author, cid, t, windows):
            bands[entry.key], outcome = observe_band(
                bands.get(entry.key, BandState()), entry, windows
            )
            links.extend(outcome.links)
    assert len(links) == 1
    signal = near_duplicate_signal(links[0], T0 + MINUTE_MS, CFG)
    assert (signal.kind, signal.author_a, signal.author_b) == ("near_duplicate", A, B)
    assert 0.5 <= signal.weight < 1.0  # a near copy, not an identical one
    assert signal.source_ids == ("x:1", "x:2")
    assert "60 s apart" in signal.evidence and "Glamorgan" not in signal.evidence


def test_identical_copies_count_fully() -> None:
    evidence = LinkEvidence(A, B, "x:1", "x:2", distance=0, exact=True, gap_ms=5000)
    signal = near_duplicate_signal(evidence, T0, CFG)
    assert signal.weight == 1.0 and signal.evidence == "identical texts posted 5 s apart"


# --- writing style -------------------------------------------------------------------------


def profile(*texts: str) -> StyleProfile:
    p = StyleProfile()
    for t in texts:
        p = p.add(t)
    return p


OPERATOR = profile(
    "honestly the ward is a DISGRACE!!! 😡 #SaveOurNHS",
    "tbh nobody answers the phone at the clinic!!! 😡",
    "why r the managers still paid?? DISGRACE!!! 😡 #SaveOurNHS",
)
SAME_HAND = profile(
    "honestly the car park is a DISGRACE!!! 😡",
    "tbh the waiting list is a joke!!! 😡 #SaveOurNHS",
    "who signs this off?? DISGRACE!!! 😡",
)
SOMEONE_ELSE = profile(
    "Thank you to the staff at Prince Charles Hospital for looking after my mum.",
    "Does anyone know if the blood test clinic is open on Saturday mornings?",
    "Lovely staff, but the waiting room needs a good clean.",
)


def test_style_profiles_of_one_hand_are_closer_than_of_two() -> None:
    assert style_similarity(OPERATOR, SAME_HAND) > 0.6
    assert style_similarity(OPERATOR, SOMEONE_ELSE) < 0.2
    assert style_similarity(OPERATOR, OPERATOR) > 0.999
    assert style_similarity(OPERATOR, StyleProfile()) == 0.0


def test_style_profiles_ignore_topic_words() -> None:
    # Plain lowercase 3-grams are what a comment is about, not how it is written.
    assert all(not g.isalpha() or not g.islower() for g, _ in profile("the ward the ward").grams)


def test_style_signal_needs_enough_texts_and_enough_likeness() -> None:
    signal = style_signal(B, SAME_HAND, A, OPERATOR, T0, CFG)
    assert signal is not None
    assert (signal.kind, signal.author_a, signal.author_b) == ("writing_style", A, B)
    assert "alike over 3 and 3 texts" in signal.evidence
    assert style_signal(A, OPERATOR, B, SOMEONE_ELSE, T0, CFG) is None
    assert style_signal(A, profile("DISGRACE!!! 😡"), B, SAME_HAND, T0, CFG) is None


def test_state_round_trips_through_its_dict_form() -> None:
    state, _ = feed("post:x:post-1", [comment(A, "x:1"), comment(B, "x:2", at_ms=T0 + 1)])
    assert KeyState.from_dict(state.to_dict()) == state
    assert StyleProfile.from_dict(OPERATOR.to_dict()) == OPERATOR


def test_a_shared_device_counts_the_same_whatever_order_its_comments_came_in() -> None:
    # Live, the index meets each partition's comments in whatever order they interleaved;
    # replay meets them in record order. Each comment counts once with every account seen on
    # the device at or before it, in event time: a late comment counts for later ones too.
    posts = [
        comment(A, "x:1", signals=("sha256:d1",)),
        comment(A, "x:2", signals=("sha256:d1",), at_ms=T0 + 2 * MINUTE_MS),
        comment(B, "x:3", signals=("sha256:d1",), at_ms=T0 + MINUTE_MS),
        comment(C, "x:4", signals=("sha256:d1",), at_ms=T0 + 3 * MINUTE_MS),
        comment(B, "x:5", signals=("sha256:d1",), at_ms=T0 + 3 * MINUTE_MS),
    ]

    def counted(order: tuple[Comment, ...]) -> Counter[tuple[str, str, int]]:
        _, found = feed("signal:sha256:d1", list(order))
        return Counter((s.author_a, s.author_b, s.event_time_ms) for s in found)

    in_time = counted(tuple(sorted(posts, key=lambda c: (c.event_time_ms, c.comment_id))))
    # A-B: x:3 (after x:1), x:2 (after x:3), x:5; A-C and B-C: x:4, and x:5 with x:4 at one time.
    assert sum(n for (a, b, _), n in in_time.items() if (a, b) == (A, B)) == 3
    for order in itertools.permutations(posts):
        assert counted(order) == in_time
