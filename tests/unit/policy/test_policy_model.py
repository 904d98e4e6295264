"""Policy file parsing: the customer's file loads, every malformed file is refused by name."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from streams.policy import (
    HATE_STRANDS,
    PROCEDURES,
    ROUTE_CLAUSES,
    VIOLATION_CLAUSES,
    PolicyError,
    load_policy,
    parse_policy,
)

POLICY_PATH = Path(__file__).resolve().parents[3] / "deploy" / "policy" / "ctmuhb.yaml"


def minimal(**clause_overrides: object) -> dict[str, object]:
    clause: dict[str, object] = {
        "id": "abusive",
        "title": "Abusive",
        "kind": "violation",
        "severity": "medium",
        "procedure": "warn_then_block",
        "detectors": [
            {"id": "lexicon.profanity", "type": "lexicon", "threshold": 0.5, "params": {}}
        ],
    }
    clause.update(clause_overrides)
    return {"name": "test", "clauses": [clause]}


def dump(doc: dict[str, object]) -> bytes:
    return yaml.safe_dump(doc, sort_keys=False).encode()


def test_customer_policy_has_every_clause_of_the_acceptable_use_policy() -> None:
    policy = load_policy(POLICY_PATH)
    assert tuple(policy.clauses) == VIOLATION_CLAUSES + ROUTE_CLAUSES
    assert {c.kind for c in policy.clauses.values() if c.id in ROUTE_CLAUSES} == {"route"}
    assert all(c.procedure in PROCEDURES for c in policy.clauses.values())
    assert policy.clauses["allegation"].procedure == "immediate_removal"
    assert policy.clauses["emergency"].procedure == "emergency"
    assert policy.clauses["safeguarding"].procedure == "safeguarding"
    assert policy.clauses["personal_care"].procedure == "personal_care"
    assert len(HATE_STRANDS) == 5


def test_other_sections_pass_through_raw() -> None:
    policy = load_policy(POLICY_PATH)
    assert {"rate_windows", "enforcement", "linking", "monitoring_hours"} <= set(policy.sections)
    hours = policy.sections["monitoring_hours"]
    assert hours["timezone"] == "Europe/London"
    assert (hours["start"], hours["end"]) == ("09:00", "17:00")  # strings, not YAML sexagesimals
    assert hours["bank_holidays"] == {"country": "GB", "subdiv": "WLS", "years": (2000, 2099)}
    assert policy.sections["enforcement"]["reply_deadline_working_hours"] == 24


def test_version_is_the_content_hash_and_changes_with_the_file() -> None:
    data = POLICY_PATH.read_bytes()
    policy = parse_policy(data)
    assert policy.version == hashlib.sha256(data).hexdigest()[:16]
    assert parse_policy(data).version == policy.version
    assert parse_policy(data + b"\n# a comment is an edit too\n").version != policy.version


def test_parsed_policy_is_read_only() -> None:
    policy = load_policy(POLICY_PATH)
    with pytest.raises(TypeError):
        policy.clauses["abusive"] = policy.clauses["hate"]  # type: ignore[index]
    with pytest.raises(TypeError):
        policy.clauses["abusive"].detectors[0].params["lists"] = ()  # type: ignore[index]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            minimal(procedure="ban_forever"),
            "clause 'abusive': 'procedure' 'ban_forever' is unknown",
        ),
        (minimal(severity="extreme"), "clause 'abusive': 'severity' 'extreme' is unknown"),
        (minimal(kind="maybe"), "clause 'abusive': 'kind' 'maybe' is unknown"),
        (minimal(detectors=[]), "clause 'abusive': has no detectors"),
        (
            minimal(detectors=[{"id": "x", "type": "neural", "threshold": 0.5}]),
            "clause 'abusive' detector 'x': 'type' 'neural' is unknown",
        ),
        (
            minimal(detectors=[{"id": "x", "type": "lexicon", "threshold": 1.5}]),
            "clause 'abusive' detector 'x': threshold 1.5 is outside 0..1",
        ),
        (
            minimal(detectors=[{"id": "x", "type": "lexicon", "threshold": -0.1}]),
            "threshold -0.1 is outside 0..1",
        ),
        (
            minimal(detectors=[{"id": "x", "type": "lexicon", "threshold": True}]),
            "threshold True is outside 0..1",
        ),
        (
            minimal(detectors=[{"id": "x", "type": "lexicon"}]),
            "clause 'abusive' detector 'x': field 'threshold' is missing",
        ),
        (
            minimal(
                detectors=[
                    {"id": "x", "type": "lexicon", "threshold": 0.5},
                    {"id": "x", "type": "pattern", "threshold": 0.5},
                ]
            ),
            "detector id 'x' is used twice",
        ),
        (
            minimal(
                detectors=[
                    {
                        "id": "c",
                        "type": "composite",
                        "threshold": 0.5,
                        "params": {"all_of": [{"type": "lexicon"}, {"type": "embedding"}]},
                    }
                ]
            ),
            "clause 'abusive' detector 'c' all_of[1]: 'type' 'embedding' is unknown",
        ),
        (
            minimal(detectors=[{"id": "c", "type": "composite", "threshold": 0.5}]),
            "needs exactly one of 'all_of' or 'any_of'",
        ),
        (minimal(detecters=[]), "clause 'abusive': unknown field(s) detecters"),
        (
            {"name": "t", "clauses": [{"id": "abusive", "kind": "violation"}]},
            "field 'title' is missing",
        ),
        ({"clauses": []}, "policy 'name' is missing"),
        ({"name": "t", "clauses": []}, "policy 'clauses' is missing or empty"),
        ({"name": "t", "version": "1", "clauses": []}, "top-level 'version' must not be set"),
    ],
)
def test_invalid_policies_are_refused_with_the_field_named(
    doc: dict[str, object], message: str
) -> None:
    with pytest.raises(PolicyError) as raised:
        parse_policy(dump(doc))
    assert message in str(raised.value)


def test_duplicate_clause_ids_are_refused() -> None:
    doc = minimal()
    doc["clauses"] = [*doc["clauses"], *doc["clauses"]]  # type: ignore[misc]
    with pytest.raises(PolicyError, match="clause 'abusive' is defined twice"):
        parse_policy(dump(doc))


def test_not_yaml_and_unreadable_files_are_policy_errors(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_policy(b"clauses: [unclosed")
    with pytest.raises(PolicyError, match="must be a YAML mapping"):
        parse_policy(b"- just a list")
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path / "missing.yaml")
