"""``group_attack``: what is said of a protected group, with the group as a word of its own.

Identity-directed hate is mostly phrased without slurs or swearing ("I hate women.",
"immigrants are a plague", "disabled people should be locked away"). A slur list cannot see
it and a model trained on tweets barely does. This detector reads the structure instead:

1. find every mention of a protected group (a word list whose labels are the strands);
2. rewrite the comment's words with each mention as the single token ``GROUP``;
3. run the ``rules`` (regexes over that surface, written with ``GROUP`` where the group
   stands: ``\\bi (really )?(hate|despise) (all )?GROUP\\b``) for what is said of it;
4. the hit is the matched words, labelled with the strand of the group it names (only the
   ``strands`` listed, when the param is given).

Negation is part of the rules ("i hate GROUP" does not match "i dont hate GROUP"); questions,
quotation, reporting ("saying GROUP are scum is …") and counter-speech ("… is disgusting")
are the shared ``ContextFilter``'s ``unless_*`` params, as for every detector.

Spelling: the normaliser already undoes leetspeak, spaced letters and homoglyphs ("k i l l",
"sh1t"). What it cannot undo is a plain typo, and people who write hate misspell it as often as
anyone ("I haet GROUP", "GROUP are a cancr", "GROUP are scumm", "deathto all GROUP"). So before
the rules run, a word one slip away from a word of the ``spelling`` list (two neighbouring
letters swapped; one letter missing from a word of six or more; the last letter doubled; "to",
"all" or "the" run on) is read as that word. Only words of that list the rules use are
restored, and a slip two of them could have made is left as typed.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping

from streams.classify.detectors import BuildContext, ContextFilter, Detector, Params
from streams.classify.document import Document, Hit
from streams.classify.lexicon import Match
from streams.classify.matchers import _expand as expand_terms
from streams.classify.matchers import _terms as read_terms

PLACEHOLDER = "GROUP"
# Words a slip is repaired towards: literal words of four letters or more in the rules.
_RULE_WORD = re.compile(r"[a-z]{4,}")
_ESCAPE = re.compile(r"\\[A-Za-z]")  # \b, \w ... are not words
_RUN_ON = ("to", "all", "the")  # "deathto all GROUP"


def rule_words(sources: Iterable[str]) -> frozenset[str]:
    """The literal words (four letters or more) the rules' regexes are written with."""
    words: set[str] = set()
    for source in sources:
        words.update(_RULE_WORD.findall(_ESCAPE.sub(" ", source)))
    return frozenset(words)


def slips(vocabulary: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """Each misspelling one slip away from a word of ``vocabulary`` -> the word(s) it stands for.

    A slip that two words could have made is ambiguous and dropped, and a word of the
    vocabulary is never a slip. The vocabulary is a short list of words that carry the
    derogation, chosen so that none is a slip away from a common word ("evil" is out: "veil").
    """
    found: dict[str, set[tuple[str, ...]]] = {}
    for word in vocabulary:
        variants = [word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)]
        if len(word) >= 6:  # a missing letter (not the first): "cancr", "disgustng"
            variants += [word[:i] + word[i + 1 :] for i in range(1, len(word))]
        variants.append(word + word[-1])  # "scumm"
        for variant in variants:
            if variant != word:
                found.setdefault(variant, set()).add((word,))
        for joined in _RUN_ON:
            found.setdefault(word + joined, set()).add((word, joined))
    return {
        variant: next(iter(meanings))
        for variant, meanings in found.items()
        if len(meanings) == 1 and variant not in vocabulary
    }


class GroupAttackDetector(Detector):
    def __init__(self, params: Params, ctx: BuildContext) -> None:
        # One word list or several ("protected_groups" is also what the models mask; a list
        # added after they were trained goes beside it until they are retrained).
        self.groups = tuple(ctx.lexicon(n, params) for n in params.names("groups", required=True))
        # Which strands this detector speaks for: the law's five hate-crime strands belong to
        # the hate clause, sex to the discriminatory one; every mention still becomes GROUP.
        self.strands = frozenset(params.names("strands"))
        self.confidence = params.number("confidence", 0.9)
        rules = params.required("rules")
        if not isinstance(rules, Mapping) or not rules:
            raise params.error("params.rules must map rule names to regexes")
        # ``terms`` as for ``pattern`` rules: a list of derogatory words written once, {bad}.
        terms = read_terms(params)
        expanded = {
            name: expand_terms(params, f"rules.{name}", str(regex), terms)
            for name, regex in rules.items()
        }
        # One alternation, one scan; the label is the group's strand, not the rule's name.
        for name, regex in sorted(expanded.items()):
            params.compile(f"rules.{name}", regex)  # a bad rule is named on its own
        self.rules = params.compile(
            "rules", "|".join(f"(?:{r})" for _, r in sorted(expanded.items()))
        )
        # Slips are repaired towards the words of the ``spelling`` list that the rules use.
        cues = params.get("spelling")
        cue_words = ctx.lexicon(cues, params).first_words() if cues else frozenset()
        self.slips = slips(rule_words(expanded.values()) & cue_words)
        self._scan_key = (
            "group-attack-scan",
            *(g.name for g in self.groups),
            cues,
            self.rules.pattern,
        )
        self.filter = ContextFilter(params, ctx)

    def detect(self, doc: Document) -> list[Hit]:
        words = doc.token_words()
        # Every group_attack detector of the policy reads the same mentions: found once.
        mentions: list[Match] = doc.memo(
            ("group-mentions", *(g.name for g in self.groups)), lambda: self._mentions(doc)
        )
        if not mentions:
            return []
        # Detectors with the same lists and rules (the hate clause's and the discriminatory
        # clause's differ only in the strands they speak for) scan a comment once between them.
        found: list[tuple[int, int, tuple[str, ...]]] = doc.memo(
            self._scan_key, lambda: self._scan(words, mentions)
        )
        hits = []
        for first, last, named in found:
            strands = [s for s in named if s in self.strands] if self.strands else list(named)
            if not strands:
                continue
            hit = doc.hit_for_tokens(first, last, self.confidence, strands[0])
            if not self.filter or self.filter.keep(doc, hit):
                hits.append(hit)
        return hits

    def _scan(
        self, words: tuple[str, ...], mentions: list[Match]
    ) -> list[tuple[int, int, tuple[str, ...]]]:
        """Every rule match on the rewritten surface: the first and last original token it
        covers and the strands of the groups it names."""
        # The rewritten surface, and for each of its tokens the original tokens it stands for.
        tokens: list[str] = []
        spans: list[tuple[int, int, str]] = []  # (first, last, strand or "")
        index = 0
        for mention in mentions:
            self._words(words, index, mention.first, tokens, spans)
            tokens.append(PLACEHOLDER)
            spans.append((mention.first, mention.last, mention.label))
            index = mention.last + 1
        self._words(words, index, len(words), tokens, spans)
        starts = []
        offset = 0
        for token in tokens:
            starts.append(offset)
            offset += len(token) + 1
        found = []
        for match in self.rules.finditer(" ".join(tokens)):
            first = bisect.bisect_right(starts, match.start()) - 1
            last = bisect.bisect_right(starts, match.end() - 1) - 1
            named = tuple(spans[t][2] for t in range(first, last + 1) if spans[t][2])
            if named:
                found.append((spans[first][0], spans[last][1], named))
        return found

    def _mentions(self, doc: Document) -> list[Match]:
        """Every list's mentions, the longest first where two overlap, in text order. Each
        list's walk is shared with its other readers (the models' group masking)."""
        found = sorted(
            (m for lexicon in self.groups for m in lexicon.find_once(doc)),
            key=lambda m: (m.first, -m.last),
        )
        mentions: list[Match] = []
        for match in found:
            if not mentions or match.first > mentions[-1].last:
                mentions.append(match)
        return mentions

    def _words(
        self,
        words: tuple[str, ...],
        start: int,
        end: int,
        tokens: list[str],
        spans: list[tuple[int, int, str]],
    ) -> None:
        """Words ``start``..``end`` onto the surface, slips repaired (each still points at the
        word as typed, so the evidence is the original text)."""
        for i in range(start, end):
            for word in self.slips.get(words[i], (words[i],)):
                tokens.append(word)
                spans.append((i, i, ""))
