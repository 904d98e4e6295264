"""Trolling: controversial cues in a comment that has nothing to do with the post it replies to.

Relevance is the cosine between character-trigram vectors of the content words of the comment
and of the post. Trigrams make "vaccine" and "vaccination" similar without a stemmer; the whole
thing is a few microseconds and explains itself (a number and the cue word), where a sentence-
embedding model would cost a model download, ~100x the CPU and still need the cue words to tell
"off-topic and inflammatory" from "off-topic and harmless". Measured in docs/quality.md.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

from streams.classify.detectors import BuildContext, Detector, Params
from streams.classify.document import Document, Hit


def trigrams(words: Iterable[str]) -> Counter[str]:
    grams: Counter[str] = Counter()
    for word in words:
        padded = f" {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def cosine(a: Counter[str], b: Counter[str]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(count * b[gram] for gram, count in a.items() if gram in b)
    return dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


class TopicRelevanceDetector(Detector):
    """Hits on the first trolling cue when all three hold: the post text is known, the comment
    is off-topic (similarity below ``max_similarity`` and none of the ``on_topic`` words, which
    keep any comment about the health service relevant), and it carries a ``cues`` word."""

    def __init__(self, params: Params, ctx: BuildContext) -> None:
        self.cues = tuple(ctx.lexicon(n, params) for n in params.names("cues", required=True))
        self.on_topic = tuple(ctx.lexicon(n, params) for n in params.names("on_topic"))
        stop = params.get("stopwords")
        if stop is not None and not isinstance(stop, str):
            raise params.error("params.stopwords must be the name of one word list")
        self.stopwords = ctx.lexicon(stop, params) if stop else None
        self.max_similarity = params.number("max_similarity", 0.15)
        self.confidence = params.number("confidence", 0.7)

    def similarity(self, doc: Document) -> float:
        return cosine(
            trigrams(self._content(doc.token_words())), trigrams(self._content(doc.post_words()))
        )

    def detect(self, doc: Document) -> list[Hit]:
        if not doc.post_text.strip():
            return []
        words = doc.token_words()
        cues = [m for lexicon in self.cues for m in lexicon.find(words)]
        if not cues:
            return []
        if any(True for lexicon in self.on_topic for _ in lexicon.find(words)):
            return []
        if self.similarity(doc) >= self.max_similarity:
            return []
        first = min(cues, key=lambda m: m.first)
        return [doc.hit_for_tokens(first.first, first.last, self.confidence, first.label)]

    def _content(self, words: tuple[str, ...]) -> list[str]:
        if self.stopwords is None:
            return list(words)
        stopped: set[int] = set()
        for m in self.stopwords.find(words):
            stopped.update(range(m.first, m.last + 1))
        return [w for i, w in enumerate(words) if i not in stopped]
