import itertools
import random
from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest

from schemas.codec import dumps, loads
from schemas.verdict import BehaviourFinding, BehaviourNotice
from streams.rate_windows.campaign import campaign_notice
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

NOISE = (
    "What time does the minor injuries unit close on Saturdays please?",
    "Thank you to the midwives at the Royal Glamorgan, they were brilliant with us.",
    "Is the blood test clinic in Pontypridd still walk-in or do I need to book now?",
    "Waited six hours in A&E last night with my dad, the staff were run off their feet",
    "Can anyone tell me if the car park at Prince Charles is free after six?",
    "My appointment letter came after the appointment date, who do I ring about that?",
)


@dataclass
class Index:
    """The fingerprint-keyed stage: one BandState per key, as its table would hold them."""

    cfg: WindowConfig = CFG
    states: dict[str, BandState] = field(default_factory=dict)
    links: list[LinkEvidence] = field(default_factory=list)

    notices: list[bytes] = field(default_factory=list)  # every notice, in the order raised

    def post(self, author: str, comment_id: str, t: int, text: str) -> list[set[str]]:
        """Per key the text reached, the comments that became campaign members on it."""
        found = []
        source = f"comments.raw[0]@{comment_id}"
        for entry in band_entries(
            fingerprint(text), author, comment_id, t, self.cfg, source=source
        ):
            state, outcome = observe_band(self.states.get(entry.key, BandState()), entry, self.cfg)
            self.states[entry.key] = state
            self.links.extend(outcome.links)
            if outcome.members:
                found.append({m.comment_id for m in outcome.members})
            self.notices.extend(
                campaign_notice(m, "v1", self.cfg).to_bytes() for m in outcome.members
            )
        return found

    def posts(self, rows: Iterable[tuple[str, str, int, str]]) -> list[list[set[str]]]:
        return [self.post(*row) for row in rows]


def pairs(links: list[LinkEvidence]) -> list[tuple[str, str]]:
    return sorted((link.author_a, link.author_b) for link in links)


def test_the_same_text_from_five_authors_within_minutes_is_cross_author_spamming() -> None:
    index = Index()
    rows = [(f"u{i}", f"c{i}", i * MINUTE_MS, text) for i, text in enumerate(CAMPAIGN)]
    members = index.posts(rows)
    assert members[:4] == [[], [], [], []]
    # The fifth account makes all five members; identical fingerprints meet on every key, and
    # every key says so, in the same bytes (enforce acts once per comment).
    assert members[4] == [{"c0", "c1", "c2", "c3", "c4"}] * CFG.cross_author.bands
    assert len(set(index.notices)) == 5
    notice = next(n for n in map(BehaviourNotice.from_bytes, index.notices) if n.comment_id == "c2")
    assert notice.author_key == "u2"
    assert notice.event_time_ms == 2 * MINUTE_MS
    assert notice.source == "comments.raw[0]@c2"
    assert notice.behaviour == (
        BehaviourFinding(
            kind="cross_author_spamming",
            window_s=600,
            count=5,  # the threshold met: at least five accounts
            threshold=5,
            window_start_ms=2 * MINUTE_MS - 600_000,
            comment_ids=("c2",),
        ),
    )
    # Every pair of accounts is linked exactly once, with the evidence the linker weighs.
    assert pairs(index.links) == sorted(itertools.combinations([f"u{i}" for i in range(5)], 2))
    u0_u4 = next(x for x in index.links if (x.author_a, x.author_b) == ("u0", "u4"))
    assert u0_u4 == LinkEvidence("u0", "u4", "c0", "c4", distance=0, exact=True, gap_ms=240_000)


def test_edited_copies_are_linked_once_each() -> None:
    index = Index()
    texts = CAMPAIGN[:2] + EDITED
    members = index.posts((f"u{i}", f"c{i}", i * MINUTE_MS, t) for i, t in enumerate(texts))
    assert any(len(m) == 5 for m in members[4])
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
    members = index.posts([("u1", "c1", 0, CAMPAIGN[0]), ("u2", "c2", 1_000, CAMPAIGN[1])])
    assert members == [[], []]
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
    members = index.posts(rows)
    assert members[:4] == [[], [], [], []]
    assert members[4] == [{"c0", "c1", "c2", "c3", "c4"}] * CFG.cross_author.bands


def _rows_of_two_campaigns_and_noise() -> list[tuple[str, str, int, str]]:
    """Two rounds of five accounts, a sixth account too late for the first copies' windows,
    and unrelated texts in between."""
    rows = [(f"u{i % 5}", f"c{i}", i * 2 * MINUTE_MS, CAMPAIGN[i % 5]) for i in range(10)]
    rows.append(("u9", "c10", 21 * MINUTE_MS, CAMPAIGN[0]))
    rows += [(f"n{i}", f"n{i}", i * 90_000, text) for i, text in enumerate(NOISE)]
    return rows


def test_the_notices_do_not_depend_on_arrival_order() -> None:
    # Live, copies meet on a key in whatever order partitions interleaved; replay feeds them
    # in timestamp order. Every order within lateness must raise the same notices, byte for
    # byte (which keys raise them, and when, may differ).
    rows = sorted(_rows_of_two_campaigns_and_noise(), key=lambda r: r[2])
    in_order = Index()
    in_order.posts(rows)
    expected = set(in_order.notices)
    assert expected, "the rows hold a campaign"
    # c10's author makes a sixth account, but only comments within ten minutes of it count it.
    about = {BehaviourNotice.from_bytes(n).comment_id for n in expected}
    assert about == {f"c{i}" for i in range(11)}
    rng = random.Random(3)
    for _ in range(30):
        shuffled = Index()
        # Out of order by up to the allowed lateness (5 minutes): buckets shuffled inside.
        shuffled.posts(sorted(rows, key=lambda r: (r[2] // (5 * MINUTE_MS), rng.random())))
        assert set(shuffled.notices) == expected


def test_with_the_wall_clock_a_key_keeps_posts_its_event_time_has_passed() -> None:
    # Live, a key's event time can run hours ahead of copies still on their way through other
    # partitions; a post is then kept for the lateness plus the window in wall-clock time.
    late_copies = [(f"u{i}", f"c{i}", i * MINUTE_MS, CAMPAIGN[0]) for i in range(5)]
    ahead = ("z", "z1", 5 * 60 * MINUTE_MS, CAMPAIGN[0])  # five hours ahead, arrives first
    states: dict[str, BandState] = {}
    members: set[str] = set()
    for at_wall, (author, cid, t, text) in enumerate([ahead, *late_copies]):
        for entry in band_entries(fingerprint(text), author, cid, t, CFG):
            state = states.get(entry.key, BandState())
            states[entry.key], outcome = observe_band(state, entry, CFG, wall_ms=at_wall * 1000)
            members |= {m.comment_id for m in outcome.members}
    assert members == {"c0", "c1", "c2", "c3", "c4"}


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
