"""One comment prepared for matching: normalised once, tokenised once, spans mapped back.

Detectors see three surfaces of the same comment:

- ``original``: the text as posted (URLs, phone numbers and capitalised names survive only here);
- ``matching``: the normaliser's matching form (casefolded, evasions folded);
- ``surface``: the matching form's word tokens joined by single spaces, apostrophes dropped
  ("you'll" -> "youll"), so rules are written once, without caring about punctuation or spacing.

Every hit is reported as a span of ``original``, which is what evidence must point at.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from streams.normalise.text import NormalisedText, normalise

# A token is a run of letters/digits; an apostrophe inside a word does not split it.
TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_APOSTROPHES = str.maketrans("", "", "'’")
_MISSING = object()  # ``Document.memo``'s "not remembered yet" (None can be remembered)
# A run of one character, cut to one by ``squeeze`` (streams.classify.lexicon).
RUNS = re.compile(r"(.)\1+")


class Token(NamedTuple):
    # A tuple rather than a dataclass: every token of every comment is one, so it is hot.
    text: str  # apostrophes removed
    norm_start: int  # span in the matching form
    norm_end: int


@dataclass(frozen=True, slots=True)
class TokenView:
    """A comment's words as word lists look them up: joined by single spaces, squeezed (runs
    of a character cut to one; ``squeezed_words`` is None when that changes nothing), and
    as sets. Built once per comment and shared by every list."""

    words: Sequence[str]
    joined: str
    squeezed: str
    word_set: frozenset[str]
    squeezed_words: list[str] | None
    squeezed_set: frozenset[str]

    @classmethod
    def of(
        cls, words: Sequence[str], joined: str | None = None, squeezed: str | None = None
    ) -> TokenView:
        joined = " ".join(words) if joined is None else joined
        squeezed = squeeze_runs(joined) if squeezed is None else squeezed
        squeezed_words = squeezed.split(" ") if squeezed != joined else None
        return cls(
            words,
            joined,
            squeezed,
            frozenset(words),
            squeezed_words,
            frozenset(squeezed_words) if squeezed_words else frozenset(),
        )


@dataclass(frozen=True, slots=True)
class Hit:
    """A detector's match: a span of the original text plus the tokens it covers."""

    start: int
    end: int
    first_token: int
    last_token: int  # inclusive
    confidence: float
    label: str

    def token_gap(self, other: Hit) -> int:
        """Words between two hits (0 when they touch or overlap)."""
        return max(
            0, other.first_token - self.last_token - 1, self.first_token - other.last_token - 1
        )


def squeeze_runs(text: str) -> str:
    """Every run of one character cut to one, as ``RUNS.sub(r"\\1", text)`` but in C: the
    characters that run are few, and halving each one's runs until none is left is a handful
    of ``str.replace`` passes, where ``re.sub`` calls back into Python for every run."""
    for char in set(RUNS.findall(text)):
        double = char + char
        while double in text:
            text = text.replace(double, char)
    return text


def tokenise(text: str) -> list[Token]:
    return [
        Token(m.group().translate(_APOSTROPHES), m.start(), m.end()) for m in TOKEN.finditer(text)
    ]


# The three texts a rule can read (see the module docstring).
SURFACES = ("tokens", "normalised", "original")
ALL_SURFACES = frozenset(SURFACES)


class Probe(NamedTuple):
    """A prefilter question about one surface: "could this rule or word list match here?"."""

    surface: str
    id: int


@dataclass
class Document:
    original: str
    norm: NormalisedText
    surface: str
    post_text: str = ""
    _words: tuple[str, ...] = field(default=(), repr=False)
    # Token spans in the matching form, found as far as a hit has needed them.
    _spans: list[tuple[int, int]] = field(default_factory=list, repr=False)
    _span_scan: Iterator[re.Match[str]] | None = field(default=None, repr=False)
    _surface_starts: list[int] | None = field(default=None, repr=False)  # per token
    _token_starts: list[int] | None = field(default=None, repr=False)
    _post_tokens: tuple[str, ...] | None = field(default=None, repr=False)
    _squeezed: str | None = field(default=None, repr=False)
    _view: TokenView | None = field(default=None, repr=False)
    _memo: dict[Hashable, Any] = field(default_factory=dict, repr=False)
    # What the prefilter found (streams.classify.prefilter): the probes that may match, and the
    # surfaces it could not scan exactly, where every probe may match. Unscanned by default,
    # so a document nobody scanned runs every rule.
    fired: frozenset[int] | set[int] = field(default=frozenset(), repr=False)
    unscanned: frozenset[str] = field(default=ALL_SURFACES, repr=False)

    @classmethod
    def build(cls, text: str, post_text: str = "") -> Document:
        norm = normalise(text)
        # Words and surface in C: the apostrophes only ever sit inside a token, so dropping them
        # from the joined string is dropping them from each word. Token spans are built only
        # when a hit has to be mapped back (``tokens``), which most comments never need.
        surface = " ".join(TOKEN.findall(norm.text)).translate(_APOSTROPHES)
        return cls(
            original=text,
            norm=norm,
            surface=surface,
            post_text=post_text,
            _words=tuple(surface.split(" ")) if surface else (),
        )

    def may_match(self, probe: Probe) -> bool:
        return probe.surface in self.unscanned or probe.id in self.fired

    @property
    def tokens(self) -> tuple[Token, ...]:
        return tuple(
            Token(word, start, end)
            for word, (start, end) in zip(self._words, self.spans(), strict=True)
        )

    def squeezed(self) -> str:
        """The surface with every run of one character cut to one ("fuuuck" -> "fuck"); one
        space separates words, so this is each word squeezed. Word lists and the prefilter
        share it."""
        if self._squeezed is None:
            self._squeezed = squeeze_runs(self.surface)
        return self._squeezed

    def token_view(self) -> TokenView:
        if self._view is None:
            self._view = TokenView.of(self._words, self.surface, self.squeezed())
        return self._view

    def spans(self) -> list[tuple[int, int]]:
        """Every token's span in the matching form."""
        return self._spans_to(len(self._words) - 1)

    def _spans_to(self, index: int) -> list[tuple[int, int]]:
        """Token spans up to ``index`` at least: a hit near the start of a long post does not
        pay for tokenising all of it."""
        spans = self._spans
        if index >= len(spans):
            if self._span_scan is None:
                self._span_scan = TOKEN.finditer(self.norm.text)
            for m in self._span_scan:
                spans.append(m.span())
                if len(spans) > index:
                    break
        return spans

    @property
    def matching(self) -> str:
        return self.norm.text

    def token_words(self) -> tuple[str, ...]:
        return self._words

    def hit_for_tokens(self, first: int, last: int, confidence: float, label: str) -> Hit:
        spans = self._spans_to(last)
        start, end = self.norm.to_original(spans[first][0], spans[last][1])
        return Hit(start, end, first, last, confidence, label)

    def hit_for_surface(self, start: int, end: int, confidence: float, label: str) -> Hit | None:
        if end <= start or not self._words:
            return None
        starts = self._surface_starts
        if starts is None:
            starts = self._surface_starts = []
            offset = 0
            for word in self._words:
                starts.append(offset)
                offset += len(word) + 1
        first = bisect.bisect_right(starts, start) - 1
        if start >= starts[first] + len(self._words[first]):
            first += 1  # the match starts on the space after a token
        last = bisect.bisect_right(starts, end - 1) - 1
        if last < first:
            return None
        return self.hit_for_tokens(first, last, confidence, label)

    def hit_for_matching(self, start: int, end: int, confidence: float, label: str) -> Hit | None:
        if end <= start:
            return None
        ostart, oend = self.norm.to_original(start, end)
        first, last = self._tokens_between(start, end)
        return Hit(ostart, oend, first, last, confidence, label)

    def hit_for_original(self, start: int, end: int, confidence: float, label: str) -> Hit | None:
        if end <= start:
            return None
        starts = self._original_token_starts()
        # The token range is only used for proximity, so the nearest token is good enough.
        first = max(0, bisect.bisect_right(starts, start) - 1)
        last = max(first, bisect.bisect_left(starts, end) - 1)
        return Hit(start, end, first, last, confidence, label)

    def _tokens_between(self, norm_start: int, norm_end: int) -> tuple[int, int]:
        starts = [start for start, _ in self.spans()]
        first = max(0, bisect.bisect_right(starts, norm_start) - 1)
        last = max(first, bisect.bisect_left(starts, norm_end) - 1)
        return first, last

    def _original_token_starts(self) -> list[int]:
        # Computed only when an original-surface rule matched, which is rare.
        if self._token_starts is None:
            self._token_starts = [
                self.norm.to_original(start, end)[0] for start, end in self.spans()
            ]
        return self._token_starts

    def post_words(self) -> tuple[str, ...]:
        if self._post_tokens is None:
            self._post_tokens = tuple(t.text for t in tokenise(normalise(self.post_text).text))
        return self._post_tokens

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Detectors shared between clauses (e.g. profanity inside a composite) run once."""
        # One lookup when it is there, and no KeyError raised and caught when it is not (a
        # third of the asks, at about a microsecond each).
        value = self._memo.get(key, _MISSING)
        if value is _MISSING:
            value = self._memo[key] = compute()
        return value

    def recall(self, key: Hashable) -> Any:
        """What ``memo`` or ``remember`` stored under ``key``, or None."""
        return self._memo.get(key)

    def remembers(self, key: Hashable) -> bool:
        return key in self._memo

    def remember(self, key: Hashable, value: Any) -> None:
        """Store what a batch computed for this document, for ``memo`` to return."""
        self._memo[key] = value
