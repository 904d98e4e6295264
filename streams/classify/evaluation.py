"""Scoring the classifier against labelled comments: per-clause precision/recall/F1.

A case is a comment with the set of clause ids a careful moderator would apply. Scoring is per
comment and clause (did the classifier name this clause for this comment?), not per span.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from schemas.comment import Comment
from schemas.verdict import Finding

GROUPS = ("positive", "hard_negative", "clean_criticism", "clean")


@dataclass(frozen=True)
class Case:
    text: str
    labels: frozenset[str]
    group: str
    post_text: str = ""
    about: str = ""  # for a hard negative: the clause it is meant to trip up
    language: str = "en"  # "cy", "en", or "mixed" (both): what a fluent reader would say


class DataError(ValueError):
    """A labelled data file has a malformed line; the message gives the line number."""


def load_cases(path: str | Path) -> list[Case]:
    cases: list[Case] = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                case = Case(
                    text=raw["text"],
                    labels=frozenset(raw.get("labels", ())),
                    group=raw["group"],
                    post_text=raw.get("post_text") or "",
                    about=raw.get("about", ""),
                    language=raw.get("language", "en"),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise DataError(f"{path} line {number}: {exc}") from exc
            if case.group not in GROUPS:
                raise DataError(
                    f"{path} line {number}: group {case.group!r} is not one of {GROUPS}"
                )
            cases.append(case)
    return cases


def as_comment(case: Case, index: int) -> Comment:
    return Comment(
        comment_id=f"eval:{index}",
        platform="facebook",
        author_key="eval",
        author_name="",
        author_handle="",
        post_id="eval-post" if case.post_text else "",
        post_text=case.post_text,
        event_time_ms=0,
        text=case.text,
        normalised="",
        lang="en",
        source="eval",
    )


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "support": self.tp + self.fn,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
        }


@dataclass(frozen=True)
class Miss:
    case: Case
    predicted: frozenset[str]


@dataclass
class Report:
    cases: int
    clauses: tuple[str, ...]
    per_clause: dict[str, Score]
    micro: Score
    # Clean vs flagged, where "flagged" means at least one violation clause (routes such as
    # personal_care send the author somewhere; they are not a breach).
    confusion: dict[str, int]
    clean_criticism_cases: int
    clean_criticism_left_clean: int
    misses: list[Miss] = field(default_factory=list)

    @property
    def clean_criticism_rate(self) -> float:
        if not self.clean_criticism_cases:
            return 1.0
        return self.clean_criticism_left_clean / self.clean_criticism_cases

    def as_dict(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "per_clause": {c: self.per_clause[c].as_dict() for c in self.clauses},
            "micro": self.micro.as_dict(),
            "violation_confusion": dict(self.confusion),
            "clean_criticism": {
                "cases": self.clean_criticism_cases,
                "left_clean": self.clean_criticism_left_clean,
                "rate": round(self.clean_criticism_rate, 4),
            },
        }


def score(
    cases: Sequence[Case],
    predictions: Sequence[Iterable[Finding]],
    clauses: Sequence[str],
    violations: Iterable[str],
) -> Report:
    violation_set = frozenset(violations)
    per_clause = {c: Score() for c in clauses}
    confusion = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    clean_total = clean_kept = 0
    misses: list[Miss] = []
    for case, findings in zip(cases, predictions, strict=True):
        predicted = frozenset(f.clause for f in findings)
        for clause in clauses:
            expected, got = clause in case.labels, clause in predicted
            if expected and got:
                per_clause[clause].tp += 1
            elif got:
                per_clause[clause].fp += 1
            elif expected:
                per_clause[clause].fn += 1
        flagged_expected = bool(case.labels & violation_set)
        flagged_got = bool(predicted & violation_set)
        key = ("t" if flagged_expected == flagged_got else "f") + ("p" if flagged_got else "n")
        confusion[key] += 1
        if case.group == "clean_criticism":
            clean_total += 1
            clean_kept += not flagged_got
        if predicted != case.labels:
            misses.append(Miss(case, predicted))
    micro = Score(
        tp=sum(s.tp for s in per_clause.values()),
        fp=sum(s.fp for s in per_clause.values()),
        fn=sum(s.fn for s in per_clause.values()),
    )
    return Report(
        len(cases), tuple(clauses), per_clause, micro, confusion, clean_total, clean_kept, misses
    )


def cases_per_clause(cases: Iterable[Case]) -> Mapping[str, int]:
    """Labelled cases that bear on each clause: its positives plus hard negatives aimed at it."""
    counts: dict[str, int] = {}
    for case in cases:
        for clause in case.labels | ({case.about} if case.about else set()):
            counts[clause] = counts.get(clause, 0) + 1
    return counts
