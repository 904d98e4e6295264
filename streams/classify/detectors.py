"""What every detector shares: the hit interface, parameter reading, and context exemptions."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from streams.classify.document import Document, Hit
from streams.classify.lexicon import Lexicon
from streams.policy.model import PolicyError

if TYPE_CHECKING:  # these build on this module; the imports are for the annotations only
    from streams.classify.names import NameRegistry
    from streams.classify.prefilter import Prefilter

# A comment that repeats a slur fifty times is no more of a breach than one that uses it twice,
# and evidence lists stay readable.
MAX_HITS_PER_DETECTOR = 10
_QUOTES = frozenset("\"'“”‘’«»")
_SENTENCE_END = re.compile(r"[.!?\n]")


class Detector(ABC):
    """Turns a document into hits. Pure, deterministic, and safe to share between clauses.

    Batches: ``hits_batch`` runs ``detect_batch`` once over the documents not yet seen and keeps
    each result in its document's memo, so a composite (or a clause) asking ``hits`` later gets
    it for free. A detector that can vectorise a whole batch (a trained model) overrides
    ``detect_batch``; the result must equal ``[detect(d) for d in docs]``.

    ``may_hit`` is the prefilter's answer for this detector: False only when it cannot hit the
    document at all, so the classifier may skip it. The default is True (always run).
    """

    def hits(self, doc: Document) -> list[Hit]:
        # Asked about thirty times per comment (every clause and composite that reads it), so
        # the remembered list is looked up once, with no closure built on the way.
        found: list[Hit] | None = doc.recall(id(self))
        if found is None:
            found = self.detect(doc)[:MAX_HITS_PER_DETECTOR]
            doc.remember(id(self), found)
        return found

    def hits_batch(self, docs: Sequence[Document]) -> list[list[Hit]]:
        key = id(self)
        todo = [doc for doc in docs if not doc.remembers(key)]
        if todo:
            for doc, found in zip(todo, self.detect_batch(todo), strict=True):
                doc.remember(key, found[:MAX_HITS_PER_DETECTOR])
        return [self.hits(doc) for doc in docs]

    def detect_batch(self, docs: Sequence[Document]) -> list[list[Hit]]:
        return [self.detect(doc) for doc in docs]

    def may_hit(self, doc: Document) -> bool:
        return True

    def serve(self, threshold: float) -> None:
        """Told, once per use, the lowest confidence at which one of this detector's hits can
        still count there (its spec's threshold; 0 under a veto, where any hit counts). A
        detector may then skip the work for hits that could count nowhere. Default: nothing."""
        return None

    def probe_ids(self) -> frozenset[int]:
        """Every prefilter probe ``may_hit`` reads (none: it does not depend on the scan)."""
        return frozenset()

    @abstractmethod
    def detect(self, doc: Document) -> list[Hit]: ...


class Params:
    """Reads one detector's params; an unknown or ill-typed one is a PolicyError naming it."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where
        self._used: set[str] = set()

    def error(self, message: str) -> PolicyError:
        return PolicyError(f"{self.where}: {message}")

    def get(self, key: str, default: Any = None) -> Any:
        self._used.add(key)
        return self.raw.get(key, default)

    def required(self, key: str) -> Any:
        self._used.add(key)
        if key not in self.raw:
            raise self.error(f"params.{key} is missing")
        return self.raw[key]

    def number(self, key: str, default: float, low: float = 0.0, high: float = 1.0) -> float:
        value = self.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise self.error(f"params.{key} must be a number from {low:g} to {high:g}")
        return float(value)

    def integer(self, key: str, default: int | None, low: int = 0) -> int | None:
        value = self.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.error(f"params.{key} must be a whole number >= {low}")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.error(f"params.{key} must be true or false")
        return value

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.get(key, default)
        if value not in choices:
            raise self.error(f"params.{key} {value!r} is unknown; use one of {', '.join(choices)}")
        return str(value)

    def names(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        value = self.required(key) if required else self.get(key, ())
        if isinstance(value, str):
            value = (value,)
        if not isinstance(value, tuple | list) or not all(isinstance(v, str) for v in value):
            raise self.error(f"params.{key} must be a list of names")
        if required and not value:
            raise self.error(f"params.{key} must not be empty")
        return tuple(value)

    def regexes(self, key: str) -> tuple[re.Pattern[str], ...]:
        return tuple(self.compile(f"{key}[{i}]", r) for i, r in enumerate(self.names(key)))

    def compile(self, name: str, regex: str, flags: int = 0) -> re.Pattern[str]:
        try:
            return re.compile(regex, flags)
        except re.error as exc:
            raise self.error(f"regex {name} does not compile: {exc}") from exc

    def check_all_used(self) -> None:
        unknown = sorted(set(self.raw) - self._used)
        if unknown:
            raise self.error(f"unknown params {', '.join(unknown)}")


@dataclass(frozen=True)
class BuildContext:
    """What a detector factory may use: word lists, the name registry, and the builder itself
    (so a composite can build its members)."""

    lexicon: Callable[[str, Params], Lexicon]
    build: Callable[[str, Mapping[str, Any], str], Detector]
    names: NameRegistry | None
    # Where rules and word lists register what the one scan per comment looks for; None when
    # a detector is built outside a classifier, and then it runs every rule.
    prefilter: Prefilter | None = None


class ContextFilter:
    """Drops hits whose surroundings show the words are not used against anyone.

    - ``allow``: word lists of innocent phrases ("blue tits", "Offa's Dyke", "breast screening");
      a hit inside one of them is dropped.
    - ``unless_before`` / ``unless_after``: regexes searched in the ``context_tokens`` words
      before/after the hit, e.g. reporting frames ("called me a ..."), so quoting a slur to
      complain about it is not itself a breach.
    - ``unless_quoted``: the hit sits inside quotation marks in the original text.
    - ``unless_question``: the sentence holding the hit ends in "?" (asking about a claim is
      not making it).
    """

    def __init__(self, params: Params, ctx: BuildContext) -> None:
        self.allow = tuple(ctx.lexicon(name, params) for name in params.names("allow"))
        self.before = params.regexes("unless_before")
        self.after = params.regexes("unless_after")
        self.window = params.integer("context_tokens", 4, low=1) or 4
        self.quoted = params.flag("unless_quoted", False)
        self.question = params.flag("unless_question", False)

    def __bool__(self) -> bool:
        return bool(self.allow or self.before or self.after or self.quoted or self.question)

    def keep(self, doc: Document, hit: Hit) -> bool:
        if self.allow:
            spans: list[tuple[int, int]] = doc.memo(id(self), lambda: self._allowed(doc))
            if any(a <= hit.last_token and hit.first_token <= b for a, b in spans):
                return False
        words = doc.token_words()
        if self.before:
            window = " ".join(words[max(0, hit.first_token - self.window) : hit.first_token])
            if any(r.search(window) for r in self.before):
                return False
        if self.after:
            window = " ".join(words[hit.last_token + 1 : hit.last_token + 1 + self.window])
            if any(r.search(window) for r in self.after):
                return False
        if self.question and _in_question(doc.original, hit.end):
            return False
        return not (self.quoted and _inside_quotes(doc.original, hit.start, hit.end))

    def _allowed(self, doc: Document) -> list[tuple[int, int]]:
        return [(m.first, m.last) for lexicon in self.allow for m in lexicon.find_in(doc)]


def _in_question(text: str, end: int) -> bool:
    stop = _SENTENCE_END.search(text, end)
    return stop is not None and stop.group() == "?"


def _inside_quotes(text: str, start: int, end: int) -> bool:
    before = text[:start].rstrip()
    after = text[end:].lstrip()
    return bool(before) and bool(after) and before[-1] in _QUOTES and after[0] in _QUOTES
