"""The labelled data sets and the quality bar the classifier must hold on the dev set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from schemas.verdict import Finding
from streams.classify.evaluation import Case, DataError, cases_per_clause, load_cases, score
from streams.policy import Policy
from workers.offline import evaluate

LABELLED = Path(__file__).resolve().parents[2] / "data" / "labelled"
DEV_SET = LABELLED / "dev.jsonl"
HOLDOUT_SET = LABELLED / "holdout.jsonl"
WELSH_SET = LABELLED / "welsh.jsonl"
WELSH_HOLDOUT = LABELLED / "welsh_holdout.jsonl"


def test_dev_set_meets_the_quality_bar(capsys: pytest.CaptureFixture[str]) -> None:
    assert evaluate.main(["--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["micro"]["f1"] >= 0.85
    assert report["clean_criticism"]["cases"] >= 60
    assert report["clean_criticism"]["rate"] >= 0.95


def test_markdown_report_lists_every_clause_and_the_misses(
    capsys: pytest.CaptureFixture[str], policy: Policy, tmp_path: Path
) -> None:
    data = tmp_path / "small.jsonl"
    lines = [
        {"text": "Fuck the health board", "labels": ["abusive"], "group": "positive"},
        {"text": "Parking is a joke", "labels": [], "group": "clean_criticism"},
        {"text": "Lovely staff", "labels": ["abusive"], "group": "positive"},
    ]
    data.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")
    assert evaluate.main(["--data", str(data), "--misses"]) == 0
    out = capsys.readouterr().out
    for clause in policy.clauses:
        assert f"| {clause} |" in out
    assert "| abusive | 2 | 1 | 0 | 1 | 1.000 | 0.500 | 0.667 |" in out
    assert "clean_criticism left clean: 1/1 = 1.000" in out
    assert "want abusive got -: Lovely staff" in out


@pytest.mark.parametrize(
    "path",
    [DEV_SET, HOLDOUT_SET, WELSH_SET, WELSH_HOLDOUT],
    ids=["dev", "holdout", "welsh", "welsh_holdout"],
)
def test_labelled_sets_use_only_policy_clauses(path: Path, policy: Policy) -> None:
    cases = load_cases(path)
    for case in cases:
        assert case.labels <= set(policy.clauses), case.text
        assert not case.about or case.about in policy.clauses, case.text
        assert case.group != "positive" or case.labels, case.text


def test_every_clause_has_enough_labelled_cases(policy: Policy) -> None:
    cases = load_cases(DEV_SET)
    bearing = cases_per_clause(cases)
    positives = cases_per_clause(c for c in cases if c.group != "hard_negative")
    for clause in _clauses_read_in("en", policy):
        assert bearing.get(clause, 0) >= 20, clause
        assert positives.get(clause, 0) >= 20, clause
    assert sum(c.group == "clean_criticism" for c in cases) >= 60


def test_every_clause_read_in_welsh_has_welsh_cases_in_both_welsh_sets(policy: Policy) -> None:
    dev, holdout = load_cases(WELSH_SET), load_cases(WELSH_HOLDOUT)
    welsh = {c.id for c in policy.clauses.values() if any(d.languages for d in c.detectors)}
    assert welsh >= {"abusive", "intimidation", "emergency", "hate", "welsh_review"}
    for clause in welsh:
        assert sum(clause in c.labels for c in dev) >= 5, clause
        assert sum(clause in c.labels for c in holdout) >= 4, clause
    for cases in (dev, holdout):
        assert all(c.language in {"cy", "mixed"} for c in cases)
        assert sum(c.group == "hard_negative" for c in cases) >= 9
        assert sum(c.group == "clean_criticism" for c in cases) >= 8
    assert not {c.text for c in holdout} & {c.text for c in dev}


def _clauses_read_in(language: str, policy: Policy) -> set[str]:
    """Clauses with a detector that reads comments in ``language`` (or in every language)."""
    return {
        clause.id
        for clause in policy.clauses.values()
        if any(not d.languages or language in d.languages for d in clause.detectors)
    }


def test_holdout_is_a_separate_set_of_at_least_100_cases() -> None:
    holdout = load_cases(HOLDOUT_SET)
    assert len(holdout) >= 100
    assert not {c.text for c in holdout} & {c.text for c in load_cases(DEV_SET)}


def finding(clause: str) -> Finding:
    return Finding(clause, "d", 0, 1, 1.0, "low")


def test_scoring_counts_per_clause_micro_and_clean_criticism() -> None:
    cases = [
        Case("a", frozenset({"abusive"}), "positive"),
        Case("b", frozenset(), "clean_criticism"),
        Case("c", frozenset({"personal_care"}), "clean_criticism"),
        Case("d", frozenset({"hate"}), "positive"),
    ]
    predictions = [
        [finding("abusive")],
        [finding("abusive")],  # a false alarm on fair criticism
        [finding("personal_care")],  # a route is not a violation
        [],
    ]
    report = score(cases, predictions, ["abusive", "hate", "personal_care"], ["abusive", "hate"])
    assert (report.per_clause["abusive"].tp, report.per_clause["abusive"].fp) == (1, 1)
    assert report.per_clause["hate"].fn == 1
    assert (report.micro.tp, report.micro.fp, report.micro.fn) == (2, 1, 1)
    assert report.micro.f1 == pytest.approx(2 / 3)
    assert report.confusion == {"tp": 1, "fp": 1, "fn": 1, "tn": 1}
    assert (report.clean_criticism_left_clean, report.clean_criticism_cases) == (1, 2)
    assert [m.case.text for m in report.misses] == ["b", "d"]


def test_malformed_data_lines_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok", "labels": [], "group": "clean"}\n{"text": 1\n', "utf-8")
    with pytest.raises(DataError, match="line 2"):
        load_cases(path)
    path.write_text('{"text": "ok", "labels": [], "group": "funny"}\n', "utf-8")
    with pytest.raises(DataError, match="group 'funny'"):
        load_cases(path)
