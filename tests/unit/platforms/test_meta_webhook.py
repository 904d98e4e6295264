"""The Meta webhook's pure parts: signature, handshake, and changes -> envelopes."""

from __future__ import annotations

import orjson

from streams.normalise.envelope import JsonObject
from streams.platforms import READERS, meta
from streams.platforms.base import Envelope
from tests.fake_platform import signed_delivery

SECRET = "app-secret-for-tests"


def test_a_signature_over_the_raw_body_with_the_app_secret_is_valid() -> None:
    body, headers = signed_delivery(SECRET, {"object": "page", "entry": []})
    assert meta.signature_valid(SECRET.encode(), body, headers["X-Hub-Signature-256"])
    assert not meta.signature_valid(SECRET.encode(), body + b" ", headers["X-Hub-Signature-256"])
    assert not meta.signature_valid(b"another-secret", body, headers["X-Hub-Signature-256"])
    assert not meta.signature_valid(SECRET.encode(), body, None)
    assert not meta.signature_valid(SECRET.encode(), body, headers["X-Hub-Signature-256"][7:])
    # No secret configured: nothing is ever valid.
    assert not meta.signature_valid(b"", body, headers["X-Hub-Signature-256"])


def test_the_handshake_answers_only_our_token() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}
    assert meta.handshake(params, "tok") == "1158201444"
    assert meta.handshake({**params, "hub.verify_token": "tok2"}, "tok") is None
    assert meta.handshake({**params, "hub.mode": "unsubscribe"}, "tok") is None
    assert meta.handshake(params, "") is None


def test_facebook_and_instagram_changes_become_readable_envelopes() -> None:
    page = {
        "object": "page",
        "entry": [
            {
                "id": "1000200030004000",
                "time": 1796119200,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": "5001_10",
                            "post_id": "1000200030004000_5001",
                            "parent_id": "1000200030004000_5001",
                            "from": {"id": "5550101", "name": "Dai Bevan"},
                            "message": "Diolch",
                            "created_time": 1796119200,
                        },
                    },
                    {"field": "feed", "value": {"item": "comment", "verb": "remove"}},
                    {"field": "feed", "value": {"item": "reaction", "verb": "add"}},
                ],
            }
        ],
    }
    found, other = meta.comments_of(page)
    assert other == 2 and len(found) == 1
    comment = READERS["facebook"](JsonObject(found[0].payload, "payload"))
    assert (comment.native_id, comment.account_id, comment.text) == ("5001_10", "5550101", "Diolch")
    assert comment.event_time_ms == 1796119200 * 1000
    assert found[0].context == {"post_id": "1000200030004000_5001"}

    instagram = {
        "object": "instagram",
        "entry": [
            {
                "id": "17841400000000001",
                "time": 1796119260,
                "changes": [
                    {
                        "field": "comments",
                        "value": {
                            "id": "17900000000000077",
                            "from": {"id": "17841499999999999", "username": "rhys.m"},
                            "media": {"id": "17890000000000001", "media_product_type": "FEED"},
                            "text": "Great news",
                        },
                    }
                ],
            }
        ],
    }
    found, other = meta.comments_of(instagram)
    assert other == 0
    comment = READERS["instagram"](JsonObject(found[0].payload, "payload"))
    assert (comment.native_id, comment.author_handle, comment.post_id) == (
        "17900000000000077",
        "rhys.m",
        "17890000000000001",
    )


def test_junk_deliveries_give_nothing() -> None:
    assert meta.comments_of([1, 2]) == ([], 0)
    assert meta.comments_of(orjson.loads(b'{"object": "page", "entry": "x"}')) == ([], 0)


def test_connector_envelopes_meet_the_raw_topic_schema() -> None:
    """What the connectors produce is what comments.raw's JSON Schema promises."""
    from jsonschema import Draft202012Validator

    from tests.fake_platform.shapes import li_comment, x_tweet, yt_thread
    from tests.unit.test_json_schemas import load_schema

    check = Draft202012Validator(load_schema("comments.raw"))
    page = {
        "object": "page",
        "entry": [
            {
                "id": "1",
                "time": 1796119200,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": "5001_10",
                            "post_id": "1_5001",
                            "from": {"id": "5550101", "name": "Dai"},
                            "message": "Diolch",
                            "created_time": 1796119200,
                        },
                    }
                ],
            }
        ],
    }
    envelopes = meta.comments_of(page)[0]
    envelopes += [
        Envelope("youtube", yt_thread("Ugz1", "2026-12-01T10:00:00Z"), {}),
        Envelope("x", {"data": x_tweet("1800000000000000001", "42")}, {}),
        Envelope("linkedin", li_comment("urn:li:share:1", "7", 1_796_119_200_000), {}),
    ]
    for envelope in envelopes:
        errors = [e.message for e in check.iter_errors(envelope.document())]
        assert errors == [], (envelope.platform, errors)
