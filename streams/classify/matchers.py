"""The two explainable workhorses: word lists (``lexicon``) and regexes (``pattern``)."""

from __future__ import annotations

import re
from itertools import islice
from typing import Any

from streams.classify.detectors import (
    MAX_HITS_PER_DETECTOR,
    BuildContext,
    ContextFilter,
    Detector,
    Params,
)
from streams.classify.document import SURFACES, Document, Hit
from streams.classify.welsh_mutations import expand_macros
from streams.classify.word_gate import WordGate, WordSets


class LexiconDetector(Detector):
    """Whole-token matches from one or more word lists; the entry's label becomes the hit's."""

    def __init__(self, params: Params, ctx: BuildContext) -> None:
        self.lexicons = tuple(ctx.lexicon(n, params) for n in params.names("lists", required=True))
        self.confidence = params.number("confidence", 0.9)
        self.filter = ContextFilter(params, ctx)
        # An empty list can match nothing, so it is left out rather than probed.
        listed = tuple(lexicon for lexicon in self.lexicons if len(lexicon))
        self._probed = tuple(
            (lexicon, ctx.prefilter.lexicon(lexicon) if ctx.prefilter is not None else None)
            for lexicon in listed
        )
        self._probe_ids = frozenset(p.id for _, p in self._probed if p is not None)
        self._unprobed = any(p is None for _, p in self._probed)
        self._surface = next((p.surface for _, p in self._probed if p is not None), "")

    def may_hit(self, doc: Document) -> bool:
        return (
            self._unprobed or "tokens" in doc.unscanned or not self._probe_ids.isdisjoint(doc.fired)
        )

    def probe_ids(self) -> frozenset[int]:
        return self._probe_ids

    def detect(self, doc: Document) -> list[Hit]:
        hits = (
            doc.hit_for_tokens(m.first, m.last, self.confidence, m.label)
            for lexicon, probe in self._probed
            if probe is None or doc.may_match(probe)
            for m in lexicon.find_in(doc)
        )
        kept = (h for h in hits if not self.filter or self.filter.keep(doc, h))
        # Stop early: a comment that repeats a word thousands of times must not cost more.
        return list(islice(kept, MAX_HITS_PER_DETECTOR))


class PatternDetector(Detector):
    """Named regexes. ``rules`` maps a rule name (the hit's label) to a regex.

    ``surface: tokens`` (default) sees words joined by single spaces, apostrophes dropped, so
    ``i know where (you|u) live`` also matches "I KNOW... where you live!!". ``original`` keeps
    URLs, phone numbers and capitalisation (``case_sensitive: true`` for names after a title).

    ``terms`` names cue lists that rules combine instead of spelling out sentences: with
    ``terms: {med: [tablets, pills, sertraline]}`` the rule ``swallowed (\\w+ ){0,3}{med}``
    reads ``{med}`` as ``(?:tablets|pills|sertraline)``. A term may use earlier terms. A
    ``{name}`` that is not a term is a PolicyError (regex repeats such as ``{0,3}`` are digits).
    ``{mut:poen}`` is a Welsh word with all its mutated forms (see ``welsh_mutations``).
    """

    def __init__(self, params: Params, ctx: BuildContext) -> None:
        self.surface = params.choice("surface", "tokens", SURFACES)
        self.confidence = params.number("confidence", 0.9)
        flags = 0 if params.flag("case_sensitive", False) else re.IGNORECASE
        terms = _terms(params)
        rules = params.required("rules")
        if not hasattr(rules, "items") or not rules:
            raise params.error("params.rules must be a non-empty mapping of name: regex")
        self.rules = tuple(
            self._rule(params, str(name), spec, flags, terms) for name, spec in rules.items()
        )
        self.filter = ContextFilter(params, ctx)
        # Most comments match none of a detector's rules: one scan with all of them as a gate
        # is several times cheaper than one scan per rule.
        self.gate = re.compile("|".join(f"(?:{r.pattern})" for _, r in self.rules), flags)
        # Cheaper still for rules that begin with known words: skip the scan unless the
        # comment has one of them (see word_gate). The gates serve comments the prefilter
        # cannot scan exactly; for the rest, its one scan says which rules can match.
        self.words = WordGate(self.rules)
        self._probes = (
            tuple(ctx.prefilter.rule(self.surface, regex) for _, regex in self.rules)
            if ctx.prefilter is not None
            else None
        )
        self._probe_ids = frozenset(p.id for p in self._probes or ())

    def may_hit(self, doc: Document) -> bool:
        return (
            self._probes is None
            or self.surface in doc.unscanned
            or not self._probe_ids.isdisjoint(doc.fired)
        )

    def probe_ids(self) -> frozenset[int]:
        return self._probe_ids

    @staticmethod
    def _rule(
        params: Params, name: str, spec: Any, flags: int, terms: dict[str, str]
    ) -> tuple[str, re.Pattern[str]]:
        """A rule is ``name: regex`` or ``name: {regex: ..., label: ...}`` (label defaults to
        the name); labels let several rules share one sub-label such as a hate strand."""
        if isinstance(spec, str):
            return name, params.compile(f"'{name}'", _expand(params, name, spec, terms), flags)
        if hasattr(spec, "get") and isinstance(spec.get("regex"), str):
            unknown = sorted(set(spec) - {"regex", "label"})
            if unknown:
                raise params.error(f"rule '{name}': unknown field(s) {', '.join(unknown)}")
            label = spec.get("label", name)
            regex = _expand(params, name, spec["regex"], terms)
            return str(label), params.compile(f"'{name}'", regex, flags)
        raise params.error(f"rule '{name}' must be a regex or a mapping with 'regex' and 'label'")

    def detect(self, doc: Document) -> list[Hit]:
        text, to_hit = {
            "tokens": (doc.surface, doc.hit_for_surface),
            "normalised": (doc.matching, doc.hit_for_matching),
            "original": (doc.original, doc.hit_for_original),
        }[self.surface]
        rules = self.rules
        if self._probes is not None and self.surface not in doc.unscanned:
            fired = doc.fired
            rules = tuple(
                rule
                for rule, probe in zip(self.rules, self._probes, strict=True)
                if probe.id in fired
            )
        elif self.words.useful:
            words: WordSets = doc.memo(
                (self.surface, self.words.ignore_case),
                lambda: WordSets(text, self.words.ignore_case),
            )
            rules = self.words.candidates(words)
            if not rules:
                return []
        if len(rules) == len(self.rules) and self.gate.search(text) is None:
            return []
        hits: list[Hit] = []
        for name, regex in rules:
            for m in regex.finditer(text):
                hit = to_hit(m.start(), m.end(), self.confidence, name)
                if hit is not None and (not self.filter or self.filter.keep(doc, hit)):
                    hits.append(hit)
                    if len(hits) >= MAX_HITS_PER_DETECTOR:
                        return hits
        return hits


_TERM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _terms(params: Params) -> dict[str, str]:
    """``terms``: name -> list of alternatives, each one a regex fragment that may use other
    terms (in any order; a term that uses itself, directly or not, is a PolicyError)."""
    raw = params.get("terms", {})
    if not hasattr(raw, "items"):
        raise params.error("params.terms must be a mapping of name: [alternatives]")
    spec: dict[str, tuple[str, ...]] = {}
    for name, alternatives in raw.items():
        if isinstance(alternatives, str):
            alternatives = (alternatives,)
        if (
            not isinstance(name, str)
            or not isinstance(alternatives, tuple | list)
            or not alternatives
            or not all(isinstance(a, str) and a for a in alternatives)
        ):
            raise params.error(f"params.terms.{name} must be a non-empty list of strings")
        spec[name] = tuple(alternatives)
    terms: dict[str, str] = {}

    def resolve(name: str, using: tuple[str, ...]) -> None:
        if name in using:
            raise params.error(f"params.terms.{name} uses itself")
        for m in _TERM.finditer(" ".join(spec[name])):
            if m.group(1) in spec and m.group(1) not in terms:
                resolve(m.group(1), (*using, name))
        # Longest first, so "chest pains" is tried before "chest pain".
        ordered = sorted(spec[name], key=len, reverse=True)
        body = "|".join(_expand(params, f"terms.{name}", a, terms) for a in ordered)
        terms[name] = f"(?:{body})"

    for name in spec:
        if name not in terms:
            resolve(name, ())
    return terms


def _expand(params: Params, name: str, regex: str, terms: dict[str, str]) -> str:
    regex = expand_macros(regex)  # {mut:poen}: the word and its Welsh mutations

    def replace(m: re.Match[str]) -> str:
        if m.group(1) not in terms:
            raise params.error(f"rule '{name}' uses unknown term {{{m.group(1)}}}")
        return terms[m.group(1)]

    return _TERM.sub(replace, regex)
