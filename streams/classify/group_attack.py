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
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping

from streams.classify.detectors import BuildContext, ContextFilter, Detector, Params
from streams.classify.document import Document, Hit

PLACEHOLDER = "GROUP"


class GroupAttackDetector(Detector):
    def __init__(self, params: Params, ctx: BuildContext) -> None:
        self.groups = ctx.lexicon(params.required("groups"), params)
        # Which strands this detector speaks for: the law's five hate-crime strands belong to
        # the hate clause, sex to the discriminatory one; every mention still becomes GROUP.
        self.strands = frozenset(params.names("strands"))
        self.confidence = params.number("confidence", 0.9)
        rules = params.required("rules")
        if not isinstance(rules, Mapping) or not rules:
            raise params.error("params.rules must map rule names to regexes")
        # One alternation, one scan; the label is the group's strand, not the rule's name.
        for name, regex in sorted(rules.items()):
            params.compile(f"rules.{name}", regex)  # a bad rule is named on its own
        self.rules = params.compile("rules", "|".join(f"(?:{r})" for _, r in sorted(rules.items())))
        self.filter = ContextFilter(params, ctx)

    def detect(self, doc: Document) -> list[Hit]:
        words = doc.token_words()
        # Every group_attack detector of the policy reads the same mentions: found once.
        mentions = self.groups.find_once(doc)
        if not mentions:
            return []
        # The rewritten surface, and for each of its tokens the original tokens it stands for.
        tokens: list[str] = []
        spans: list[tuple[int, int, str]] = []  # (first, last, strand or "")
        index = 0
        for mention in mentions:
            for i in range(index, mention.first):
                tokens.append(words[i])
                spans.append((i, i, ""))
            tokens.append(PLACEHOLDER)
            spans.append((mention.first, mention.last, mention.label))
            index = mention.last + 1
        for i in range(index, len(words)):
            tokens.append(words[i])
            spans.append((i, i, ""))
        starts = []
        offset = 0
        for token in tokens:
            starts.append(offset)
            offset += len(token) + 1
        surface = " ".join(tokens)
        hits = []
        for match in self.rules.finditer(surface):
            first = bisect.bisect_right(starts, match.start()) - 1
            last = bisect.bisect_right(starts, match.end() - 1) - 1
            strands = [spans[t][2] for t in range(first, last + 1) if spans[t][2]]
            if self.strands:
                strands = [s for s in strands if s in self.strands]
            if not strands:
                continue
            hit = doc.hit_for_tokens(spans[first][0], spans[last][1], self.confidence, strands[0])
            if not self.filter or self.filter.keep(doc, hit):
                hits.append(hit)
        return hits
