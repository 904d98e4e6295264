"""holdout3's shape: the unseen set is only worth reporting if it covers every clause and route.

These tests read the file and the policy's clause ids; they never run the classifier on holdout3,
so nothing here can drift into tuning on it.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from streams.classify.evaluation import Case, load_cases
from streams.policy import Policy
from workers.offline import evaluate

LABELLED = Path(__file__).resolve().parents[2] / "data" / "labelled"
HOLDOUT3 = LABELLED / "holdout3.jsonl"
EARLIER_SETS = ("dev.jsonl", "holdout.jsonl", "holdout2.jsonl")

MIN_CASES = 400
MIN_POSITIVES_PER_CLAUSE = 15
MIN_HARD_NEGATIVES_PER_CLAUSE = 5
MIN_LONG_COMPLAINTS = 60
LONG_COMPLAINT_CHARS = 400


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases(HOLDOUT3)


def is_long_complaint(case: Case, violations: set[str]) -> bool:
    """Several paragraphs of legitimate criticism; a route (personal_care) is not a breach."""
    return (
        case.group == "clean_criticism"
        and not case.labels & violations
        and "\n\n" in case.text
        and len(case.text) >= LONG_COMPLAINT_CHARS
    )


def test_set_is_large_enough(cases: list[Case]) -> None:
    assert len(cases) >= MIN_CASES


def test_every_label_and_target_is_a_policy_clause(cases: list[Case], policy: Policy) -> None:
    known = set(policy.clauses)
    for case in cases:
        assert case.labels <= known, case.text
        assert not case.about or case.about in known, case.text


def test_groups_are_labelled_consistently(cases: list[Case], policy: Policy) -> None:
    violations = {c.id for c in policy.violations()}
    for case in cases:
        if case.group == "positive":
            assert case.labels, case.text
        if case.group == "hard_negative":
            assert case.about and case.about not in case.labels, case.text
        if case.group in ("clean_criticism", "clean"):
            assert not case.labels & violations, case.text
        if "trolling" in case.labels:
            # Off-topic is only judged against the post the comment replies to.
            assert case.post_text, case.text


def test_every_clause_and_route_has_enough_positives_and_hard_negatives(
    cases: list[Case], policy: Policy
) -> None:
    positives = Counter(label for c in cases if c.group == "positive" for label in c.labels)
    hard_negatives = Counter(c.about for c in cases if c.group == "hard_negative")
    # holdout3 is English; a fallback route for Welsh comments (welsh_review) is measured on
    # the Welsh sets.
    english = [c.id for c in policy.clauses.values() if not c.fallback]
    for clause in english:
        assert positives[clause] >= MIN_POSITIVES_PER_CLAUSE, clause
        assert hard_negatives[clause] >= MIN_HARD_NEGATIVES_PER_CLAUSE, clause


def test_long_legitimate_complaints_are_there(cases: list[Case], policy: Policy) -> None:
    violations = {c.id for c in policy.violations()}
    long_complaints = [c for c in cases if is_long_complaint(c, violations)]
    assert len(long_complaints) >= MIN_LONG_COMPLAINTS
    # Most of them carry no route at all: criticism of services, not one person's case.
    assert sum(not c.labels for c in long_complaints) >= MIN_LONG_COMPLAINTS


def test_some_cases_break_several_clauses(cases: list[Case], policy: Policy) -> None:
    violations = {c.id for c in policy.violations()}
    assert sum(len(c.labels & violations) >= 2 for c in cases) >= 5


def test_no_case_is_repeated_or_taken_from_an_earlier_set(cases: list[Case]) -> None:
    texts = Counter(c.text.casefold() for c in cases)
    assert [t for t, n in texts.items() if n > 1] == []
    earlier = {
        json.loads(line)["text"].casefold()
        for name in EARLIER_SETS
        for line in (LABELLED / name).read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    assert set(texts) & earlier == set()


def test_all_mode_reports_every_set_in_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A tiny folder of its own, so this test exercises the side-by-side report without
    # classifying holdout3.
    rows = {
        "a": [{"text": "Fuck the health board", "labels": ["abusive"], "group": "positive"}],
        "b": [{"text": "Parking is a joke", "labels": [], "group": "clean_criticism"}],
    }
    for name, lines in rows.items():
        text = "".join(json.dumps(line) + "\n" for line in lines)
        (tmp_path / f"{name}.jsonl").write_text(text, "utf-8")
    assert list(evaluate.labelled_sets(tmp_path)) == ["a", "b"]
    assert evaluate.main(["--all", "--labelled-dir", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["sets"]) == {"a", "b"}
    assert report["sets"]["a"]["per_clause"]["abusive"]["support"] == 1
    assert report["sets"]["b"]["clean_criticism"] == {"cases": 1, "left_clean": 1, "rate": 1.0}
    assert evaluate.main(["--all", "--labelled-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "## a (1 cases)" in out and "## b (1 cases)" in out
    assert "| clause | a: P / R / F1 (n) | b: P / R / F1 (n) |" in out
    assert "| clean_criticism left clean | 0/0 = 1.000 | 1/1 = 1.000 |" in out
