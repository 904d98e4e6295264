"""YouTube, X and LinkedIn through the real broker: comments seeded in the fake platform are
polled by the connector, decided by the pipeline and acted on by the executor; the test
asserts the exact requests each platform received.

The same four comments on each platform: three swearing ones from one account within the
hour (the first two get a reply asking for removal, the third is hidden and its author
blocked) and an allegation from another account (removed at once). Where a platform has no
API for an action (X cannot delete another's post, LinkedIn cannot hide or block), no request
is made and the action is left to a person.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.fake_platform import Call, FakePlatform
from tests.fake_platform.shapes import li_comment, x_tweet, yt_thread
from tests.integration.platform_run import (
    BOARD_X_ID,
    MONITORED_S,
    ORG_URN,
    identity_log,
    start_connector,
    wait_for_calls,
)
from tests.integration.test_platform_meta import ALLEGATION, SWEARING
from workers.dev.local_run import LocalPipeline

POST_URN = "urn:li:share:7100000000000000001"
OFFENDER, OTHER = "offender", "other"


def _at(i: int) -> int:
    return MONITORED_S + 600 * i


def _iso(seconds: int, fmt: str) -> str:
    return datetime.fromtimestamp(seconds, tz=UTC).strftime(fmt)


def seed_youtube(fake: FakePlatform) -> dict[str, str]:
    ids = {OFFENDER: "UCoffender0000000000001", OTHER: "UCother000000000000000002"}
    threads = [
        yt_thread(f"UgzSw{i}", _iso(_at(i), "%Y-%m-%dT%H:%M:%SZ"), author=ids[OFFENDER], text=t)
        for i, t in enumerate(SWEARING)
    ]
    threads.append(
        yt_thread(
            "UgzAl",
            _iso(MONITORED_S + 60, "%Y-%m-%dT%H:%M:%SZ"),
            author=ids[OTHER],
            text=ALLEGATION,
        )
    )
    fake.yt_threads = sorted(
        threads,
        key=lambda t: t["snippet"]["topLevelComment"]["snippet"]["publishedAt"],
        reverse=True,
    )
    return ids


def seed_x(fake: FakePlatform) -> dict[str, str]:
    ids = {OFFENDER: "1500000000000000001", OTHER: "1500000000000000002"}
    fake.x_users = {v: {"id": v, "name": k, "username": k} for k, v in ids.items()}
    tweets = [
        x_tweet(
            f"18000000000000001{i}",
            ids[OFFENDER],
            text=f"@CTMUHB {t}",
            created=_iso(_at(i), "%Y-%m-%dT%H:%M:%S.000Z"),
        )
        for i, t in enumerate(SWEARING)
    ]
    tweets.append(
        x_tweet(
            "1800000000000000120",
            ids[OTHER],
            text=f"@CTMUHB {ALLEGATION}",
            created=_iso(MONITORED_S + 60, "%Y-%m-%dT%H:%M:%S.000Z"),
        )
    )
    fake.x_mentions = sorted(tweets, key=lambda t: int(t["id"]), reverse=True)
    return ids


def seed_linkedin(fake: FakePlatform) -> dict[str, str]:
    ids = {OFFENDER: "urn:li:person:Offender1", OTHER: "urn:li:person:Other2"}
    comments = [
        li_comment(POST_URN, f"72000000000000001{i}", _at(i) * 1000, actor=ids[OFFENDER], text=t)
        for i, t in enumerate(SWEARING)
    ]
    comments.append(
        li_comment(
            POST_URN,
            "7200000000000000120",
            (MONITORED_S + 60) * 1000,
            actor=ids[OTHER],
            text=ALLEGATION,
        )
    )
    fake.li_posts = {POST_URN: comments}
    return ids


def expected_youtube(ids: dict[str, str], message: Callable[[str], str]) -> list[Any]:
    moderate = "/youtube/v3/comments/setModerationStatus"
    return [
        (
            "POST",
            "/youtube/v3/comments",
            {"part": "snippet"},
            {"snippet": {"parentId": "UgzSw0", "textOriginal": message("UgzSw0")}},
        ),
        (
            "POST",
            "/youtube/v3/comments",
            {"part": "snippet"},
            {"snippet": {"parentId": "UgzSw1", "textOriginal": message("UgzSw1")}},
        ),
        ("POST", moderate, {"id": "UgzSw2", "moderationStatus": "heldForReview"}, None),
        # The ban goes through the author's latest comment, found in the identity map.
        (
            "POST",
            moderate,
            {"id": "UgzSw2", "moderationStatus": "rejected", "banAuthor": "true"},
            None,
        ),
        ("POST", moderate, {"id": "UgzAl", "moderationStatus": "rejected"}, None),
    ]


def expected_x(ids: dict[str, str], message: Callable[[str], str]) -> list[Any]:
    return [
        (
            "POST",
            "/x/2/tweets",
            {},
            {
                "text": message("180000000000000010"),
                "reply": {"in_reply_to_tweet_id": "180000000000000010"},
            },
        ),
        (
            "POST",
            "/x/2/tweets",
            {},
            {
                "text": message("180000000000000011"),
                "reply": {"in_reply_to_tweet_id": "180000000000000011"},
            },
        ),
        ("PUT", "/x/2/tweets/180000000000000012/hidden", {}, {"hidden": True}),
        ("POST", f"/x/2/users/{BOARD_X_ID}/blocking", {}, {"target_user_id": ids[OFFENDER]}),
    ]


def expected_linkedin(ids: dict[str, str], message: Callable[[str], str]) -> list[Any]:
    def reply(n: str) -> Any:
        parent = f"urn:li:comment:({POST_URN},{n})"
        body = {
            "actor": ORG_URN,
            "object": POST_URN,
            "parentComment": parent,
            "message": {"text": message(n)},
        }
        return ("POST", f"/linkedin/rest/socialActions/{parent}/comments", {}, body)

    return [
        reply("720000000000000010"),
        reply("720000000000000011"),
        (
            "DELETE",
            f"/linkedin/rest/socialActions/{POST_URN}/comments/7200000000000000120",
            {"actor": ORG_URN},
            None,
        ),
    ]


CASES = {
    "youtube": (seed_youtube, expected_youtube),
    "x": (seed_x, expected_x),
    "linkedin": (seed_linkedin, expected_linkedin),
}


def _message_of(calls: list[Call]) -> Callable[[str], str]:
    """The reply text the executor sent about a comment id (the policy's wording is not
    this test's business; that a reply went to the right comment is)."""

    def find(comment: str) -> str:
        for call in calls:
            body = call.body or {}
            text = (body.get("snippet") or {}).get("textOriginal") or body.get("text")
            if text is None:
                text = (
                    (body.get("message") or {}).get("text")
                    if isinstance(body.get("message"), dict)
                    else None
                )
            if text and comment in repr(call):
                return str(text)
        return ""

    return find


@pytest.mark.parametrize("platform", sorted(CASES))
async def test_a_polled_comment_reaches_the_platform_as_documented_requests(
    platform_pipeline: LocalPipeline, fake: FakePlatform, platform: str
) -> None:
    seed, expected = CASES[platform]
    ids = seed(fake)
    platform_pipeline.start_worker()
    platform_pipeline.start_executor()
    await platform_pipeline.wait_ready()
    start_connector(platform_pipeline, platform)

    want = len(expected(ids, lambda _: ""))
    calls = await wait_for_calls(fake, lambda got: len(got) >= want)
    await wait_for_calls(fake, lambda got: False, timeout_s=3)  # nothing more arrives
    calls = fake.writes()
    made = [(c.method, c.path, c.params, c.body) for c in calls]
    assert sorted(made, key=repr) == sorted(expected(ids, _message_of(calls)), key=repr), made
    assert all(c.authorised for c in calls)
    replies = [m for m in made if "remov" in repr(m[3]).lower()]
    assert len(replies) == 2, made
    # Every write was preceded by a logged resolution through the identity map.
    assert len(identity_log(platform_pipeline).read_bytes().splitlines()) >= len(calls)
