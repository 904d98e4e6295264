"""The published JSON Schemas match the records, and real records validate against them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import orjson
import pytest
from jsonschema import Draft202012Validator

from schemas import jsonschema as generator
from schemas.action import Action, ActionResult, Decision
from schemas.codec import Record as TopicRecord
from schemas.comment import Comment
from schemas.deadletter import DeadLetter
from schemas.verdict import BehaviourFinding, Finding, Verdict

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "schemas" / "json"
PLATFORM_FIXTURES = Path(__file__).resolve().parents[1] / "data" / "platforms"


def load_schema(topic: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMA_DIR / f"{topic}.schema.json").read_text())
    return loaded


def validator(topic: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(topic))


COMMENT = Comment(
    comment_id="facebook:1032847561928374_1187462039485721",
    platform="facebook",
    author_key="9c1f0e4b7a2d4c65b3e8f1a0d2c4b6e8",
    author_name="Sian Morgan-Davies",
    author_handle="",
    post_id="1032847561928374",
    post_text="Blood test clinics are changing their opening times.",
    event_time_ms=1_772_535_737_000,
    text="Is the phlebotomy clinic at Keir Hardie walk-in? 😊",
    normalised="is the phlebotomy clinic at keir hardie walk-in?",
    lang="",
    source="comments.raw[2]@1041",
    signals=("sha256:6f1d0c3a9b7e42d1",),
)
FINDING = Finding(
    clause="abusive",
    detector="lexicon.profanity",
    start=4,
    end=11,
    confidence=0.95,
    severity="medium",
    label="swearing",
)
BEHAVIOUR = BehaviourFinding(
    kind="spamming",
    window_s=600,
    count=6,
    threshold=5,
    window_start_ms=1_772_535_000_000,
    comment_ids=("x:1", "x:2"),
)


class Record(Protocol):
    def to_bytes(self) -> bytes: ...


GOLDEN: dict[str, Record] = {
    "comments.normalised": COMMENT,
    "comments.verdicts": Verdict(
        comment=COMMENT, findings=(FINDING,), policy_version="sha256:4be1", behaviour=()
    ),
    "comments.assessed": Verdict(
        comment=COMMENT, findings=(FINDING,), policy_version="sha256:4be1", behaviour=(BEHAVIOUR,)
    ),
    "comments.deadletter": DeadLetter(
        reason="missing_field",
        detail="payload.from.id: required field is missing",
        stage="normalise",
        source="comments.raw[0]@7",
        original_b64=DeadLetter.encode_original(b'{"platform": "facebook"}'),
        failed_at_ms=1_772_600_000_000,
    ),
    "actions": Action(
        action_id="0b5c1d8e2f7a4c3b9e6d1a0f5c2b8e7d",
        decision_id="d-1",
        kind="reply_ask_removal",
        platform="facebook",
        target_author=COMMENT.author_key,
        target_comment=COMMENT.comment_id,
        reasons=("abusive",),
        evidence=(FINDING,),
        behaviour=(BEHAVIOUR,),
        linked_evidence=(),
        policy_version="sha256:4be1",
        source=("comments.raw[2]@1041",),
        due_at_ms=1_772_535_737_000,
        message="Please remove your comment: it breaks our social media guidance.",
    ),
    "actions.results": ActionResult(
        action_id="0b5c1d8e2f7a4c3b9e6d1a0f5c2b8e7d",
        kind="reply_ask_removal",
        target_author=COMMENT.author_key,
        target_comment=COMMENT.comment_id,
        outcome="done",
        detail="",
        at_ms=1_772_535_800_000,
    ),
    "decisions": Decision(
        decision_id="d-1",
        comment_id=COMMENT.comment_id,
        author_key=COMMENT.author_key,
        source="comments.raw[2]@1041",
        policy_version="sha256:4be1",
        clauses=("abusive",),
        findings=(FINDING,),
        behaviour=(),
        action_ids=("0b5c1d8e2f7a4c3b9e6d1a0f5c2b8e7d",),
        action_kinds=("reply_ask_removal",),
        outcome="actions",
        event_time_ms=1_772_535_737_000,
    ),
}


def golden_json(topic: str) -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(GOLDEN[topic].to_bytes())
    return decoded


def test_committed_schema_files_are_what_the_generator_produces() -> None:
    stale = generator.stale_files(SCHEMA_DIR)
    assert stale == [], f"run `python -m schemas.jsonschema` and commit: {stale}"


def test_every_schema_file_is_a_valid_2020_12_schema() -> None:
    files = sorted(SCHEMA_DIR.glob("*.schema.json"))
    assert files
    for path in files:
        Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_every_record_topic_with_a_golden_example_has_a_schema() -> None:
    for topic in GOLDEN:
        assert (SCHEMA_DIR / f"{topic}.schema.json").exists(), topic


@pytest.mark.parametrize("topic", sorted(GOLDEN))
def test_golden_record_validates(topic: str) -> None:
    validator(topic).validate(golden_json(topic))


@pytest.mark.parametrize("topic", sorted(GOLDEN))
def test_an_extra_field_fails(topic: str) -> None:
    record = golden_json(topic)
    record["surprise"] = 1
    assert not validator(topic).is_valid(record)


@pytest.mark.parametrize("topic", sorted(GOLDEN))
def test_each_missing_required_field_fails(topic: str) -> None:
    schema = load_schema(topic)
    assert schema["required"]
    for name in schema["required"]:
        record = golden_json(topic)
        del record[name]
        assert not validator(topic).is_valid(record), name


def test_fields_with_defaults_are_optional() -> None:
    record = golden_json("comments.normalised")
    del record["signals"]
    validator("comments.normalised").validate(record)
    assert "signals" not in load_schema("comments.normalised")["required"]


def test_nested_records_are_closed_too() -> None:
    record = golden_json("comments.verdicts")
    record["comment"]["account_id"] = "7382910456217834"
    assert not validator("comments.verdicts").is_valid(record)
    record = golden_json("actions")
    record["evidence"][0]["text"] = "leaked"
    assert not validator("actions").is_valid(record)


def test_wrong_types_fail() -> None:
    record = golden_json("comments.normalised")
    record["event_time_ms"] = "1772535737000"
    assert not validator("comments.normalised").is_valid(record)
    record = golden_json("comments.normalised")
    record["signals"] = [1]
    assert not validator("comments.normalised").is_valid(record)


# --- the generator itself ----------------------------------------------------------------


class Inner(TopicRecord, frozen=True):
    n: int


class Outer(TopicRecord, frozen=True):
    """An outer record."""

    name: str | None
    inner: Inner | None
    ratios: tuple[float, ...]
    flag: bool = False


class Loose(TopicRecord, frozen=True):
    anything: dict[str, int]


def test_type_mapping_covers_optionals_tuples_and_nesting() -> None:
    schema = generator.record_schema(Outer)
    assert schema["description"] == "An outer record."
    assert schema["properties"] == {
        "name": {"type": ["string", "null"]},
        "inner": {"anyOf": [{"$ref": "#/$defs/Inner"}, {"type": "null"}]},
        "ratios": {"type": "array", "items": {"type": "number"}},
        "flag": {"type": "boolean"},
    }
    assert schema["required"] == ["name", "inner", "ratios"]
    assert schema["$defs"]["Inner"]["required"] == ["n"]
    assert "description" not in schema["$defs"]["Inner"]  # not the base class's docstring


def test_unsupported_field_types_are_refused() -> None:
    with pytest.raises(TypeError, match=r"Loose\.anything"):
        generator.record_schema(Loose)


# --- the hand-written raw envelope schema ------------------------------------------------


@pytest.mark.parametrize("path", sorted(PLATFORM_FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_platform_fixtures_validate_against_the_raw_schema(path: Path) -> None:
    validator("comments.raw").validate(json.loads(path.read_text()))


@pytest.mark.parametrize(
    ("fixture", "mutate"),
    [
        ("facebook_comment.json", lambda e: e["payload"]["from"].pop("id")),
        ("facebook_comment.json", lambda e: e.update(platform="tiktok")),
        ("facebook_comment.json", lambda e: e["payload"].update(created_time="yesterday")),
        ("x_reply.json", lambda e: e["payload"]["data"].pop("author_id")),
        ("linkedin_comment.json", lambda e: e["payload"]["created"].update(time="soon")),
        ("youtube_reply.json", lambda e: e["payload"]["snippet"].pop("authorChannelId")),
        ("youtube_comment_thread.json", lambda e: e["payload"]["snippet"].pop("topLevelComment")),
        ("instagram_comment.json", lambda e: e.update(contxt={})),
    ],
)
def test_broken_envelopes_fail_the_raw_schema(fixture: str, mutate: Any) -> None:
    envelope = json.loads((PLATFORM_FIXTURES / fixture).read_text())
    mutate(envelope)
    assert not validator("comments.raw").is_valid(envelope)
