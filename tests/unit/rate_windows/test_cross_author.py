import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest

from schemas.codec import dumps, loads
from schemas.verdict import BehaviourFinding
from streams.rate_windows.config import CrossAuthorConfig, WindowConfig
from streams.rate_windows.cross_author import (
    BandEntry,
    BandState,
    LinkEvidence,
    band_entries,
    expire_band,
    observe_band,
)
from streams.rate_windows.fingerprint import fingerprint

from .factory import MINUTE_MS

CFG = WindowConfig()
CAMPAIGN = (
    "Save our A&E! Sign the petition now and share with everyone you know",
    "SAVE OUR A&E!!! SIGN THE PETITION NOW AND SHARE WITH EVERYONE YOU KNOW",
    "Save our A&E 😡😡 Sign the petition now and share with everyone you know",
    "save our A & E. sign the petition now and share with everyone you know",
    "Save our A&E! Sign the petition now and share with everyone you know",
)
EDITED = (
    "Save our A&E! Please sign the petition now and share with everyone you know",
    "Please save our A&E! Sign the petition now and share with everyone you know",
    "Save our A&E! Sign the petition today and share with everyone you know",
)


@dataclass
class Index:
    """The fingerprint-keyed stage: one BandState per key, as its table would hold them."""

    cfg: WindowConfig = CFG
    states: dict[str, BandState] = field(default_factory=dict)
    links: list[LinkEvidence] = field(default_factory=list)

    def post(self, author: str, comment_id: str, t: int, text: str) -> list[BehaviourFinding]:
        found = []
        for entry in band_entries(fingerprint(text), author, comment_id, t, self.cfg):
            state, outcome = observe_band(self.states.get(entry.key, BandState()), entry, self.cfg)
            self.states[entry.key] = state
            self.links.extend(outcome.links)
            if outcome.finding is not None:
                found.append(outcome.finding)
        return found

    def posts(self, rows: Iterable[tuple[str, str, int, str]]) -> list[list[BehaviourFinding]]:
        return [self.post(*row) for row in rows]


def pairs(links: list[LinkEvidence]) -> list[tuple[str, str]]:
    return sorted((link.author_a, link.author_b) for link in links)


def test_the_same_text_from_five_authors_within_minutes_is_cross_author_spamming() -> None:
    index = Index()
    rows = [(f"u{i}", f"c{i}", i * MINUTE_MS, text) for i, text in enumerate(CAMPAIGN)]
    findings = index.posts(rows)
    assert findings[:4] == [[], [], [], []]
    # Identical fingerprints meet on every key; each key reports the same finding.
    assert len(findings[4]) == CFG.cross_author.bands
    assert set(findings[4]) == {
        BehaviourFinding(
            kind="cross_author_spamming",
            window_s=600,
            count=5,
            threshold=5,
            window_start_ms=0,
            comment_ids=("c0", "c1", "c2", "c3", "c4"),
        )
    }
    # Every pair of accounts is linked exactly once, with the evidence the linker weighs.
    assert pairs(index.links) == sorted(itertools.combinations([f"u{i}" for i in range(5)], 2))
    u0_u4 = next(x for x in index.links if (x.author_a, x.author_b) == ("u0", "u4"))
    assert u0_u4 == LinkEvidence("u0", "u4", "c0", "c4", distance=0, exact=True, gap_ms=240_000)


def test_edited_copies_are_linked_once_each() -> None:
    index = Index()
    texts = CAMPAIGN[:2] + EDITED
    findings = index.posts((f"u{i}", f"c{i}", i * MINUTE_MS, t) for i, t in enumerate(texts))
    assert any(f.count == 5 for f in findings[4])
    linked = pairs(index.links)
    assert len(linked) == len(set(linked))
    # Each edited copy is within near-duplicate distance of the original and linked to it.
    assert {("u0", "u2"), ("u0", "u3"), ("u0", "u4")} <= set(linked)
    assert any(not x.exact and x.distance > 0 for x in index.links)


def test_two_people_saying_thank_you_is_not_a_campaign() -> None:
    index = Index()
    assert band_entries(fingerprint("Thank you so much 🙏"), "u1", "c1", 0, CFG) == ()
    index.posts(
        [("u1", "c1", 0, "Thank you so much 🙏"), ("u2", "c2", 1_000, "thank you so much!")]
    )
    assert index.states == {}
    assert index.links == []


def test_two_authors_with_the_same_long_text_are_linked_but_not_a_campaign() -> None:
    index = Index()
    findings = index.posts([("u1", "c1", 0, CAMPAIGN[0]), ("u2", "c2", 1_000, CAMPAIGN[1])])
    assert findings == [[], []]
    assert pairs(index.links) == [("u1", "u2")]


@pytest.mark.parametrize("newest_first", [False, True])
def test_copies_spread_beyond_the_window_are_not_a_campaign(newest_first: bool) -> None:
    index = Index()
    rows = [(f"u{i}", f"c{i}", i * 11 * MINUTE_MS, CAMPAIGN[0]) for i in range(6)]
    assert index.posts(reversed(rows) if newest_first else rows) == [[]] * 6
    assert pairs(index.links) == []


def test_arrival_order_does_not_hide_a_campaign() -> None:
    # Newest first, all within lateness: the last to arrive is the oldest, and it still sees
    # the four copies posted after it.
    index = Index()
    rows = [(f"u{i}", f"c{i}", i * MINUTE_MS, CAMPAIGN[0]) for i in reversed(range(5))]
    findings = index.posts(rows)
    assert findings[:4] == [[], [], [], []]
    assert {f.count for f in findings[4]} == {5}
    assert {f.window_start_ms for f in findings[4]} == {0}


def test_one_author_repeating_themselves_is_not_cross_author() -> None:
    index = Index()
    rows = [("u1", f"c{i}", i * MINUTE_MS, CAMPAIGN[i]) for i in range(5)]
    assert index.posts(rows) == [[]] * 5
    assert index.links == []


def test_a_redelivered_entry_is_stored_once() -> None:
    (entry, *_) = band_entries(fingerprint(CAMPAIGN[0]), "u1", "c1", 0, CFG)
    once, _ = observe_band(BandState(), entry, CFG)
    twice, outcome = observe_band(once, entry, CFG)
    assert twice == once
    assert outcome.duplicate


def test_band_state_is_bounded_and_expires() -> None:
    cfg = WindowConfig(cross_author=CrossAuthorConfig(max_posts_per_band=16))
    index = Index(cfg=cfg)
    index.posts((f"u{i}", f"c{i}", i * 1_000, CAMPAIGN[0]) for i in range(40))
    assert all(len(s.posts) == 16 for s in index.states.values())
    state = next(iter(index.states.values()))
    assert [p.comment_id for p in state.posts] == [f"c{i}" for i in range(24, 40)]
    assert not expire_band(state, 39_000 + 15 * MINUTE_MS, cfg).is_empty()
    assert expire_band(state, 39_000 + 15 * MINUTE_MS + 1, cfg).is_empty()


def test_a_late_entry_is_flagged() -> None:
    late_text = CAMPAIGN[0]
    state = BandState()
    for t, cid in ((60 * MINUTE_MS, "c1"), (54 * MINUTE_MS, "c2")):
        entry = band_entries(fingerprint(late_text), cid, cid, t, CFG)[0]
        state, outcome = observe_band(state, entry, CFG)
    assert outcome.late


def test_entries_states_and_links_round_trip_through_json() -> None:
    index = Index()
    index.posts((f"u{i}", f"c{i}", i * MINUTE_MS, t) for i, t in enumerate(CAMPAIGN))
    for state in index.states.values():
        assert BandState.from_dict(loads(dumps(state.to_dict()))) == state
    for link in index.links:
        assert LinkEvidence.from_dict(loads(dumps(link.to_dict()))) == link
    for entry in band_entries(fingerprint(CAMPAIGN[0]), "u1", "c1", 0, CFG):
        assert BandEntry.from_dict(loads(dumps(entry.to_dict()))) == entry
    keys = [e.key for e in band_entries(fingerprint(CAMPAIGN[0]), "u1", "c1", 0, CFG)]
    assert len(set(keys)) == CFG.cross_author.bands
    assert all(k.startswith(f"{i}:") for i, k in enumerate(keys))
