"""Word lists matched as whole tokens, including multi-word phrases.

File format (``streams/classify/lexicons/<name>.txt``), one entry a line::

    # a comment
    bollocks                 -> label = the list's name
    fuck*                    -> prefix: fucking, fucker, fuckwit ...
    go back to your country<TAB>race

A Welsh list starts with the line ``#! welsh_mutations``: each entry is written in its
dictionary form and also matches its mutated forms (``lladd`` -> ``ladd``; see welsh_mutations).

Entries are put through the same normaliser as comments, so a list is written in plain
spelling and still matches "f.u.c.k", "fuuuck" or homoglyph spellings of the comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from streams.classify.document import Document, TokenView, squeeze_runs, tokenise
from streams.classify.welsh_mutations import DIRECTIVE, mutations
from streams.normalise.text import normalise

LEXICON_DIR = Path(__file__).parent / "lexicons"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class LexiconError(ValueError):
    """A word list is missing or malformed; the message names the file and line."""


@lru_cache(maxsize=65536)
def squeeze(word: str) -> str:
    # Cached because every token of every comment is squeezed once per word list. The
    # normaliser keeps up to two repeated letters ("fuuuck" -> "fuuck"); squeezing the
    # rest lets such a token still meet its list entry.
    return squeeze_runs(word)


@dataclass(frozen=True, slots=True)
class Entry:
    words: tuple[str, ...]
    label: str
    prefix: bool  # the last word matches as a prefix


@dataclass(frozen=True, slots=True)
class Match:
    first: int
    last: int  # inclusive token index
    label: str


class Lexicon:
    def __init__(self, name: str, entries: Iterable[Entry]) -> None:
        self.name = name
        self._exact: dict[str, list[Entry]] = {}
        self._squeezed: dict[str, list[Entry]] = {}
        prefixes: dict[str, list[Entry]] = {}
        for entry in entries:
            first = entry.words[0]
            if entry.prefix and len(entry.words) == 1:
                prefixes.setdefault(first, []).append(entry)
                continue
            self._exact.setdefault(first, []).append(entry)
            # Very short squeezed forms would collide with ordinary words ("ass" -> "as").
            if len(squeeze(first)) >= 3:
                self._squeezed.setdefault(squeeze(first), []).append(entry)
        for entries_ in (*self._exact.values(), *self._squeezed.values()):
            entries_.sort(key=lambda e: -len(e.words))
        self._prefixes = prefixes
        alternatives = "|".join(sorted(map(re.escape, prefixes), key=len, reverse=True))
        self._prefix_re = re.compile(alternatives) if prefixes else None
        # The same prefixes at any word start of the words joined by spaces: one C-level search
        # tells whether any token can start a prefix match.
        self._prefix_in_text = re.compile(f"(?:^| )(?:{alternatives})") if prefixes else None

    def __len__(self) -> int:
        return sum(len(v) for v in self._exact.values()) + sum(
            len(v) for v in self._prefixes.values()
        )

    def first_words(self) -> frozenset[str]:
        """Every word a whole-token match can start with (exact or squeezed)."""
        return frozenset(self._exact) | frozenset(self._squeezed)

    def prefix_words(self) -> frozenset[str]:
        """Every prefix a one-word prefix entry matches tokens by."""
        return frozenset(self._prefixes)

    def find(self, words: Sequence[str]) -> Iterator[Match]:
        """Longest entry starting at each token; a match is not re-entered by a shorter one."""
        return self._walk(words, self._starts(TokenView.of(words)))

    def find_in(self, doc: Document) -> Iterator[Match]:
        """``find`` over a document's words, reusing the views of them it keeps."""
        return self._walk(doc.token_words(), self._starts(doc.token_view()))

    def _walk(self, words: Sequence[str], starts: list[int]) -> Iterator[Match]:
        free = 0  # the first token not inside a match already found
        for index in starts:
            if index < free:
                continue
            match = self._match_at(words, index)
            if match is not None:
                yield match
                free = match.last + 1

    def _starts(self, view: TokenView) -> list[int]:
        """The tokens ``_match_at`` can match at, in order (a superset: it decides), found with
        set and regex operations in C instead of a lookup per token in Python."""
        exact = self._exact.keys() & view.word_set
        # Only a token with a repeated letter is looked up by its squeezed form.
        loose = self._squeezed.keys() & view.squeezed_set if view.squeezed_words else set()
        starts: set[int] = set()
        if self._prefix_in_text is not None:
            for text in (view.joined, view.squeezed):
                for m in self._prefix_in_text.finditer(text):
                    starts.add(text.count(" ", 0, m.end()))  # its token's index
        if exact or loose:
            squeezed_words = view.squeezed_words
            starts.update(
                index
                for index, word in enumerate(view.words)
                if word in exact or (squeezed_words is not None and squeezed_words[index] in loose)
            )
        return sorted(starts)

    def _match_at(self, words: Sequence[str], index: int) -> Match | None:
        word = words[index]
        candidates = self._exact.get(word, [])
        if not candidates and word != squeeze(word):
            candidates = self._squeezed.get(squeeze(word), [])
        for entry in candidates:
            last = index + len(entry.words) - 1
            if last < len(words) and _words_match(entry, words, index):
                return Match(index, last, entry.label)
        if self._prefix_re is not None:
            squeezed = squeeze(word)
            for form in (word,) if squeezed == word else (word, squeezed):
                hit = self._prefix_re.match(form)
                if hit is not None:
                    return Match(index, index, self._prefixes[hit.group()][0].label)
        return None


def _words_match(entry: Entry, words: Sequence[str], index: int) -> bool:
    for offset, expected in enumerate(entry.words):
        actual = words[index + offset]
        is_last = offset == len(entry.words) - 1
        if entry.prefix and is_last:
            if not (actual.startswith(expected) or squeeze(actual).startswith(expected)):
                return False
        elif actual != expected and squeeze(actual) != squeeze(expected):
            return False
    return True


def parse_lexicon(name: str, text: str) -> Lexicon:
    entries: list[Entry] = []
    # A Welsh list names each word once; its mutated forms are added here (welsh_mutations).
    welsh = text.lstrip().startswith(DIRECTIVE)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        phrase, _, label = line.partition("\t")
        phrase = phrase.strip()
        prefix = phrase.endswith("*")
        words = tuple(t.text for t in tokenise(normalise(phrase.rstrip("*")).text))
        if not words:
            raise LexiconError(f"lexicon '{name}' line {number}: entry has no letters or digits")
        firsts = mutations(words[0]) if welsh else (words[0],)
        entries.extend(Entry((f, *words[1:]), label.strip() or name, prefix) for f in firsts)
    return Lexicon(name, entries)


def load_lexicon(name: str, directory: Path = LEXICON_DIR) -> Lexicon:
    if not _NAME.match(name):
        raise LexiconError(f"lexicon name {name!r} is not a lowercase identifier")
    path = directory / f"{name}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LexiconError(f"lexicon '{name}' cannot be read from {path}: {exc.strerror}") from exc
    return parse_lexicon(name, text)
