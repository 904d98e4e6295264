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
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from streams.normalise.text import NormalisedText, normalise

# A token is a run of letters/digits; an apostrophe inside a word does not split it.
TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_APOSTROPHES = str.maketrans("", "", "'’")


class Token(NamedTuple):
    # A tuple rather than a dataclass: every token of every comment is one, so it is hot.
    text: str  # apostrophes removed
    norm_start: int  # span in the matching form
    norm_end: int


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


def tokenise(text: str) -> list[Token]:
    return [
        Token(m.group().translate(_APOSTROPHES), m.start(), m.end()) for m in TOKEN.finditer(text)
    ]


@dataclass
class Document:
    original: str
    norm: NormalisedText
    tokens: tuple[Token, ...]
    surface: str
    post_text: str = ""
    _surface_starts: list[int] = field(default_factory=list, repr=False)  # per token
    _words: tuple[str, ...] = field(default=(), repr=False)
    _token_starts: list[int] | None = field(default=None, repr=False)
    _post_tokens: tuple[str, ...] | None = field(default=None, repr=False)
    _memo: dict[Hashable, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, text: str, post_text: str = "") -> Document:
        norm = normalise(text)
        tokens = tuple(tokenise(norm.text))
        starts: list[int] = []
        offset = 0
        for token in tokens:
            starts.append(offset)
            offset += len(token.text) + 1
        return cls(
            original=text,
            norm=norm,
            tokens=tokens,
            surface=" ".join(t.text for t in tokens),
            post_text=post_text,
            _surface_starts=starts,
            _words=tuple(t.text for t in tokens),
        )

    @property
    def matching(self) -> str:
        return self.norm.text

    def token_words(self) -> tuple[str, ...]:
        return self._words

    def hit_for_tokens(self, first: int, last: int, confidence: float, label: str) -> Hit:
        start, end = self.norm.to_original(
            self.tokens[first].norm_start, self.tokens[last].norm_end
        )
        return Hit(start, end, first, last, confidence, label)

    def hit_for_surface(self, start: int, end: int, confidence: float, label: str) -> Hit | None:
        if end <= start or not self.tokens:
            return None
        starts = self._surface_starts
        first = bisect.bisect_right(starts, start) - 1
        if start >= starts[first] + len(self.tokens[first].text):
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
        starts = [t.norm_start for t in self.tokens]
        first = max(0, bisect.bisect_right(starts, norm_start) - 1)
        last = max(first, bisect.bisect_left(starts, norm_end) - 1)
        return first, last

    def _original_token_starts(self) -> list[int]:
        # Computed only when an original-surface rule matched, which is rare.
        if self._token_starts is None:
            self._token_starts = [
                self.norm.to_original(t.norm_start, t.norm_end)[0] for t in self.tokens
            ]
        return self._token_starts

    def post_words(self) -> tuple[str, ...]:
        if self._post_tokens is None:
            self._post_tokens = tuple(t.text for t in tokenise(normalise(self.post_text).text))
        return self._post_tokens

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """Detectors shared between clauses (e.g. profanity inside a composite) run once."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]
