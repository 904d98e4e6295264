"""Signal extractors: observations that two accounts may be one person, as ``LinkSignal``s.

Comparing every account with every other is out of the question, so each comment is filed
under a few index keys and compared only with what shares a key (the same idea as the
cross-author fingerprint bands). The stage fans a comment out as one message per key from
``index_keys`` and keeps one ``KeyState`` per key; ``observe_key`` updates it and returns the
signals. The keys:

- ``signal:<hash>``: a platform device/network hash (``Comment.signals``). Strong evidence once
  seen on ``min_repeats.shared_signal`` comments, unless the hash is shared by more than
  ``max_accounts_per_key`` accounts: then it is a hospital's guest wifi or a mobile carrier's
  gateway, and the key goes quiet for good.
- ``post:<post id>``: replies to one post. Two accounts replying within ``co_timing_s`` of each
  other is a co-timing observation; the graph counts it only after ``min_repeats.co_timing``
  posts, because on a popular post strangers reply seconds apart all the time.
- ``handle:<digest>`` (a handle's letters, with digits and punctuation dropped) and
  ``name:<digest>`` (the folded display name): "nhs_truth_77" and "nhs_truth_78" meet under
  one key, as do two "John Smith"s. Both are weak; keys shared wider than
  ``max_accounts_per_key`` ("Sarah Jones" in the valleys) go quiet.

Two more kinds come from elsewhere: near-copies of one text from the cross-author fingerprint
index (``near_duplicate_signal``) and writing-style profiles compared for pairs that already
have other evidence (``style_signal``).

Key values are digests, so names and handles never appear in message keys; the evidence
strings say what kind of match it was, never what matched.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple, Protocol

from schemas.comment import Comment
from schemas.identity import LinkSignal, ordered_pair
from streams.linking.config import LinkingConfig

MIN_STEM_LETTERS = 4  # "jo12"/"jo34" share too little to mean anything
MIN_EDIT_HANDLE = 6  # handles shorter than this are a few edits from half the platform
STYLE_GRAMS = 3  # style_grams checks exactly three characters per gram
STYLE_MAX_GRAMS = 128  # per profile: the most frequent style 3-grams kept
MAX_POST_REPLIES = 64  # per post key: bounds a viral post's state
# Per account per device key: the comments kept, newest by event time. A device key holds at
# most max_accounts_per_key accounts, so at most 8 x 8 entries.
DEVICE_KEEP_PER_ACCOUNT = 8
# Live, a reply is also kept this long after it reached the index (wall clock), however far
# the post's newest event time has moved: the index reads every partition's comments, and
# after a restart one partition can run minutes ahead of another in event time, which would
# drop replies a later one from the slower partition should meet. Interleaving skew is
# bounded in processing time, not in event time (docs/replay.md, "Co-timed replies").
POST_KEEP_WALL_MS = 15 * 60_000

_NOT_HANDLE = re.compile(r"[^0-9a-z]+")
_DIGITS = re.compile(r"[0-9]+")
_NOT_LETTERS = re.compile(r"[^a-z]+")
_PLAIN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz ")
_SPACES = re.compile(r"\s+")


class KeyEntry(NamedTuple):
    event_time_ms: int
    author_key: str
    comment_id: str
    handle: str  # name keys only: what the similarity check compares
    name: str
    arrived_ms: int = 0  # post keys, live only: the wall clock when it reached the index


@dataclass(frozen=True, slots=True)
class KeyState:
    """What one index key remembers: its recent entries, oldest first."""

    entries: tuple[KeyEntry, ...] = ()
    saturated: bool = False  # shared by too many accounts to be evidence of anything

    def to_dict(self) -> dict[str, Any]:
        return {"e": [list(e) for e in self.entries], "s": self.saturated}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> KeyState:
        return cls(tuple(KeyEntry(*e) for e in d["e"]), d["s"])


def index_keys(comment: Comment) -> tuple[str, ...]:
    """The keys to fan one comment out under; sorted, no repeats."""
    keys = {f"signal:{s}" for s in comment.signals if s}
    if comment.post_id:
        keys.add(f"post:{comment.post_id}")
    stem = handle_stem(comment.author_handle)
    if len(stem) >= MIN_STEM_LETTERS:
        keys.add(f"handle:{_digest(stem)}")
    name = fold_name(comment.author_name)
    if name:
        keys.add(f"name:{_digest(name)}")
    return tuple(sorted(keys))


def observe_key(
    state: KeyState, key: str, comment: Comment, cfg: LinkingConfig, *, wall_ms: int | None = None
) -> tuple[KeyState, tuple[LinkSignal, ...]]:
    """File ``comment`` under ``key``; the signals it raises against what the key holds.

    ``wall_ms``: the wall clock, live only; replies to a post are then also kept for
    ``POST_KEEP_WALL_MS`` after they arrived; replay passes the raw record's timestamp, which
    the live index saw seconds later. It only ever keeps entries longer, and what a reply is
    compared with is limited by event time."""
    kind, _, _ = key.partition(":")
    if kind == "signal":
        return _observe_device(state, comment, cfg)
    if kind == "post":
        return _observe_post(state, comment, cfg, wall_ms)
    if kind == "handle":
        return _observe_per_account(state, comment, cfg, _handle_signal, names=True)
    if kind == "name":
        return _observe_per_account(state, comment, cfg, _display_name_signal, names=True)
    raise ValueError(f"index key {key!r} has no extractor: keys come from index_keys()")


# --- shared platform signals and names: one entry per account ------------------------------


class _PairSignal(Protocol):
    def __call__(
        self, comment: Comment, other: KeyEntry, accounts: int, cfg: LinkingConfig
    ) -> LinkSignal | None: ...


def _observe_per_account(
    state: KeyState,
    comment: Comment,
    cfg: LinkingConfig,
    signal_for: _PairSignal,
    *,
    names: bool,
) -> tuple[KeyState, tuple[LinkSignal, ...]]:
    """One entry per account. For a name key, a pair is observed once, when the second
    account first appears, and the entry keeps the names to compare. For a device key, every
    comment from the device is another observation, and no names are kept."""
    if state.saturated:
        return state, ()
    now = max([comment.event_time_ms, *(e.event_time_ms for e in state.entries)])
    live = [e for e in state.entries if e.event_time_ms >= now - cfg.expiry_ms]
    mine = next((e for e in live if e.author_key == comment.author_key), None)
    others = [e for e in live if e.author_key != comment.author_key]
    if len(others) + 1 > cfg.max_accounts_per_key:
        # Too common to say anything about any one pair; forget the accounts (and their
        # names) rather than keep them for nothing.
        return KeyState(saturated=True), ()
    entry = KeyEntry(
        comment.event_time_ms,
        comment.author_key,
        comment.comment_id,
        comment.author_handle if names else "",
        comment.author_name if names else "",
    )
    if mine is not None and mine.event_time_ms > entry.event_time_ms:
        entry = mine  # a late comment: keep the newest sighting
    signals: list[LinkSignal] = []
    if mine is None or not names:
        for other in others:
            signal = signal_for(comment, other, len(others) + 1, cfg)
            if signal is not None:
                signals.append(signal)
    kept = sorted([*others, entry])
    return KeyState(tuple(kept)), tuple(signals)


def _observe_device(
    state: KeyState, comment: Comment, cfg: LinkingConfig
) -> tuple[KeyState, tuple[LinkSignal, ...]]:
    """A device/network hash: every comment from it is an observation of its author with each
    other account seen on it at or before that comment, in event time. So the pair's count is
    a function of the set of comments, not of their arrival order: a comment arriving late
    also counts for the other accounts' later comments that had no earlier one of its author
    to pair with (live, partitions interleave one way and replay another; docs/replay.md,
    "Linking in event time"). Exact while each account has at most DEVICE_KEEP_PER_ACCOUNT
    comments on the key within the expiry."""
    if state.saturated:
        return state, ()
    if any(e.comment_id == comment.comment_id for e in state.entries):
        return state, ()  # a redelivery: already counted
    t = comment.event_time_ms
    now = max([t, *(e.event_time_ms for e in state.entries)])
    live = [e for e in state.entries if e.event_time_ms >= now - cfg.expiry_ms]
    accounts = {e.author_key for e in live} | {comment.author_key}
    if len(accounts) > cfg.max_accounts_per_key:
        return KeyState(saturated=True), ()
    entry = KeyEntry(t, comment.author_key, comment.comment_id, "", "")
    mine = [e for e in live if e.author_key == comment.author_key]
    why = f"same platform device/network hash, seen on {len(accounts)} accounts"
    signals: list[LinkSignal] = []
    for other in sorted(accounts - {comment.author_key}):
        theirs = sorted(e for e in live if e.author_key == other)
        earlier = [e for e in theirs if e.event_time_ms <= t]
        if earlier:
            signals.append(_pair_signal("shared_signal", entry, earlier[0], 1.0, why))
        for later in theirs:
            unpaired = not any(m.event_time_ms <= later.event_time_ms for m in mine)
            if later.event_time_ms >= t and unpaired:
                signals.append(_pair_signal("shared_signal", later, entry, 1.0, why))
    kept = [*live, entry]
    per_account: dict[str, list[KeyEntry]] = {}
    for e in sorted(kept, reverse=True):
        newest = per_account.setdefault(e.author_key, [])
        if len(newest) < DEVICE_KEEP_PER_ACCOUNT:
            newest.append(e)
    return KeyState(tuple(sorted(e for es in per_account.values() for e in es))), tuple(signals)


def _name_signal(
    comment: Comment,
    other: KeyEntry,
    accounts: int,
    cfg: LinkingConfig,
    similarity: Callable[[str, str, str, str], tuple[float, str]],
) -> LinkSignal | None:
    strength, why = similarity(comment.author_handle, comment.author_name, other.handle, other.name)
    if strength <= 0.0:
        return None
    return _signal("name", comment, other, strength, f"{why} ({accounts} accounts share the key)")


def _handle_signal(
    comment: Comment, other: KeyEntry, accounts: int, cfg: LinkingConfig
) -> LinkSignal | None:
    return _name_signal(comment, other, accounts, cfg, handle_similarity)


def _display_name_signal(
    comment: Comment, other: KeyEntry, accounts: int, cfg: LinkingConfig
) -> LinkSignal | None:
    return _name_signal(comment, other, accounts, cfg, display_name_similarity)


def handle_stem(handle: str) -> str:
    """A handle's letters only: "NHS_Truth_77" and "nhstruth78" both give "nhstruth"."""
    return _DIGITS.sub("", fold_handle(handle))


def fold_handle(handle: str) -> str:
    return _NOT_HANDLE.sub("", handle.casefold().lstrip("@"))


def fold_name(name: str) -> str:
    return _SPACES.sub(" ", name.casefold()).strip()


def handle_similarity(handle_a: str, name_a: str, handle_b: str, name_b: str) -> tuple[float, str]:
    """How alike two handles are (0..1), and why, without quoting them: the fact a
    ``handle:`` key is about.

    Weak evidence whatever the answer: people called Dave Smith pick "dave_smith" and
    "davesmith1" on their own, so a stem spelt from the account's own name counts half.
    """
    ha, hb = fold_handle(handle_a), fold_handle(handle_b)
    if not ha or not hb:
        return 0.0, ""
    sa, sb = _DIGITS.sub("", ha), _DIGITS.sub("", hb)
    own = _from_own_name(sa, name_a) and _from_own_name(sb, name_b)
    strength, origin = (0.5, "from their names") if own else (1.0, "not from their names")
    if ha == hb:
        return strength, f"handles identical apart from case and punctuation, {origin}"
    if sa == sb and len(sa) >= MIN_STEM_LETTERS:
        return strength, f"handles share a {len(sa)}-letter stem {origin} and differ only in digits"
    return 0.0, ""


def display_name_similarity(
    handle_a: str, name_a: str, handle_b: str, name_b: str
) -> tuple[float, str]:
    """How alike two display names are (0..1), and why: the fact a ``name:`` key is about.

    Identical names alone are weak ("John Smith" twice is two people); with handles a typo
    apart as well it is more telling. Handles with one stem are the ``handle:`` key's fact,
    so they are not counted again here.
    """
    na, nb = fold_name(name_a), fold_name(name_b)
    if not na or na != nb:
        return 0.0, ""
    ha, hb = fold_handle(handle_a), fold_handle(handle_b)
    other_stems = ha and hb and _DIGITS.sub("", ha) != _DIGITS.sub("", hb)
    if other_stems and min(len(ha), len(hb)) >= MIN_EDIT_HANDLE:
        distance = edit_distance(ha, hb, limit=2)
        if distance <= 2:
            return 0.8, f"identical display names and handles {distance} edit(s) apart"
    return 0.5, "identical display names"


def _from_own_name(stem: str, name: str) -> bool:
    words = [w for w in _NOT_LETTERS.split(name.casefold()) if len(w) >= 3]
    return any(w in stem for w in words)


def edit_distance(a: str, b: str, *, limit: int) -> int:
    """Levenshtein distance, or ``limit + 1`` as soon as it is known to exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return min(previous[-1], limit + 1)


# --- co-timing: replies to one post --------------------------------------------------------


def _observe_post(
    state: KeyState, comment: Comment, cfg: LinkingConfig, wall_ms: int | None = None
) -> tuple[KeyState, tuple[LinkSignal, ...]]:
    if any(e.comment_id == comment.comment_id for e in state.entries):
        return state, ()  # a redelivery: already paired
    window = cfg.co_timing_ms
    t = comment.event_time_ms
    entry = KeyEntry(t, comment.author_key, comment.comment_id, "", "", wall_ms or 0)
    # Compared with what a reader in event-time order would hold now: 2 windows before the
    # newest reply not later than this one, and on. Without the wall clock (replay) that is
    # every entry; live, it leaves out what only the wall clock kept, and keeps what a
    # partition running behind in event time must still meet.
    newest_before = max((e.event_time_ms for e in state.entries if e.event_time_ms <= t), default=t)
    held = [e for e in state.entries if e.event_time_ms >= newest_before - 2 * window]
    near: dict[str, KeyEntry] = {}
    for e in held:
        gap = abs(e.event_time_ms - t)
        if e.author_key == comment.author_key or gap > window:
            continue
        best = near.get(e.author_key)
        if best is None or gap < abs(best.event_time_ms - t):
            near[e.author_key] = e
    signals: list[LinkSignal] = []
    # A post busier than this around the reply is one people flock to: timing proves nothing.
    if len(near) <= cfg.co_timing_max_neighbours:
        for author, other in sorted(near.items()):
            if _already_paired(held, comment.author_key, author, window):
                continue  # one observation per pair per post, however many replies each made
            gap_s = abs(other.event_time_ms - t) // 1000
            why = (
                f"replied to the same post {gap_s} s apart "
                f"({len(near)} other(s) within {cfg.co_timing_s} s)"
            )
            signals.append(_signal("co_timing", comment, other, 1.0, why))
    newest = max([t, *(e.event_time_ms for e in state.entries)])
    # Keep what a reply as late as the newest one plus a window could still pair with, and
    # live what arrived recently (POST_KEEP_WALL_MS); the cap drops the oldest in event time.
    recent = None if wall_ms is None else wall_ms - POST_KEEP_WALL_MS
    kept = [
        e
        for e in [*state.entries, entry]
        if e.event_time_ms >= newest - 2 * window or (recent is not None and e.arrived_ms >= recent)
    ]
    kept.sort()
    return KeyState(tuple(kept[-MAX_POST_REPLIES:])), tuple(signals)


def _already_paired(entries: Iterable[KeyEntry], x: str, y: str, window: int) -> bool:
    xs = [e.event_time_ms for e in entries if e.author_key == x]
    if not xs:
        return False
    ys = [e.event_time_ms for e in entries if e.author_key == y]
    return any(abs(tx - ty) <= window for tx in xs for ty in ys)


# --- near-duplicate text, from the cross-author fingerprint index --------------------------


class NearCopy(Protocol):
    """What ``streams.rate_windows.cross_author.LinkEvidence`` carries; read, never imported,
    because stages talk through topics rather than imports."""

    @property
    def author_a(self) -> str: ...
    @property
    def author_b(self) -> str: ...
    @property
    def comment_a(self) -> str: ...
    @property
    def comment_b(self) -> str: ...
    @property
    def distance(self) -> int: ...
    @property
    def exact(self) -> bool: ...
    @property
    def gap_ms(self) -> int: ...


def near_duplicate_signal(evidence: NearCopy, event_time_ms: int, cfg: LinkingConfig) -> LinkSignal:
    """One near-copy pair as a signal: identical text counts fully, closer copies count more."""
    if evidence.exact:
        strength, what = 1.0, "identical texts"
    else:
        distance = evidence.distance
        # A near-copy at the index's largest distance still counts about half as much.
        strength = max(0.5, 1.0 - 0.5 * distance / (cfg.near_duplicate_max_distance + 1))
        what = f"near-identical texts (fingerprints {distance} bits apart)"
    return LinkSignal(
        kind="near_duplicate",
        author_a=evidence.author_a,
        author_b=evidence.author_b,
        weight=round(strength, 3),
        evidence=f"{what} posted {evidence.gap_ms // 1000} s apart",
        event_time_ms=event_time_ms,
        source_ids=(evidence.comment_a, evidence.comment_b),
    )


# --- writing style -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StyleProfile:
    """An account's character 3-gram counts over its recent texts (the top few hundred)."""

    texts: int = 0
    grams: tuple[tuple[str, int], ...] = ()  # sorted by gram
    norm: float = 0.0  # Euclidean length of the counts, kept so a comparison is one pass

    def add(self, text: str) -> StyleProfile:
        counts = dict(self.grams)
        for gram in style_grams(text):
            counts[gram] = counts.get(gram, 0) + 1
        if len(counts) > STYLE_MAX_GRAMS:
            # Most frequent kept; the stable sort settles ties by gram order, deterministically.
            ranked = sorted(sorted(counts.items()), key=itemgetter(1), reverse=True)
            counts = dict(ranked[:STYLE_MAX_GRAMS])
        grams = tuple(sorted(counts.items()))
        norm = math.sqrt(sum(c * c for c in counts.values()))
        return StyleProfile(self.texts + 1, grams, norm)

    def to_dict(self) -> dict[str, Any]:
        return {"n": self.texts, "g": [list(g) for g in self.grams]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StyleProfile:
        grams = tuple((g, c) for g, c in d["g"])
        return cls(d["n"], grams, math.sqrt(sum(c * c for _, c in grams)))


def style_grams(text: str) -> list[str]:
    """The 3-grams that carry style rather than topic: those with a capital, a digit, a
    punctuation mark or an emoji in them. Plain lowercase grams are mostly what the comment is
    about, and accounts that talk about the same hospital are not the same person for it
    (measured in docs/quality.md: keeping them made style track topic)."""
    folded = _SPACES.sub(" ", _DIGITS.sub("0", text)).strip()
    padded = f" {folded} "
    marked = [c not in _PLAIN_CHARS for c in padded]
    return [
        padded[i : i + STYLE_GRAMS]
        for i in range(len(padded) - STYLE_GRAMS + 1)
        if marked[i] or marked[i + 1] or marked[i + 2]
    ]


def style_similarity(a: StyleProfile, b: StyleProfile) -> float:
    """Cosine of the two 3-gram count vectors: 1.0 for the same profile, 0.0 for nothing shared."""
    if not a.grams or not b.grams:
        return 0.0
    small, large = (a, b) if len(a.grams) <= len(b.grams) else (b, a)
    other = dict(large.grams)
    dot = sum(count * other.get(gram, 0) for gram, count in small.grams)
    return dot / (a.norm * b.norm)


def style_signal(
    x: str,
    profile_x: StyleProfile,
    y: str,
    profile_y: StyleProfile,
    event_time_ms: int,
    cfg: LinkingConfig,
) -> LinkSignal | None:
    """A writing-style observation for a pair, if both have written enough and write alike.

    Only asked for pairs that already have other evidence: comparing every pair of profiles
    is quadratic, and style alone is never enough anyway.
    """
    if min(profile_x.texts, profile_y.texts) < cfg.style_min_texts:
        return None
    cosine = style_similarity(profile_x, profile_y)
    if cosine < cfg.style_min_cosine:
        return None
    a, b = ordered_pair(x, y)
    # Rescaled so the configured minimum counts for little and identical profiles fully.
    strength = (cosine - cfg.style_min_cosine) / (1.0 - cfg.style_min_cosine + 1e-9)
    return LinkSignal(
        kind="writing_style",
        author_a=a,
        author_b=b,
        weight=round(min(1.0, max(0.0, strength)), 3),
        evidence=(
            f"writing-style profiles {cosine:.2f} alike "
            f"over {profile_x.texts} and {profile_y.texts} texts"
        ),
        event_time_ms=event_time_ms,
        source_ids=(),
    )


# --- shared helpers ------------------------------------------------------------------------


def _signal(kind: str, comment: Comment, other: KeyEntry, strength: float, why: str) -> LinkSignal:
    entry = KeyEntry(comment.event_time_ms, comment.author_key, comment.comment_id, "", "")
    return _pair_signal(kind, entry, other, strength, why)


def _pair_signal(
    kind: str, one: KeyEntry, other: KeyEntry, strength: float, why: str
) -> LinkSignal:
    """One observation of two accounts' comments, at the later one's event time."""
    a, b = ordered_pair(one.author_key, other.author_key)
    sources = (
        (one.comment_id, other.comment_id)
        if a == one.author_key
        else (other.comment_id, one.comment_id)
    )
    return LinkSignal(
        kind=kind,
        author_a=a,
        author_b=b,
        weight=strength,
        evidence=why,
        event_time_ms=max(one.event_time_ms, other.event_time_ms),
        source_ids=sources,
    )


def _digest(text: str) -> str:
    # blake2b, not hash(): keys are compared across processes and restarts.
    return hashlib.blake2b(text.encode(), digest_size=8, person=b"modstream.link").hexdigest()
