"""ingest(): every input gives exactly one Comment or DeadLetter, for the right reason."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import streams.platforms as platforms
from schemas.comment import PLATFORMS, Comment
from schemas.deadletter import REASONS, DeadLetter
from streams.normalise import ingest as ingest_module
from streams.normalise.envelope import JsonObject
from streams.normalise.ingest import ingest
from streams.normalise.pseudonymise import Pseudonymiser, PseudonymKeyError
from streams.platforms.base import PlatformComment

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "platforms"
PSEUDONYMISER = Pseudonymiser(b"test-only-pseudonymisation-key")
SOURCE = "comments.raw[0]@7"
FAILED_AT = 1_772_600_000_000
MAX_BYTES = 64 * 1024

# Values that must never appear in a dead letter's detail.
SECRET_ACCOUNT = "7382910456217834"
SECRET_TEXT = "phlebotomy clinic at Keir Hardie"


def run(raw: bytes, *, max_bytes: int = MAX_BYTES) -> Comment | DeadLetter:
    return ingest(
        raw,
        source=SOURCE,
        pseudonymiser=PSEUDONYMISER,
        max_bytes=max_bytes,
        failed_at_ms=FAILED_AT,
    )


def dead(raw: bytes, reason: str, *, max_bytes: int = MAX_BYTES) -> DeadLetter:
    out = run(raw, max_bytes=max_bytes)
    assert isinstance(out, DeadLetter), out
    assert out.reason == reason, out.detail
    assert out.stage == "normalise"
    assert out.source == SOURCE
    assert out.failed_at_ms == FAILED_AT
    assert out.original() == raw
    assert base64.b64decode(out.original_b64) == raw
    assert SECRET_ACCOUNT not in out.detail
    assert SECRET_TEXT not in out.detail
    assert DeadLetter.from_bytes(out.to_bytes()) == out
    return out


def facebook() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / "facebook_comment.json").read_bytes())
    return loaded


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / name).read_bytes())
    return loaded


def encode(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


# --- the order of checks ---------------------------------------------------------------


def test_oversize_is_checked_before_anything_else() -> None:
    raw = b"\xff" * 101  # not UTF-8 either: size wins
    letter = dead(raw, "oversize", max_bytes=100)
    assert letter.detail == "message is 101 bytes, the limit is 100"


def test_a_message_of_exactly_max_bytes_is_accepted() -> None:
    raw = encode(facebook())
    assert isinstance(run(raw, max_bytes=len(raw)), Comment)
    dead(raw, "oversize", max_bytes=len(raw) - 1)


def test_invalid_utf8_names_the_byte_offset() -> None:
    raw = b'{"platform": "facebook", "payload": {"message": "caf\xe9"}}'
    letter = dead(raw, "invalid_utf8")
    assert letter.detail == "not UTF-8 at byte 52"


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b'{"platform": "x",}', b"not json", b"\xef\xbb\xbf{}", b'"\\ud800"'],
    ids=["empty", "truncated", "trailing-comma", "text", "bom", "lone-surrogate"],
)
def test_text_that_is_not_json_is_invalid_json(raw: bytes) -> None:
    dead(raw, "invalid_json")


@pytest.mark.parametrize("raw", [b"[]", b"null", b"42", b'"facebook"', b"true"])
def test_json_that_is_not_an_object_is_invalid_json(raw: bytes) -> None:
    letter = dead(raw, "invalid_json")
    assert "not an object" in letter.detail


@pytest.mark.parametrize("platform", ["tiktok", "X", "", 5, 0, ["x"], {"x": 1}])
def test_unknown_platform(platform: object) -> None:
    envelope = facebook()
    envelope["platform"] = platform
    letter = dead(encode(envelope), "unknown_platform")
    assert letter.detail == "platform is not one of x, facebook, instagram, linkedin, youtube"


def test_unknown_platform_is_checked_before_missing_payload_fields() -> None:
    dead(b'{"platform": "myspace"}', "unknown_platform")


# --- missing fields name their path, never a value -------------------------------------


def drop(obj: dict[str, Any], dotted: str) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    *parents, leaf = dotted.split(".")
    node = out
    for part in parents:
        node = node[part]
    del node[leaf]
    return out


@pytest.mark.parametrize(
    ("name", "dropped", "path"),
    [
        ("facebook_comment.json", "platform", "platform"),
        ("facebook_comment.json", "payload", "payload"),
        ("facebook_comment.json", "payload.from.id", "payload.from.id"),
        ("facebook_comment.json", "payload.from", "payload.from.id"),
        ("facebook_comment.json", "payload.created_time", "payload.created_time"),
        ("facebook_comment.json", "payload.message", "payload.message"),
        ("x_reply.json", "payload.data.author_id", "payload.data.author_id"),
        ("x_reply.json", "payload.data.created_at", "payload.data.created_at"),
        ("instagram_comment.json", "payload.timestamp", "payload.timestamp"),
        ("linkedin_comment.json", "payload.created.time", "payload.created.time"),
        ("linkedin_comment.json", "payload.message", "payload.message.text"),
        ("linkedin_comment.json", "payload.actor", "payload.actor"),
        (
            "youtube_comment_thread.json",
            "payload.snippet.topLevelComment.snippet.authorChannelId",
            "payload.snippet.topLevelComment.snippet.authorChannelId.value",
        ),
        (
            "youtube_comment_thread.json",
            "payload.snippet.topLevelComment",
            "payload.snippet.topLevelComment",
        ),
        ("youtube_reply.json", "payload.snippet.publishedAt", "payload.snippet.publishedAt"),
    ],
)
def test_missing_field_names_its_path(name: str, dropped: str, path: str) -> None:
    letter = dead(encode(drop(fixture(name), dropped)), "missing_field")
    assert letter.detail == f"{path}: required field is missing"


def test_null_counts_as_missing() -> None:
    envelope = facebook()
    envelope["payload"]["from"]["id"] = None
    assert dead(encode(envelope), "missing_field").detail.startswith("payload.from.id:")


def test_linkedin_without_any_comment_id_is_missing_id() -> None:
    envelope = fixture("linkedin_comment.json")
    del envelope["payload"]["$URN"], envelope["payload"]["commentUrn"]
    assert dead(encode(envelope), "missing_field").detail.startswith("payload.id:")


def test_youtube_without_either_text_is_missing_text_original() -> None:
    envelope = fixture("youtube_reply.json")
    snippet = envelope["payload"]["snippet"]
    del snippet["textOriginal"], snippet["textDisplay"]
    letter = dead(encode(envelope), "missing_field")
    assert letter.detail.startswith("payload.snippet.textOriginal:")


# --- wrong types and unparseable timestamps ---------------------------------------------


def replace(obj: dict[str, Any], dotted: str, value: object) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    *parents, leaf = dotted.split(".")
    node = out
    for part in parents:
        node = node[part]
    node[leaf] = value
    return out


@pytest.mark.parametrize(
    ("name", "dotted", "value", "path"),
    [
        ("facebook_comment.json", "payload", [1, 2], "payload"),
        ("facebook_comment.json", "context", "yes", "context"),
        ("facebook_comment.json", "context.signals", "abc", "context.signals"),
        ("facebook_comment.json", "context.signals", ["ok", 3], "context.signals[1]"),
        ("facebook_comment.json", "payload.from", SECRET_ACCOUNT, "payload.from"),
        ("facebook_comment.json", "payload.from.id", 7382910456217834, "payload.from.id"),
        ("facebook_comment.json", "payload.id", "", "payload.id"),
        ("facebook_comment.json", "payload.message", ["hi"], "payload.message"),
        ("x_reply.json", "payload.includes.users", {"id": "1"}, "payload.includes.users"),
        ("x_reply.json", "payload.includes.users", ["1"], "payload.includes.users[0]"),
        ("x_reply.json", "payload.data.lang", 1, "payload.data.lang"),
        ("linkedin_comment.json", "payload.created.time", "1772547631000", "payload.created.time"),
        ("linkedin_comment.json", "payload.created.time", True, "payload.created.time"),
        ("linkedin_comment.json", "payload.created.time", 1.7e12, "payload.created.time"),
        ("linkedin_comment.json", "payload.created.time", -1, "payload.created.time"),
        ("linkedin_comment.json", "payload.created.time", 10**17, "payload.created.time"),
        ("linkedin_comment.json", "payload.actor", "Owain Pritchard", "payload.actor"),
        ("linkedin_comment.json", "payload.$URN", "urn:li:comment:broken", "payload.$URN"),
        ("linkedin_comment.json", "payload.message", "hi", "payload.message"),
        ("youtube_reply.json", "payload.kind", "youtube#video", "payload.kind"),
        (
            "youtube_reply.json",
            "payload.snippet.authorChannelId",
            "UC",
            "payload.snippet.authorChannelId",
        ),
    ],
)
def test_invalid_field_names_its_path(name: str, dotted: str, value: object, path: str) -> None:
    letter = dead(encode(replace(fixture(name), dotted, value)), "invalid_field")
    assert letter.detail.startswith(f"{path}: expected ")


@pytest.mark.parametrize(
    "stamp",
    [
        "yesterday",
        "2026-03-03T11:02:17",  # naive: would be read in the server's zone, so refused
        "2026-03-03 11:02:17+0000",
        "2026-13-03T11:02:17+0000",
        "2026-02-30T11:02:17+0000",
        "2026-03-03T11:02:60+0000",
        "2026-03-03T11:02:17+2500",
        "1969-12-31T23:59:59+0000",
        "0001-01-01T00:00:00+2359",
        "2026-03-03T11:02:17.+0000",
        1772535737,
    ],
)
def test_unparseable_timestamp_is_invalid_field(stamp: object) -> None:
    envelope = replace(facebook(), "payload.created_time", stamp)
    letter = dead(encode(envelope), "invalid_field")
    assert letter.detail.startswith("payload.created_time: expected ")


def test_invalid_field_detail_never_echoes_the_value() -> None:
    envelope = replace(facebook(), "payload.from", SECRET_ACCOUNT)
    letter = dead(encode(envelope), "invalid_field")
    assert letter.detail == "payload.from: expected an object"


# --- anything else an adapter or the normaliser raises -----------------------------------


def test_an_adapter_bug_becomes_invalid_record(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(payload: JsonObject) -> PlatformComment:
        raise ValueError(f"bad value {SECRET_TEXT}")

    monkeypatch.setitem(platforms.READERS, "facebook", broken)
    letter = dead(encode(facebook()), "invalid_record")
    assert letter.detail == "facebook reader failed: ValueError"


def test_a_normaliser_failure_becomes_processing_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str) -> object:
        raise IndexError(text)

    monkeypatch.setattr(ingest_module, "normalise", broken)
    letter = dead(encode(facebook()), "processing_error")
    assert letter.detail == "normalise failed: IndexError"


def test_errors_that_are_not_about_the_record_propagate(monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(payload: JsonObject) -> PlatformComment:
        raise MemoryError

    monkeypatch.setitem(platforms.READERS, "facebook", exhausted)
    with pytest.raises(MemoryError):
        run(encode(facebook()))


# --- pseudonymisation -------------------------------------------------------------------


def test_author_key_is_the_truncated_hmac_of_platform_and_account() -> None:
    # Known answer, from `openssl dgst -sha256 -hmac <key>`, first 32 hex digits.
    assert (
        PSEUDONYMISER.author_key("facebook", SECRET_ACCOUNT) == "b3299936f5d15c6bb0c4079448aa2456"
    )


def test_author_key_depends_on_platform_account_and_key() -> None:
    keys = {
        PSEUDONYMISER.author_key("facebook", "1"),
        PSEUDONYMISER.author_key("instagram", "1"),
        PSEUDONYMISER.author_key("facebook", "2"),
        Pseudonymiser(b"another-key-of-enough-bytes").author_key("facebook", "1"),
    }
    assert len(keys) == 4
    assert all(len(k) == 32 and int(k, 16) >= 0 for k in keys)


@pytest.mark.parametrize("key", [b"", b"short", b"x" * 15])
def test_short_keys_are_refused(key: bytes) -> None:
    with pytest.raises(PseudonymKeyError, match="at least 16 bytes"):
        Pseudonymiser(key)


def test_a_string_key_is_refused() -> None:
    with pytest.raises(PseudonymKeyError, match="must be bytes"):
        Pseudonymiser("a-text-key-of-enough-length")  # type: ignore[arg-type]


def test_the_key_never_shows_in_repr() -> None:
    assert "test-only" not in repr(PSEUDONYMISER)


def test_same_comment_same_author_key_across_platform_fields() -> None:
    first = run(encode(facebook()))
    again = run(encode(facebook()))
    assert isinstance(first, Comment) and first == again


# --- never raises -----------------------------------------------------------------------


def check_outcome(raw: bytes, out: Comment | DeadLetter) -> None:
    if isinstance(out, DeadLetter):
        assert out.reason in REASONS
        assert out.original() == raw
    else:
        assert out.platform in PLATFORMS
        assert out.comment_id.startswith(f"{out.platform}:")
        assert out.source == SOURCE
    # Whatever came out must be publishable.
    type(out).from_bytes(out.to_bytes())


PROPERTY = settings(max_examples=300, derandomize=True, database=None, deadline=None)


@PROPERTY
@given(st.binary(max_size=512))
def test_arbitrary_bytes_always_give_one_outcome(raw: bytes) -> None:
    check_outcome(raw, run(raw, max_bytes=256))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(["2026-03-03T10:00:00Z", "urn:li:person:a", "youtube#comment"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@PROPERTY
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "platform": st.sampled_from([*PLATFORMS, "tiktok"]) | json_values,
            "payload": json_values,
            "context": json_values,
        },
    ),
    st.booleans(),
)
def test_arbitrary_json_envelopes_always_give_one_outcome(
    envelope: dict[str, Any], ascii_only: bool
) -> None:
    raw = json.dumps(envelope, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    check_outcome(raw, run(raw))


FIXTURE_NAMES = sorted(p.name for p in FIXTURES.glob("*.json"))


def paths(node: object, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found: list[tuple[str | int, ...]] = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += paths(value, (*prefix, i))
    return found


@st.composite
def mutated_fixtures(draw: st.DrawFn) -> dict[str, Any]:
    """A real fixture with one field deleted or replaced: exercises every adapter branch."""
    envelope = fixture(draw(st.sampled_from(FIXTURE_NAMES)))
    path = draw(st.sampled_from(paths(envelope)))
    node: Any = envelope
    for step in path[:-1]:
        node = node[step]
    if draw(st.booleans()) and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = draw(json_values)
    return envelope


@PROPERTY
@given(mutated_fixtures())
def test_mutated_platform_payloads_always_give_one_outcome(envelope: dict[str, Any]) -> None:
    raw = json.dumps(envelope).encode()
    out = run(raw)
    check_outcome(raw, out)
    if isinstance(out, DeadLetter):
        assert out.reason in {"unknown_platform", "missing_field", "invalid_field", "invalid_json"}
