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

import hashlib
import re
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, count
from pathlib import Path
from typing import NamedTuple

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
    def __init__(self, name: str, entries: Iterable[Entry], *, source_sha256: str = "") -> None:
        self.name = name
        # What a document's memo knows this list's matches by: two lists with the same name and
        # source (the classifier's, and the one the models mask groups with) share one walk.
        self.identity: Hashable = (name, source_sha256) if source_sha256 else (name, id(self))
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
        # Per first word, each entry as the lookup compares it: a token equals an entry's word
        # when the two are equal or squeeze to the same form, i.e. when their squeezed forms
        # are equal, so all but a prefix entry's last word compare as one slice of the
        # comment's squeezed words.
        self._exact_forms = {
            key: [_Form.of(entry) for entry in entries_] for key, entries_ in self._exact.items()
        }
        self._squeezed_forms = {
            key: [_Form.of(entry) for entry in entries_] for key, entries_ in self._squeezed.items()
        }
        self._prefixes = prefixes
        # Counted once: the name registry's detector asks on every comment.
        self._size = sum(map(len, self._exact.values())) + sum(map(len, prefixes.values()))
        alternatives = "|".join(sorted(map(re.escape, prefixes), key=len, reverse=True))
        self._prefix_re = re.compile(alternatives) if prefixes else None
        # The same prefixes at any word start of the words joined by spaces: one C-level search
        # tells whether any token can start a prefix match.
        self._prefix_in_text = re.compile(f"(?:^| )(?:{alternatives})") if prefixes else None

    def __len__(self) -> int:
        return self._size

    def first_words(self) -> frozenset[str]:
        """Every word a whole-token match can start with (exact or squeezed)."""
        return frozenset(self._exact) | frozenset(self._squeezed)

    def prefix_words(self) -> frozenset[str]:
        """Every prefix a one-word prefix entry matches tokens by."""
        return frozenset(self._prefixes)

    def find(self, words: Sequence[str]) -> Iterator[Match]:
        """Longest entry starting at each token; a match is not re-entered by a shorter one."""
        return self._walk(TokenView.of(words))

    def find_in(self, doc: Document) -> Iterator[Match]:
        """``find`` over a document's words, reusing the views of them it keeps."""
        return self._walk(doc.token_view())

    def find_once(self, doc: Document) -> list[Match]:
        """``find_in``, kept on the document: every reader of this list in one comment (the
        group rules and the models' group masking) shares one walk."""
        found: list[Match] = doc.memo(("lexicon", self.identity), lambda: list(self.find_in(doc)))
        return found

    def _walk(self, view: TokenView) -> Iterator[Match]:
        words = view.words
        # A tuple, as each entry's squeezed words are, so slices compare in C.
        squeezed = tuple(words if view.squeezed_words is None else view.squeezed_words)
        free = 0  # the first token not inside a match already found
        for index in self._starts(view):
            if index < free:
                continue
            match = self._match_at(words, squeezed, index)
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
            # The squeezed text is read too only where squeezing changed it.
            texts = (view.joined,) if view.squeezed_words is None else (view.joined, view.squeezed)
            for text in texts:
                for m in self._prefix_in_text.finditer(text):
                    starts.add(text.count(" ", 0, m.end()))  # its token's index
        # The indices of the words in either set, picked in C.
        if exact:
            starts.update(compress(count(), map(exact.__contains__, view.words)))
        if loose and view.squeezed_words is not None:
            starts.update(compress(count(), map(loose.__contains__, view.squeezed_words)))
        return sorted(starts)

    def _match_at(
        self, words: Sequence[str], squeezed: tuple[str, ...], index: int
    ) -> Match | None:
        """``squeezed``: each of ``words`` squeezed (``squeeze``)."""
        word = words[index]
        candidates = self._exact_forms.get(word)
        if candidates is None and word != squeezed[index]:
            candidates = self._squeezed_forms.get(squeezed[index])
        for form in candidates or ():
            end = index + form.size
            if end > len(words):
                continue
            if form.prefix is None:
                if form.size == 1 or squeezed[index:end] == form.squeezed:
                    return Match(index, end - 1, form.label)
            elif squeezed[index : end - 1] == form.squeezed and (
                words[end - 1].startswith(form.prefix) or squeezed[end - 1].startswith(form.prefix)
            ):
                return Match(index, end - 1, form.label)
        if self._prefix_re is not None:
            for text in (word,) if squeezed[index] == word else (word, squeezed[index]):
                hit = self._prefix_re.match(text)
                if hit is not None:
                    return Match(index, index, self._prefixes[hit.group()][0].label)
        return None


class _Form(NamedTuple):
    """An entry as ``_match_at`` compares it: a token equals an entry's word when the two are
    equal or squeeze to the same form, i.e. when their squeezed forms are equal, so every word
    but a prefix entry's last compares as one slice of the comment's squeezed words."""

    size: int  # words
    squeezed: tuple[str, ...]  # the squeezed words compared whole (all but a prefix's last)
    prefix: str | None  # a prefix entry's last word, which a token starts with
    label: str

    @classmethod
    def of(cls, entry: Entry) -> _Form:
        whole = entry.words[:-1] if entry.prefix else entry.words
        return cls(
            len(entry.words),
            tuple(squeeze(w) for w in whole),
            entry.words[-1] if entry.prefix else None,
            entry.label,
        )


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
    return Lexicon(name, entries, source_sha256=hashlib.sha256(text.encode()).hexdigest())


def load_lexicon(name: str, directory: Path = LEXICON_DIR) -> Lexicon:
    if not _NAME.match(name):
        raise LexiconError(f"lexicon name {name!r} is not a lowercase identifier")
    path = directory / f"{name}.txt"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LexiconError(f"lexicon '{name}' cannot be read from {path}: {exc.strerror}") from exc
    return parse_lexicon(name, text)
