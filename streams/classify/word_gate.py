"""Which regex rules could possibly match a comment, from the words it contains.

Most rules begin at a word boundary with one of a few literal words (``\\b(my|our|a) ...``).
Python's regex engine tries every alternative at every position, so scanning a comment that
matches nothing costs tens of microseconds per rule; a set lookup of the comment's words
against each rule's possible first words costs well under one. The gate is exact in the only
direction that matters: a rule it rules out cannot match (it never guesses), and a rule whose
start it cannot read (no leading ``\\b``, a character class first, a flag change) is always run.
"""

from __future__ import annotations

import _sre
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from re import _casefix as casefix  # type: ignore[attr-defined]
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

_WORD = re.compile(r"\w+")
_WORD_CHAR = re.compile(r"\w")
# Branching makes the number of first words grow with the product of alternatives; past this
# a rule is simply always run.
MAX_HEADS = 512
# Checking a rule's two most selective places rules out nearly all that more would.
MAX_PLACES = 2


@dataclass(frozen=True, slots=True)
class Heads:
    """Words one place of a rule can begin with: ``whole`` must be a whole word of the comment,
    ``prefixes`` the start of one."""

    whole: frozenset[str]
    prefixes: frozenset[str]

    @property
    def shortest(self) -> int:
        return min(len(w) for w in self.whole | self.prefixes)

    def by_length(self) -> tuple[tuple[int, frozenset[str]], ...]:
        lengths = sorted({len(p) for p in self.prefixes})
        return tuple((n, frozenset(p for p in self.prefixes if len(p) == n)) for n in lengths)


def fold(text: str) -> str:
    """Case-fold exactly as ``re.IGNORECASE`` compares characters (``str.lower`` is not the
    same outside ASCII: U+0130 lowers to two characters, 'ſ' matches 's')."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLDED)


def _fold_char(c: str) -> str:
    lower = _sre.unicode_tolower(ord(c))
    return chr(min((lower, *casefix._EXTRA_CASES.get(lower, ()))))


class _FoldTable(dict[int, str]):
    """``str.translate`` table filled on first sight of each character, so folding a comment
    is one C-level pass instead of a Python call per character."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


_FOLDED = _FoldTable()


def word_sets(pattern: str, flags: int) -> tuple[Heads, ...]:
    """Sets of words a match must contain, one set per place in the pattern where a word is
    known to begin; a comment lacking every word of any one set cannot match. Most selective
    (longest shortest word) first; empty when no place can be read."""
    try:
        parsed = sre_parse.parse(pattern, flags)
    except re.error:
        return ()
    norm = fold if flags & re.IGNORECASE else str
    return _places(_flatten(list(parsed)), norm)


def _places(seq: Ops, norm: Callable[[str], str]) -> tuple[Heads, ...]:
    if len(seq) == 1 and seq[0][0] is sre.BRANCH:
        # ``A|B`` can only match where A or B can: unite each alternative's best place.
        best = [_places(_flatten(list(b)), norm) for b in seq[0][1][1]]
        if not all(best):
            return ()
        return (
            Heads(
                whole=frozenset().union(*(b[0].whole for b in best)),
                prefixes=frozenset().union(*(b[0].prefixes for b in best)),
            ),
        )
    found: list[Heads] = []
    for i in range(len(seq)):
        if i > 0 and not _ends_before_word(seq[:i]):
            continue
        words = _walk(seq[i:], "", bounded=i > 0)
        if words is None or len(words) > MAX_HEADS or not all(w for w, _ in words):
            continue
        found.append(
            Heads(
                whole=frozenset(norm(w) for w, complete in words if complete),
                prefixes=frozenset(norm(w) for w, complete in words if not complete),
            )
        )
    found.sort(key=lambda h: -h.shortest)
    return tuple(found[:MAX_PLACES])


def _flatten(seq: Ops) -> Ops:
    """Inline plain groups, so a word inside ``(...)`` in the middle of a rule is a place."""
    out: Ops = []
    for op, av in seq:
        if op is sre.SUBPATTERN and not av[1] and not av[2]:
            out += _flatten(list(av[3]))
        else:
            out.append((op, av))
    return out


def _ends_before_word(seq: Ops) -> bool:
    """Whether whatever ``seq`` matched ends so that a word starts right after it: a non-word
    character, or a ``\\b`` (which, before a word character, means the same)."""
    if not seq:
        return False
    op, av = seq[-1]
    if op is sre.LITERAL:
        return not _WORD_CHAR.match(chr(av))
    if op is sre.AT:
        return av is sre.AT_BOUNDARY
    if op is sre.SUBPATTERN:
        return not av[1] and not av[2] and _ends_before_word(list(av[3]))
    if op is sre.BRANCH:
        return all(_ends_before_word(list(b)) for b in av[1])
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        lo, _, item = av
        ends = _ends_before_word(list(item))
        return ends if lo > 0 else ends and _ends_before_word(seq[:-1])
    return False


# The parser's (opcode, argument) pairs; its types are private to the re package.
Ops = list[tuple[Any, Any]]


def _walk(seq: Ops, acc: str, bounded: bool) -> set[tuple[str, bool]] | None:
    """Follow literal word characters from the start of a match. Returns (word, complete)
    pairs: complete when a non-word character or ``\\b`` is known to follow the word."""
    if not seq:
        return {(acc, False)} if acc else None
    op, av = seq[0]
    rest = seq[1:]
    if op is sre.LITERAL:
        ch = chr(av)
        if _WORD_CHAR.match(ch):
            # A word character with no \b before it could be the middle of a word.
            return _walk(rest, acc + ch, bounded) if (acc or bounded) else None
        return {(acc, True)} if acc else None
    if op is sre.AT:
        if av is sre.AT_BOUNDARY:
            return {(acc, True)} if acc else _walk(rest, acc, bounded=True)
        return {(acc, False)} if acc else None
    if op is sre.SUBPATTERN:
        _, add_flags, del_flags, sub = av
        if add_flags or del_flags:
            return None
        return _walk(list(sub) + rest, acc, bounded)
    if op is sre.BRANCH:
        union: set[tuple[str, bool]] = set()
        for branch in av[1]:
            found = _walk(list(branch) + rest, acc, bounded)
            if found is None:
                return None
            union |= found
            if len(union) > MAX_HEADS:
                return None
        return union
    if op in (sre.ASSERT, sre.ASSERT_NOT) and not acc:
        # Zero-width: skipping a condition can only let more comments through the gate.
        return _walk(rest, acc, bounded)
    return {(acc, False)} if acc else None


# A place as a gate checks it: whole words, and prefixes grouped by their length.
Place = tuple[frozenset[str], tuple[tuple[int, frozenset[str]], ...]]


class WordGate:
    """Per rule, whether a comment's words allow it to match; shared word sets per comment."""

    def __init__(self, rules: Sequence[tuple[str, re.Pattern[str]]]) -> None:
        self.rules = tuple(rules)
        self.ignore_case = all(r.flags & re.IGNORECASE for _, r in rules)
        # A comment's words are folded or not, once: a rule whose case mode differs (an inline
        # flag) cannot be checked against them, so it always runs.
        self._sets = tuple(
            tuple(
                (h.whole, h.by_length())
                for h in (
                    word_sets(r.pattern, r.flags)
                    if bool(r.flags & re.IGNORECASE) == self.ignore_case
                    else ()
                )
            )
            for _, r in rules
        )

    @property
    def useful(self) -> bool:
        return any(self._sets)

    def candidates(self, words: WordSets) -> tuple[tuple[str, re.Pattern[str]], ...]:
        """The rules that could match, in their order (so hits come out as without the gate)."""
        return tuple(
            rule
            for rule, sets in zip(self.rules, self._sets, strict=True)
            if all(words.allows(h) for h in sets)
        )


class WordSets:
    """A comment's words (folded or not) and their prefixes of each length a gate asks for."""

    def __init__(self, text: str, ignore_case: bool) -> None:
        self.words = frozenset(_WORD.findall(fold(text) if ignore_case else text))
        self._prefixes: dict[int, frozenset[str]] = {}

    def prefixes(self, length: int) -> frozenset[str]:
        got = self._prefixes.get(length)
        if got is None:
            got = frozenset(w[:length] for w in self.words if len(w) >= length)
            self._prefixes[length] = got
        return got

    def allows(self, place: Place) -> bool:
        whole, prefixes = place
        if not self.words.isdisjoint(whole):
            return True
        return any(not self.prefixes(n).isdisjoint(group) for n, group in prefixes)
