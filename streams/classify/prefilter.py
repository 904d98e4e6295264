"""One multi-pattern scan per comment surface, saying which rules and word lists can match.

Python's ``re`` runs one regex at a time, and most comments match none of the policy's ~170
rules, so checking each one costs far more than finding what does match. Hyperscan compiles
every rule and word list of a surface into one automaton and scans the text once.

It is a prefilter, never the judge: every rule is compiled in Hyperscan's prefiltering mode,
which over-approximates what the engine cannot do (lookarounds, backreferences), so a rule it
does not report cannot match; the rules it reports are run with ``re`` exactly as before, and
the findings are the same bytes (tests/unit/classify/test_prefilter_equivalence.py). Three
things keep that promise where the two engines could disagree:

- only text made of printable ASCII, tab, CR and LF is scanned; any other text (emoji, accents
  the normaliser keeps, control characters) leaves that surface unscanned and the detectors take
  their old path (word gate, then ``re``). ``\\s``, ``\\w``, ``\\b`` and case-folding are the same
  in both engines on such text;
- a rule is sent to Hyperscan only if its syntax means the same in both dialects (no ``{,n}``,
  no flags beyond IGNORECASE, no non-ASCII character that ``re`` would fold onto an ASCII one);
  others, and any Hyperscan refuses, are "always possible";
- a word list is probed on the *squeezed* token surface (every run of a letter cut to one, as
  the list's own lookup squeezes tokens) by the squeezed forms of its entries' first words as
  whole words, and of its prefixes as word starts: every token the lookup could start a match
  on is found, so it can only over-report. Literals keep the scan fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from streams.classify.document import SURFACES, Document, Probe
from streams.classify.lexicon import Lexicon, squeeze

try:  # a declared dependency; without it (an unsupported platform) every rule simply runs
    import hyperscan
except ImportError:  # pragma: no cover
    hyperscan = None  # type: ignore[assignment]

# Characters on which Python's re and Hyperscan agree for \w, \s, \b, \d, "." and case.
_UNSAFE_TEXT = re.compile(r"[^\t\n\r\x20-\x7e]")
_PYTHON_ONLY_SYNTAX = re.compile(r"\{,")
_KNOWN_FLAGS = re.IGNORECASE | re.UNICODE
# Word lists are probed on the token surface with runs of a letter squeezed to one.
SQUEEZED = "squeezed"
SCANNED = (*SURFACES, SQUEEZED)
_WORDS_ONLY = frozenset({"tokens", SQUEEZED})


class Prefilter:
    """Collects probes while a classifier's detectors are built, then compiles them."""

    def __init__(self) -> None:
        self._ids: dict[tuple[str, str, bool], Probe] = {}
        self._patterns: dict[str, list[tuple[int, str, bool]]] = {s: [] for s in SCANNED}
        self._always: set[int] = set()
        self._databases: dict[str, Any] = {}
        self.compiled = False

    @property
    def size(self) -> int:
        return len(self._ids)

    @property
    def always(self) -> frozenset[int]:
        """Probes the scan cannot answer, reported as possible on every scanned comment."""
        return frozenset(self._always)

    def rule(self, surface: str, regex: re.Pattern[str]) -> Probe:
        """A probe for one regex rule on one surface."""
        ignore_case = bool(regex.flags & re.IGNORECASE)
        probe = self._add(surface, regex.pattern, ignore_case)
        if not _same_in_both_dialects(regex):
            self._always.add(probe.id)
        return probe

    def lexicon(self, lexicon: Lexicon) -> Probe:
        """A probe for any token the word list could start a match on."""
        return self._add(SQUEEZED, lexicon_probe_regex(lexicon), False)

    def compile(self) -> None:
        """Build one database per surface; a pattern Hyperscan refuses becomes "always"."""
        self.compiled = True
        if hyperscan is None:
            self._always.update(p.id for p in self._ids.values())
            return
        for surface, patterns in self._patterns.items():
            if not patterns:
                continue
            database, refused = _database(tuple(patterns))
            self._databases[surface] = database
            self._always.update(refused)

    def scan(self, doc: Document) -> None:
        """Record on ``doc`` which probes may match it, and which surfaces went unscanned."""
        if not self._databases:
            return
        fired = set(self._always)
        unscanned = []
        add = fired.add

        def on_match(probe_id: int, start: int, end: int, flags: int, context: object) -> None:
            add(probe_id)

        for surface, database in self._databases.items():
            if surface in _WORDS_ONLY:
                # Letters, digits and single spaces: ASCII is all there is to check.
                text = doc.squeezed() if surface == SQUEEZED else doc.surface
                safe = text.isascii()
            else:
                text = _text_of(doc, surface)
                safe = text.isascii() and _UNSAFE_TEXT.search(text) is None
            if not safe:
                unscanned.append(surface)
                continue
            database.scan(text.encode("ascii"), match_event_handler=on_match)
        doc.fired = fired
        doc.unscanned = frozenset(unscanned)

    def scan_all(self, docs: Iterable[Document]) -> None:
        for doc in docs:
            self.scan(doc)

    def _add(self, surface: str, pattern: str, ignore_case: bool) -> Probe:
        key = (surface, pattern, ignore_case)
        probe = self._ids.get(key)
        if probe is None:
            if self.compiled:
                raise RuntimeError("probes must be added before the prefilter is compiled")
            probe = Probe(surface, len(self._ids))
            self._ids[key] = probe
            self._patterns[surface].append((probe.id, pattern, ignore_case))
        return probe


def _text_of(doc: Document, surface: str) -> str:
    if surface == "tokens":
        return doc.surface
    if surface == "normalised":
        return doc.matching
    return doc.original


def _same_in_both_dialects(regex: re.Pattern[str]) -> bool:
    if regex.flags & ~_KNOWN_FLAGS or _PYTHON_ONLY_SYNTAX.search(regex.pattern):
        return False
    if regex.pattern.isascii():
        return True
    if not regex.flags & re.IGNORECASE:
        return True
    # "K" (Kelvin sign) or "ſ" in a rule match "k" and "s" under re.IGNORECASE.
    return not any(_folds_onto_ascii(ch) for ch in set(regex.pattern) if not ch.isascii())


@lru_cache(maxsize=4096)
def _folds_onto_ascii(ch: str) -> bool:
    literal = re.compile(re.escape(ch), re.IGNORECASE)
    return any(literal.fullmatch(chr(code)) for code in range(128))


def lexicon_probe_regex(lexicon: Lexicon) -> str:
    """A regex over the squeezed token surface finding every token ``Lexicon.find`` could start
    a match on. The lookup starts one on a token equal to an entry's first word (so with the
    same squeezed form), on a token whose squeezed form is a squeezed entry, or on a token that,
    squeezed or not, starts with a prefix entry p (then its squeezed form starts with
    squeeze(p))."""
    whole = sorted({re.escape(squeeze(w)) for w in lexicon.first_words()})
    prefixes = sorted({re.escape(squeeze(p)) for p in lexicon.prefix_words()})
    branches = []
    if whole:
        branches.append(f"\\b(?:{'|'.join(whole)})\\b")
    if prefixes:
        branches.append(f"\\b(?:{'|'.join(prefixes)})")
    if not branches:
        raise ValueError(f"word list {lexicon.name!r} is empty: nothing to probe for")
    return "|".join(branches)


def _repeatable(word: str) -> str:
    """ "bok" -> "b+o+k+": the tokens whose squeezed form is ``word``."""
    return "".join(f"{re.escape(ch)}+" for ch in word)


@lru_cache(maxsize=16)
def _database(patterns: tuple[tuple[int, str, bool], ...]) -> tuple[Any, frozenset[int]]:
    """Compiled once per set of patterns (a classifier per policy version; tests build many)."""
    refused: set[int] = set()
    while True:
        kept = [p for p in patterns if p[0] not in refused]
        if not kept:
            return None, frozenset(refused)
        try:
            return _compile(kept), frozenset(refused)
        except hyperscan.error:
            # Find the patterns Hyperscan refuses one by one (rare: only on this path).
            bad = {p[0] for p in kept if not _compiles(p)}
            if not bad:
                raise
            refused |= bad


def _compiles(pattern: tuple[int, str, bool]) -> bool:
    try:
        _compile([pattern])
    except hyperscan.error:
        return False
    return True


def _compile(patterns: Sequence[tuple[int, str, bool]]) -> Any:
    base = (
        hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_ALLOWEMPTY
    )

    def flags(pattern: str, ignore_case: bool) -> int:
        # Byte mode compiles about 2x faster; only the text's ASCII is ever scanned, so a rule
        # needs UTF-8 mode only to read its own non-ASCII characters (e.g. "£") whole.
        return (
            base
            | (0 if pattern.isascii() else hyperscan.HS_FLAG_UTF8)
            | (hyperscan.HS_FLAG_CASELESS if ignore_case else 0)
        )

    database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=[pattern.encode("utf-8") for _, pattern, _ in patterns],
        ids=[probe_id for probe_id, _, _ in patterns],
        elements=len(patterns),
        flags=[flags(pattern, ic) for _, pattern, ic in patterns],
    )
    return database
