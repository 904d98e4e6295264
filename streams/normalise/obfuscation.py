"""Obfuscated spellings of words, and how well the normaliser sees through them.

A seeded generator (``random.Random(seed)``) of the disguises people use to slip a word past a
list: homoglyphs, leetspeak, zero-width characters, separators, stretched letters, fullwidth,
mathematical, circled and small-capital letters, diacritics, mixed case, and mixes of two or
three of these. ``evaluate`` is shared by the unit test and the bench so both report the same
figures from the same inputs.

The look-alike and leet tables here are kept apart from the normaliser's (drawn from Unicode's
confusables list and common leetspeak), so a character the normaliser does not know shows up
as a miss. They were written by the same hand, though, and share its blind spots: a new kind
of disguise belongs here first.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from streams.normalise.text import normalise

Transform = Callable[[list[str], random.Random], list[str]]

_HOMOGLYPHS: dict[str, str] = {
    "a": "аɑα",  # Cyrillic а, Latin alpha, Greek alpha
    "b": "Ьв",
    "c": "сϲ",
    "d": "ԁ",
    "e": "еε",
    "g": "ɡ",
    "h": "һн",
    "i": "іιɩ",
    "j": "ј",
    "k": "кκ",
    "l": "ӏ",
    "m": "м",
    "n": "пη",
    "o": "оοσօ",
    "p": "рρ",
    "q": "ԛ",
    "r": "г",
    "s": "ѕ",
    "t": "тτ",
    "u": "υս",
    "v": "ν",
    "w": "ԝω",
    "x": "хχ",
    "y": "уү",
}
_LEET: dict[str, str] = {
    "a": "4@",
    "b": "8",
    "c": "(",
    "e": "3",
    "g": "9",
    "i": "1!",
    "l": "1|",
    "o": "0",
    "s": "5$",
    "t": "7+",
}
_VOWELS = frozenset("aeiou")
_INVISIBLE = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad")
_SEPARATORS = (".", "-", "_", "*", " ", "~", ". ", " . ", "/")
_SMALL_CAPS: dict[str, str] = dict(
    zip("abcdefghijklmnoprstuvwyz", "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘʀꜱᴛᴜᴠᴡʏᴢ", strict=True)
)
_COMBINING = ("\u0301", "\u0300", "\u0308", "\u0302", "\u0303", "\u0327", "\u0331", "\u0336")
_MATH_STYLES = (
    "BOLD",
    "ITALIC",
    "BOLD ITALIC",
    "SCRIPT",
    "BOLD SCRIPT",
    "FRAKTUR",
    "DOUBLE-STRUCK",
    "BOLD FRAKTUR",
    "SANS-SERIF",
    "SANS-SERIF BOLD",
    "SANS-SERIF ITALIC",
    "MONOSPACE",
)


def _pick_positions(
    units: list[str], eligible: Callable[[str], bool], rng: random.Random
) -> list[int]:
    candidates = [i for i, u in enumerate(units) if eligible(u)]
    if not candidates:
        return []
    chosen = [i for i in candidates if rng.random() < 0.5]
    return chosen or [rng.choice(candidates)]


def _plain(u: str) -> bool:
    return len(u) == 1 and "a" <= u <= "z"


def _substitute(table: dict[str, str], keep_a_letter: bool) -> Transform:
    def apply(units: list[str], rng: random.Random) -> list[str]:
        out = list(units)
        chosen = _pick_positions(out, lambda u: _plain(u) and u in table, rng)
        if keep_a_letter and len(chosen) == sum(u.isalpha() for u in out):
            # Every letter a digit or symbol ("917" for "git") is a number to any reader,
            # not a disguise anyone uses.
            chosen = chosen[1:]
        for i in chosen:
            out[i] = rng.choice(table[out[i]])
        return out

    return apply


def _fullwidth(units: list[str], rng: random.Random) -> list[str]:
    upper = rng.random() < 0.5
    return [
        "".join(chr(ord(c.upper() if upper else c) + 0xFEE0) if "!" <= c <= "~" else c for c in u)
        for u in units
    ]


def _math(units: list[str], rng: random.Random) -> list[str]:
    style = rng.choice(_MATH_STYLES)
    case = rng.choice(("SMALL", "CAPITAL"))

    def one(c: str) -> str:
        if not _plain(c):
            return c
        try:
            return unicodedata.lookup(f"MATHEMATICAL {style} {case} {c.upper()}")
        except KeyError:
            return c  # the few letters that live in Letterlike Symbols stay plain

    return [one(u) for u in units]


def _circled(units: list[str], rng: random.Random) -> list[str]:
    base = 0x24D0 if rng.random() < 0.5 else 0x24B6  # ⓐ or Ⓐ
    return [chr(base + ord(u) - ord("a")) if _plain(u) else u for u in units]


def _small_caps(units: list[str], rng: random.Random) -> list[str]:
    return [_SMALL_CAPS.get(u, u) if _plain(u) else u for u in units]


def _diacritics(units: list[str], rng: random.Random) -> list[str]:
    out = list(units)
    for i in _pick_positions(out, lambda u: u.isalpha(), rng):
        out[i] = out[i] + rng.choice(_COMBINING)
    return out


def _mixed_case(units: list[str], rng: random.Random) -> list[str]:
    return [u.upper() if _plain(u) and rng.random() < 0.5 else u for u in units]


def _stretch_places(word: str, rng: random.Random) -> dict[int, int]:
    # Expressive lengthening falls on vowels and on the last letter ("fuuuck", "shiiit",
    # "fuckkk"), which is where it is drawn from here: position -> how many copies.
    places = [i for i, c in enumerate(word) if c in _VOWELS or i == len(word) - 1]
    chosen = rng.sample(places, k=min(len(places), rng.choice((1, 1, 2))))
    return {i: rng.randint(3, 6) for i in chosen}


# Letter substitutions first; then the structural disguises, stretching the substituted
# letter ("fυυυck") and separating or hiding what is between letters.
_SUBSTITUTIONS: dict[str, Transform] = {
    "homoglyph": _substitute(_HOMOGLYPHS, keep_a_letter=False),
    "leet": _substitute(_LEET, keep_a_letter=True),
    "fullwidth": _fullwidth,
    "math": _math,
    "circled": _circled,
    "small_caps": _small_caps,
    "diacritics": _diacritics,
    "mixed_case": _mixed_case,
}
_STRUCTURAL = ("stretch", "separators", "zero_width")
KINDS: tuple[str, ...] = (*_SUBSTITUTIONS, *_STRUCTURAL)
# A fixed order for mixes: substitute look-alikes before restyling what is left.
_ORDER = {kind: n for n, kind in enumerate(KINDS)}


def obfuscate(word: str, kinds: Iterable[str], rng: random.Random) -> str:
    """One disguised spelling of `word` using each of `kinds` (names from KINDS)."""
    chosen = sorted(set(kinds), key=_ORDER.__getitem__)
    units = list(word)
    for kind in chosen:
        if kind in _SUBSTITUTIONS:
            units = _SUBSTITUTIONS[kind](units, rng)
    if "stretch" in chosen:
        for i, copies in _stretch_places(word, rng).items():
            units[i] = units[i] * copies
    gap = rng.choice(_SEPARATORS) if "separators" in chosen else ""
    if "zero_width" not in chosen:
        return gap.join(units)
    # Invisible characters go between letters (never outside the word), at least one.
    gaps = [gap] * (len(units) - 1)
    marked = ([i for i in range(len(gaps)) if rng.random() < 0.6] or [0]) if gaps else []
    for i in marked:
        invisible = rng.choice(_INVISIBLE)
        gaps[i] = invisible + gaps[i] if rng.random() < 0.5 else gaps[i] + invisible
    return units[0] + "".join(g + u for g, u in zip(gaps, units[1:], strict=True))


@dataclass(frozen=True, slots=True)
class Variant:
    word: str
    kinds: tuple[str, ...]
    text: str  # the disguised word on its own
    sentence: str  # the disguised word inside a short comment
    start: int  # where `text` sits in `sentence`

    @property
    def end(self) -> int:
        return self.start + len(self.text)


_CARRIERS = (
    "{}",
    "you {}",
    "what a {}!",
    "shut up you {}.",
    "honestly the manager is a {} tbh",
    "{} off",
    "total {}, all of them",
    "this is {} 😡",
    "(you {})",
    "told the receptionist she was a {}, deal with it",
)


def variants(words: Sequence[str], seed: int, count: int = 400) -> list[Variant]:
    """`count` disguised spellings, spread evenly over `words`: a third use one disguise
    (every kind in turn), the rest mix two or three."""
    rng = random.Random(seed)
    out: list[Variant] = []
    for n in range(count):
        word = words[n % len(words)]
        if n % 3 == 0:
            kinds: tuple[str, ...] = (KINDS[(n // 3) % len(KINDS)],)
        else:
            kinds = tuple(rng.sample(KINDS, k=rng.choice((2, 3))))
        text = obfuscate(word, kinds, rng)
        before, after = rng.choice(_CARRIERS).split("{}")
        out.append(Variant(word, kinds, text, before + text + after, len(before)))
    return out


_TOKEN = re.compile(r"[^\W_]+")


def tokens(text: str) -> list[re.Match[str]]:
    return list(_TOKEN.finditer(text))


@dataclass(frozen=True, slots=True)
class Miss:
    word: str
    kinds: tuple[str, ...]
    text: str
    normalised: str


@dataclass(frozen=True, slots=True)
class FalseMatch:
    sentence: str
    normalised: str
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Report:
    seed: int
    variants: int
    recalled: int
    misses: tuple[Miss, ...]
    # Recalled variants whose matched token did not map back to exactly the disguised word.
    span_errors: tuple[Miss, ...]
    clean: int
    false_matches: tuple[FalseMatch, ...]
    by_kind: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind -> (recalled, n)

    @property
    def recall(self) -> float:
        return self.recalled / self.variants if self.variants else 0.0

    @property
    def false_match_rate(self) -> float:
        return len(self.false_matches) / self.clean if self.clean else 0.0

    def to_markdown(self) -> str:
        lines = [
            "| measure | value |",
            "|---|---|",
            f"| obfuscation recall | {self.recall:.4f} ({self.recalled}/{self.variants}) |",
            f"| span maps back exactly | {self.recalled - len(self.span_errors)}/{self.recalled} |",
            f"| false-match rate, clean set | {self.false_match_rate:.4f}"
            f" ({len(self.false_matches)}/{self.clean}) |",
            "",
            "| disguise (alone or in a mix) | recall |",
            "|---|---|",
        ]
        for kind, (hit, n) in sorted(self.by_kind.items()):
            lines.append(f"| {kind} | {hit}/{n} |")
        return "\n".join(lines)


def evaluate(
    words: Sequence[str], clean_sentences: Sequence[str], seed: int, count: int = 400
) -> Report:
    """Recall: the share of disguised variants whose normalised form has the plain word as a
    whole token. False-match rate: the share of clean sentences whose normalised form has
    any of `words` as a whole token."""
    recalled = 0
    misses: list[Miss] = []
    span_errors: list[Miss] = []
    by_kind: dict[str, list[int]] = {kind: [0, 0] for kind in KINDS}
    for v in variants(words, seed, count):
        norm = normalise(v.sentence)
        hit = next((m for m in tokens(norm.text) if m.group() == v.word), None)
        for kind in v.kinds:
            by_kind[kind][1] += 1
        if hit is None:
            misses.append(Miss(v.word, v.kinds, v.text, norm.text))
            continue
        recalled += 1
        for kind in v.kinds:
            by_kind[kind][0] += 1
        if norm.to_original(hit.start(), hit.end()) != (v.start, v.end):
            span_errors.append(Miss(v.word, v.kinds, v.text, norm.text))
    vocabulary = frozenset(words)
    false_matches: list[FalseMatch] = []
    for sentence in clean_sentences:
        norm = normalise(sentence)
        found = tuple(sorted({m.group() for m in tokens(norm.text)} & vocabulary))
        if found:
            false_matches.append(FalseMatch(sentence, norm.text, found))
    return Report(
        seed=seed,
        variants=count,
        recalled=recalled,
        misses=tuple(misses),
        span_errors=tuple(span_errors),
        clean=len(clean_sentences),
        false_matches=tuple(false_matches),
        by_kind={kind: (hit, n) for kind, (hit, n) in by_kind.items()},
    )


def read_lines(path: str) -> list[str]:
    """Non-blank lines of a UTF-8 file, without '#' comment lines."""
    with open(path, encoding="utf-8") as f:
        return [s for line in f if (s := line.strip()) and not s.startswith("#")]
