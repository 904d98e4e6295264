"""Records are typed at the edge: a wrong type is a dead letter naming the field, never a value
that passes decoding and fails later; the bytes are what they were, so replays still compare."""

from __future__ import annotations

from typing import Any

import msgspec
import orjson
import pytest

from schemas import jsonschema
from schemas.action import Action, Decision, Tick
from schemas.codec import RecordError, convert
from schemas.comment import Comment
from schemas.envelope import RawEnvelope
from schemas.verdict import BehaviourFinding, BehaviourNotice, Finding, Verdict
from streams import topics as specs
from streams.normalise.envelope import (
    InvalidField,
    MissingField,
    UnknownField,
    UnknownPlatform,
    parse_envelope,
)
from streams.registry import Input
from workers.processes.pipeline import run_step

COMMENT = Comment(
    comment_id="facebook:1",
    platform="facebook",
    author_key="k" * 32,
    author_name='Ann Ó\'Brien — "x"',
    author_handle="@ann",
    post_id="p1",
    post_text="post \n text",
    event_time_ms=1767225600123,
    text="héllo\u0001 </script> 😀",
    normalised="hello",
    lang="en-GB",
    source="comments.raw[0]@5",
    signals=("sha256:ab",),
)
FINDING = Finding("abusive", "lexicon.profanity", 0, 5, 0.85, "medium", "rule")
BEHAVIOUR = BehaviourFinding("spamming", 60, 5, 4, 1767225600000, ("a", "b"))


def verdict_dict() -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(Verdict(COMMENT, (FINDING,), "v1").to_bytes())
    return decoded


# --- the bytes did not change --------------------------------------------------------------


def test_encoding_is_byte_for_byte_what_it_was() -> None:
    # Written by the orjson encoder this replaced; replays compare decisions byte for byte.
    decision = Decision(
        "d", "c", "k", "s", "v", ("abusive",), (FINDING,), (BEHAVIOUR,), ("id",),
        ("hide_post",), "actions", 9,
    )  # fmt: skip
    assert decision.to_bytes() == (
        b'{"decision_id":"d","comment_id":"c","author_key":"k","source":"s","policy_version":"v",'
        b'"clauses":["abusive"],"findings":[{"clause":"abusive","detector":"lexicon.profanity",'
        b'"start":0,"end":5,"confidence":0.85,"severity":"medium","label":"rule"}],"behaviour":'
        b'[{"kind":"spamming","window_s":60,"count":5,"threshold":4,"window_start_ms":'
        b'1767225600000,"comment_ids":["a","b"]}],"action_ids":["id"],"action_kinds":'
        b'["hide_post"],"outcome":"actions","event_time_ms":9,"trigger":"comment"}'
    )
    text = COMMENT.to_bytes().decode()
    assert '"author_name":"Ann Ó\'Brien — \\"x\\""' in text
    assert '"text":"héllo\\u0001 </script> 😀"' in text
    assert Finding("h", "x", 1, 2, 1e-07, "critical").to_bytes().count(b'"confidence":1e-7') == 1
    assert Tick("k", 10).to_bytes() == b'{"author_key":"k","now_ms":10}'


def test_a_record_reads_back_equal() -> None:
    verdict = Verdict(COMMENT, (FINDING,), "v1", (BEHAVIOUR,))
    assert Verdict.from_bytes(verdict.to_bytes()) == verdict


# --- wrong types are refused where they arrive, by field --------------------------------------


@pytest.mark.parametrize(
    ("change", "path", "problem"),
    [
        (lambda d: d["comment"].update(event_time_ms="1767225600123"), "comment.event_time_ms",
         "Expected `int`, got `str`"),
        (lambda d: d["comment"].update(signals={"a": 1}), "comment.signals",
         "Expected `array`, got `object`"),
        (lambda d: d.update(findings={"clause": "x"}), "findings", "Expected `array`"),
        (lambda d: d["findings"][0].update(start=True), "findings[0].start",
         "Expected `int`, got `bool`"),
        (lambda d: d.update(comment=["not", "an", "object"]), "comment",
         "Expected `object`, got `array`"),
        (lambda d: d["comment"].pop("author_key"), "comment.author_key",
         "required field is missing"),
        (lambda d: d.update(surprise=1), "surprise", "not a field of this record"),
    ],
)  # fmt: skip
def test_a_wrong_type_names_the_field(change: Any, path: str, problem: str) -> None:
    data = verdict_dict()
    change(data)
    with pytest.raises(RecordError) as caught:
        Verdict.from_bytes(orjson.dumps(data))
    assert caught.value.path == path
    assert problem in caught.value.problem
    assert "1767225600123" not in str(caught.value), "never the value itself"


def test_a_stage_dead_letters_a_wrong_type_with_the_field_instead_of_crashing_later() -> None:
    """The stage boundary (workers.processes.pipeline.run_step) decodes every input with its
    record type: a wrong type becomes a dead letter naming the field, and the step never runs
    on it."""
    notice = BehaviourNotice(
        author_key="k",
        comment_id="facebook:1",
        platform="facebook",
        event_time_ms=1767225600123,
        source="comments.raw[0]@1",
        policy_version="v",
        behaviour=(),
    )
    data = orjson.loads(notice.to_bytes())
    data["event_time_ms"] = "1767225600123"  # a connector bug upstream
    ran: list[Any] = []
    item = Input(
        specs.BEHAVIOUR_NOTICES,
        "enforce",
        "enforce-notices",
        BehaviourNotice.from_bytes,
        lambda composition, value, key, source: ran.append(value),  # type: ignore[arg-type,return-value]
    )
    out = run_step(None, item, orjson.dumps(data), b"k", "behaviour.notices[0]@7")  # type: ignore[arg-type]
    assert not ran
    letter = out.dead_letter
    assert letter is not None
    assert letter.reason == "invalid_record"
    assert letter.detail == "BehaviourNotice at event_time_ms: Expected `int`, got `str`"
    assert letter.source == "behaviour.notices[0]@7"
    assert "1767225600123" not in letter.detail, "never the value itself"


def test_a_records_own_check_is_a_record_error_too() -> None:
    raw = Action(
        "id", "d", "hide_post", "facebook", "k", "c", ("abusive",), (FINDING,), (), (), "v",
        ("s",), 5, "",
    ).to_bytes()  # fmt: skip
    bad = orjson.loads(raw)
    bad["due_at_ms"] = 5.5
    with pytest.raises(RecordError, match=r"Action at due_at_ms: Expected `int`, got `float`"):
        Action.from_bytes(orjson.dumps(bad))
    with pytest.raises(RecordError, match="not JSON"):
        Action.from_bytes(b"{")


def test_from_dict_checks_types_as_well() -> None:
    data = orjson.loads(COMMENT.to_bytes())
    data["event_time_ms"] = "soon"
    with pytest.raises(RecordError, match="event_time_ms"):
        Comment.from_dict(data)


# --- the raw envelope: one description for the decoder and the schema -------------------------


def test_the_raw_schema_describes_the_envelope_record() -> None:
    schema = jsonschema.raw_envelope_schema()
    fields = {f.name for f in msgspec.structs.fields(RawEnvelope)}
    assert set(schema["properties"]) == fields
    assert schema["required"] == [f.name for f in msgspec.structs.fields(RawEnvelope) if f.required]
    assert schema["properties"]["platform"] == {
        "enum": ["x", "facebook", "instagram", "linkedin", "youtube"]
    }
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize(
    ("envelope", "error", "path"),
    [
        ({"platform": "myspace", "payload": {}}, UnknownPlatform, None),
        ({"platform": 7, "payload": {}}, UnknownPlatform, None),
        ({"payload": {}}, MissingField, "platform"),
        ({"platform": "x"}, MissingField, "payload"),
        ({"platform": "x", "payload": None}, MissingField, "payload"),
        ({"platform": "x", "payload": [1]}, InvalidField, "payload"),
        ({"platform": "x", "payload": {}, "context": ["p1"]}, InvalidField, "context"),
        ({"platform": "x", "payload": {}, "context": {"signals": [1]}}, InvalidField,
         "context.signals[0]"),
        ({"platform": "x", "payload": {}, "context": {"post": "p1"}}, UnknownField,
         "context.post"),
        ({"platform": "x", "payload": {}, "extra": 1}, UnknownField, "extra"),
    ],
)  # fmt: skip
def test_envelope_errors_name_the_field(envelope: dict[str, Any], error: type, path: str) -> None:
    with pytest.raises(error) as caught:
        parse_envelope(envelope)
    if path is not None:
        assert caught.value.path == path  # type: ignore[attr-defined]


def test_null_context_fields_count_as_absent() -> None:
    parsed = parse_envelope(
        {"platform": "x", "payload": {}, "context": {"post_id": None, "signals": None}}
    )
    assert (parsed.context.post_id, parsed.context.signals) == ("", ())
    assert convert({"platform": "x", "payload": {}}, RawEnvelope).context is None
