"""How well comments' languages are identified, on the labelled sets.

A labelled case says what a fluent reader would: ``cy``, ``en`` or ``mixed``. A ``cy`` or ``en``
case is right when it is identified as that language; a ``mixed`` case when it is classified
under both. The target is counted on comments of five words or more: shorter ones are often
both languages at once ("ok", "ward 7") and are allowed to be ``und``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from streams.classify.evaluation import Case
from streams.language import LanguageReading, identify

if TYPE_CHECKING:
    from lingua import LanguageDetector

MIN_WORDS = 5
_WORD = re.compile(r"[^\W\d_]+")


@dataclass
class LanguageScore:
    cases: int = 0  # comments of MIN_WORDS words or more
    correct: int = 0
    short: int = 0  # shorter comments, not counted
    by_label: dict[str, list[int]] = field(default_factory=dict)  # label -> [correct, total]
    wrong: list[tuple[Case, LanguageReading]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.cases if self.cases else 0.0

    def add(self, other: LanguageScore) -> None:
        self.cases += other.cases
        self.correct += other.correct
        self.short += other.short
        for label, (right, total) in other.by_label.items():
            mine = self.by_label.setdefault(label, [0, 0])
            mine[0] += right
            mine[1] += total
        self.wrong.extend(other.wrong)

    def as_dict(self) -> dict[str, Any]:
        return {
            "min_words": MIN_WORDS,
            "cases": self.cases,
            "correct": self.correct,
            "accuracy": round(self.accuracy, 4),
            "shorter_cases_not_counted": self.short,
            "by_label": {
                k: {"correct": v[0], "cases": v[1]} for k, v in sorted(self.by_label.items())
            },
        }


def is_right(label: str, reading: LanguageReading) -> bool:
    if label == "mixed":
        return {"cy", "en"} <= set(reading.languages)
    return reading.language == label


def language_accuracy(
    cases: Iterable[Case], detector: LanguageDetector | None = None
) -> LanguageScore:
    score = LanguageScore()
    for case in cases:
        if len(_WORD.findall(case.text)) < MIN_WORDS:
            score.short += 1
            continue
        reading = identify(case.text, detector)
        right = is_right(case.language, reading)
        score.cases += 1
        score.correct += right
        tally = score.by_label.setdefault(case.language, [0, 0])
        tally[0] += right
        tally[1] += 1
        if not right:
            score.wrong.append((case, reading))
    return score
