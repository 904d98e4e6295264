"""The same run of words again and again inside one comment: a signal, never a breach alone.

"The same message posted many times" is about posts, and the rate windows count an author's
near-copies across posts. Inside one comment, repetition is how angry people write ("Four hours.
FOUR HOURS."), so the classifier refuses a policy where this detector alone makes a violation
finding (``alone_makes_findings``); it may only corroborate another signal in an ``all_of``.
"""

from __future__ import annotations

from collections import Counter

from streams.classify.composite import CompositeDetector
from streams.classify.detectors import BuildContext, Detector, Params
from streams.classify.document import Document, Hit


class RepetitionDetector(Detector):
    def __init__(self, params: Params, ctx: BuildContext) -> None:
        self.ngram = params.integer("ngram", 3, low=1) or 3
        self.min_repeats = params.integer("min_repeats", 3, low=2) or 3
        self.confidence = params.number("confidence", 0.6)

    def detect(self, doc: Document) -> list[Hit]:
        words = doc.token_words()
        n = self.ngram
        if len(words) < n * self.min_repeats:
            return []
        # An n-gram pasted k times repeats its first word k times: with fewer than k - 1
        # repeated words in all, nothing can be (one C-level set build).
        if len(words) - len(set(words)) < self.min_repeats - 1:
            return []
        # Counting every occurrence, overlapping ones too, is an upper bound on the pastes
        # counted below and runs in C: most comments repeat nothing and stop here.
        # The shifted copies differ in length on purpose: zip stops at the last whole n-gram.
        shifted = (words[i:] for i in range(n))
        grams = Counter(words if n == 1 else zip(*shifted, strict=False))
        if max(grams.values()) < self.min_repeats:
            return []
        seen: dict[tuple[str, ...], list[int]] = {}
        for index in range(len(words) - n + 1):
            starts = seen.setdefault(words[index : index + n], [])
            # Count non-overlapping occurrences only: "ha ha ha ha" is not three pastes.
            if not starts or index >= starts[-1] + n:
                starts.append(index)
        best = max(seen.values(), key=len, default=[])
        if len(best) < self.min_repeats:
            return []
        return [doc.hit_for_tokens(best[0], best[-1] + n - 1, self.confidence, "repeated_text")]


def alone_makes_findings(detector: Detector) -> bool:
    """Whether repetition by itself is enough for ``detector`` to hit."""
    if isinstance(detector, RepetitionDetector):
        return True
    if isinstance(detector, CompositeDetector):
        members = [alone_makes_findings(m) for m in detector.members]
        return any(members) if detector.mode == "any_of" else all(members)
    return False
