"""Each platform fixture in tests/data/platforms → the exact Comment it must become."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemas.comment import PLATFORMS, Comment
from streams.normalise.ingest import ingest
from streams.normalise.pseudonymise import Pseudonymiser
from streams.normalise.text import normalise
from streams.platforms import READERS

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "platforms"
PSEUDONYMISER = Pseudonymiser(b"test-only-pseudonymisation-key")
SOURCE = "comments.raw[2]@1041"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def ingest_ok(raw: bytes) -> Comment:
    out = ingest(
        raw, source=SOURCE, pseudonymiser=PSEUDONYMISER, max_bytes=64 * 1024, failed_at_ms=0
    )
    assert isinstance(out, Comment), out
    return out


def expected(platform: str, account_id: str, text: str, **fields: Any) -> Comment:
    return Comment(
        platform=platform,
        author_key=PSEUDONYMISER.author_key(platform, account_id),
        text=text,
        normalised=normalise(text).text,
        source=SOURCE,
        **fields,
    )


# (fixture file, raw account id, expected Comment)
CASES = [
    (
        "x_reply.json",
        "1409882716354215937",
        expected(
            "x",
            "1409882716354215937",
            "@CTMUHB Sat in A&E at Prince Charles for 6 hours last night with my dad. Staff were "
            "run off their feet but kind. Why is there only one doctor on overnight?",
            comment_id="x:2028776319219848839",
            author_name="Rhys Llewellyn",
            author_handle="rhys_llew86",
            post_id="2028749718942650514",
            post_text="Our Emergency Departments are very busy today. Please only attend in an "
            "emergency and use NHS 111 Wales for advice.",
            event_time_ms=1_772_532_942_000,
            lang="en",
            signals=("sha256:6f1d0c3a9b7e42d1", "sha256:b02e71ac5d9f3e80"),
        ),
    ),
    (
        "facebook_comment.json",
        "7382910456217834",
        expected(
            "facebook",
            "7382910456217834",
            "Can anyone tell me if the phlebotomy clinic at Keir Hardie is walk-in on a Tuesday "
            "or do I need to book? Thanks in advance 😊",
            comment_id="facebook:1032847561928374_1187462039485721",
            author_name="Sian Morgan-Davies",
            author_handle="",
            post_id="1032847561928374",
            post_text="Blood test clinics across the health board are changing their opening "
            "times from Monday 9 March. Full details on our website.",
            event_time_ms=1_772_535_737_000,
            lang="",
        ),
    ),
    (
        "instagram_comment.json",
        "17841462738195024",
        expected(
            "instagram",
            "17841462738195024",
            "Massive thank you to the midwives on the labour ward at Prince Charles 💕 you looked "
            "after us so well last week @ctmuhb",
            comment_id="instagram:18047392817465023",
            author_name="bethan.rees_",
            author_handle="bethan.rees_",
            post_id="18103928475619283",
            post_text="",
            event_time_ms=1_772_541_845_000,
            lang="",
        ),
    ),
    (
        "linkedin_comment.json",
        "urn:li:person:Xk4Tq9bLw2",
        expected(
            "linkedin",
            "urn:li:person:Xk4Tq9bLw2",
            "Great to see the new nurse apprenticeship scheme. Will there be places for "
            "healthcare support workers already employed by the board?",
            comment_id="linkedin:7302954410982170624",
            author_name="Owain Pritchard",
            author_handle="",
            post_id="urn:li:activity:7302918273645518848",
            post_text="",
            event_time_ms=1_772_547_631_000,
            lang="",
        ),
    ),
    (
        "youtube_comment_thread.json",
        "UCb4L2qW7mN9xR3tK8pZ1vYd",
        expected(
            "youtube",
            "UCb4L2qW7mN9xR3tK8pZ1vYd",
            "This video explains the new urgent care centre really clearly. Is it open to "
            "walk-ins from Bridgend as well?",
            comment_id="youtube:UgwQ7r3kP9mZx2LbT4d4AaABAg",
            author_name="@gwenjones-bridgend",
            author_handle="gwenjones-bridgend",
            post_id="kJ8pQ2wRt5Y",
            post_text="",
            event_time_ms=1_772_550_309_000,
            lang="",
        ),
    ),
    (
        "youtube_reply.json",
        "UCz8P3kL1wQ6mT9rV2xN5bYe",
        expected(
            "youtube",
            "UCz8P3kL1wQ6mT9rV2xN5bYe",
            # textOriginal, not the HTML-escaped textDisplay.
            "Yes it is, I went there from Maesteg last month & was seen in 40 mins",
            comment_id="youtube:UgwQ7r3kP9mZx2LbT4d4AaABAg.A1b2C3d4E5fG6h7I8j9K0l",
            author_name="@dai.thomas1962",
            author_handle="dai.thomas1962",
            post_id="kJ8pQ2wRt5Y",
            post_text="",
            event_time_ms=1_772_552_516_527,
            lang="",
        ),
    ),
    (
        "youtube_thread_display_only.json",
        "UCq5W1nK8mT3pL7xR9vZ2bYf",
        expected(
            "youtube",
            "UCq5W1nK8mT3pL7xR9vZ2bYf",
            "How long is the wait for a hip replacement at the Royal Glamorgan now? My nan was "
            "told 18 months",
            comment_id="youtube:UgxN5t8pR2kQ7mL3vZ9d4AaABAg",
            author_name="Margaret Evans",
            author_handle="",
            post_id="kJ8pQ2wRt5Y",
            post_text="A tour of the new urgent primary care centre",
            event_time_ms=1_772_554_350_000,
            lang="",
        ),
    ),
]


@pytest.mark.parametrize(("name", "account_id", "want"), CASES, ids=[c[0] for c in CASES])
def test_fixture_becomes_the_expected_comment(name: str, account_id: str, want: Comment) -> None:
    got = ingest_ok(fixture_bytes(name))
    assert got == want


@pytest.mark.parametrize(("name", "account_id", "want"), CASES, ids=[c[0] for c in CASES])
def test_raw_account_id_never_reaches_the_comment(
    name: str, account_id: str, want: Comment
) -> None:
    encoded = ingest_ok(fixture_bytes(name)).to_bytes()
    assert account_id.encode() not in encoded
    # Nor the JSON-escaped form (e.g. the URN's colons are plain, but be thorough).
    assert json.dumps(account_id).encode() not in encoded


def test_every_platform_has_an_adapter_and_a_fixture() -> None:
    assert set(READERS) == set(PLATFORMS)
    covered = {json.loads(fixture_bytes(name))["platform"] for name, _, _ in CASES}
    assert covered == set(PLATFORMS)


def test_comment_round_trips_through_its_wire_form() -> None:
    for name, _, _ in CASES:
        comment = ingest_ok(fixture_bytes(name))
        assert Comment.from_bytes(comment.to_bytes()) == comment


def envelope(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(fixture_bytes(name))
    return loaded


def to_bytes(obj: object) -> bytes:
    return json.dumps(obj).encode()


def test_x_bare_tweet_without_includes_has_no_name_or_post_text() -> None:
    raw = envelope("x_reply.json")
    raw["payload"] = raw["payload"]["data"]
    got = ingest_ok(to_bytes(raw))
    assert (got.comment_id, got.author_name, got.author_handle) == ("x:2028776319219848839", "", "")
    assert (got.post_id, got.post_text) == ("2028749718942650514", "")


def test_x_top_level_tweet_names_no_post_and_und_language_is_unknown() -> None:
    raw = envelope("x_reply.json")
    tweet = raw["payload"]["data"]
    tweet["conversation_id"] = tweet["id"]
    del tweet["referenced_tweets"]
    tweet["lang"] = "und"
    got = ingest_ok(to_bytes(raw))
    assert (got.post_id, got.post_text, got.lang) == ("", "", "")


def test_x_reply_to_a_reply_without_conversation_id_uses_replied_to() -> None:
    raw = envelope("x_reply.json")
    del raw["payload"]["data"]["conversation_id"]
    raw["payload"]["data"]["referenced_tweets"] = [
        {"type": "quoted", "id": "1"},
        {"type": "replied_to", "id": "2028749718942650514"},
    ]
    assert ingest_ok(to_bytes(raw)).post_id == "2028749718942650514"


def test_context_post_id_wins_and_drops_text_about_a_different_post() -> None:
    raw = envelope("x_reply.json")
    raw["context"]["post_id"] = "1999999999999999999"
    got = ingest_ok(to_bytes(raw))
    assert (got.post_id, got.post_text) == ("1999999999999999999", "")


def test_facebook_comment_id_without_post_prefix_and_no_context_has_no_post() -> None:
    raw = envelope("facebook_comment.json")
    raw["payload"]["id"] = "1187462039485721"
    del raw["context"]
    got = ingest_ok(to_bytes(raw))
    assert (got.comment_id, got.post_id, got.post_text) == ("facebook:1187462039485721", "", "")


def test_facebook_attachment_only_comment_has_empty_text() -> None:
    raw = envelope("facebook_comment.json")
    raw["payload"]["message"] = ""
    assert ingest_ok(to_bytes(raw)).text == ""


def test_instagram_top_level_username_is_used_when_from_has_none() -> None:
    raw = envelope("instagram_comment.json")
    raw["payload"]["from"] = {"id": "17841462738195024"}
    got = ingest_ok(to_bytes(raw))
    assert (got.author_name, got.author_handle) == ("bethan.rees_", "bethan.rees_")


def test_instagram_media_caption_is_the_post_text() -> None:
    raw = envelope("instagram_comment.json")
    raw["payload"]["media"]["caption"] = "Meet the maternity team 👶"
    assert ingest_ok(to_bytes(raw)).post_text == "Meet the maternity team 👶"


def test_linkedin_id_and_object_alone_are_enough() -> None:
    raw = envelope("linkedin_comment.json")
    payload = raw["payload"]
    for key in ("$URN", "commentUrn", "actor~"):
        del payload[key]
    payload["id"] = "7302954410982170624"
    del raw["context"]
    got = ingest_ok(to_bytes(raw))
    assert got.comment_id == "linkedin:7302954410982170624"
    assert (got.post_id, got.author_name) == ("urn:li:activity:7302918273645518848", "")


def test_linkedin_post_comes_from_the_comment_urn_when_object_is_absent() -> None:
    raw = envelope("linkedin_comment.json")
    del raw["payload"]["object"]
    del raw["context"]
    assert ingest_ok(to_bytes(raw)).post_id == "urn:li:activity:7302918273645518848"


def test_linkedin_organisation_author_uses_its_localised_name() -> None:
    raw = envelope("linkedin_comment.json")
    raw["payload"]["actor"] = "urn:li:organization:2414183"
    raw["payload"]["actor~"] = {"localizedName": "Valleys Carers Network", "vanityName": "vcn"}
    got = ingest_ok(to_bytes(raw))
    assert (got.author_name, got.author_handle) == ("Valleys Carers Network", "vcn")


def test_youtube_thread_and_its_comment_resource_get_the_same_comment_id() -> None:
    thread = envelope("youtube_comment_thread.json")
    comment = {"platform": "youtube", "payload": thread["payload"]["snippet"]["topLevelComment"]}
    assert ingest_ok(to_bytes(thread)) == ingest_ok(to_bytes(comment))


def test_youtube_reply_without_video_id_has_no_post() -> None:
    raw = envelope("youtube_reply.json")
    del raw["payload"]["snippet"]["videoId"]
    assert ingest_ok(to_bytes(raw)).post_id == ""


@pytest.mark.parametrize(
    ("stamp", "want_ms"),
    [
        ("2026-03-03T10:00:00Z", 1_772_532_000_000),
        ("2026-03-03T10:00:00.999Z", 1_772_532_000_999),
        ("2026-03-03T10:00:00.9999999Z", 1_772_532_000_999),  # truncated, never rounded up
        ("2026-03-03T10:00:00.5Z", 1_772_532_000_500),
        ("2026-03-03T10:00:00+0000", 1_772_532_000_000),
        ("2026-03-03T11:00:00+01:00", 1_772_532_000_000),
        ("2026-03-03T05:30:00-0430", 1_772_532_000_000),
        ("2026-06-01T10:00:00+01:00", 1_780_304_400_000),  # BST: 09:00 UTC
    ],
)
def test_platform_timestamp_formats_become_utc_epoch_ms(stamp: str, want_ms: int) -> None:
    raw = envelope("youtube_reply.json")
    raw["payload"]["snippet"]["publishedAt"] = stamp
    assert ingest_ok(to_bytes(raw)).event_time_ms == want_ms
