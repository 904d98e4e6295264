"""Each effector against the fake platform: the exact request per action kind, and each
platform's errors mapped to the executor's outcomes."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from schemas.codec import replace
from streams.platforms import graph, linkedin, x, youtube
from streams.platforms.effecting import Effector, Target
from streams.platforms.errors import (
    PostAlreadyDeleted,
    RateLimited,
    TokenExpired,
    TransientPlatformError,
    Unsupported,
)
from streams.platforms.facebook import FacebookEffector
from streams.platforms.http import ApiClient
from streams.platforms.instagram import InstagramEffector
from tests.fake_platform import FakePlatform
from tests.fake_platform.server import TOKEN
from workers.settings import Settings

POST = "urn:li:share:7100000000000000001"
ORG = "urn:li:organization:5515715"


def _effectors(fake: FakePlatform, session: aiohttp.ClientSession) -> dict[str, Effector]:
    graph_api = ApiClient(session, f"{fake.url}/graph/v21.0", "meta", TOKEN, graph.classify)
    return {
        "facebook": FacebookEffector(graph_api, page_id="1000200030004000"),
        "instagram": InstagramEffector(graph_api),
        "youtube": youtube.YoutubeEffector(
            ApiClient(session, f"{fake.url}/youtube/v3", "youtube", TOKEN, youtube.classify)
        ),
        "x": x.XEffector(
            ApiClient(session, f"{fake.url}/x", "x", TOKEN, x.classify), user_id="2833475219"
        ),
        "linkedin": linkedin.LinkedinEffector(
            ApiClient(session, f"{fake.url}/linkedin", "linkedin", TOKEN), org_urn=ORG
        ),
    }


TARGETS = {
    "facebook": Target("facebook", "5550001", "1000200030004000_77", "1000200030004000"),
    "instagram": Target("instagram", "17841400000000001", "17900000000000077", "17890000000000001"),
    "youtube": Target("youtube", "UCabcdefghijklmnopqrstuv", "UgzCOMMENT77", "dQw4w9WgXcQ"),
    "x": Target("x", "1500000000000000001", "1800000000000000077", "1800000000000000001"),
    "linkedin": Target("linkedin", "urn:li:person:AbC123", "7200000000000000077", POST),
}

# (platform, kind) -> (method, path, params, body); None: the platform has no API for it.
EXPECTED: dict[tuple[str, str], tuple[str, str, dict[str, str], object] | None] = {
    ("facebook", "hide_post"): (
        "POST",
        "/graph/v21.0/1000200030004000_77",
        {},
        {"is_hidden": "true"},
    ),
    ("facebook", "delete_post"): ("DELETE", "/graph/v21.0/1000200030004000_77", {}, None),
    ("facebook", "reply_ask_removal"): (
        "POST",
        "/graph/v21.0/1000200030004000_77/comments",
        {},
        {"message": "Please remove it."},
    ),
    ("facebook", "block_account"): (
        "POST",
        "/graph/v21.0/1000200030004000/blocked",
        {},
        {"user": "5550001"},
    ),
    ("instagram", "hide_post"): ("POST", "/graph/v21.0/17900000000000077", {}, {"hide": "true"}),
    ("instagram", "delete_post"): ("DELETE", "/graph/v21.0/17900000000000077", {}, None),
    ("instagram", "reply_ask_removal"): (
        "POST",
        "/graph/v21.0/17900000000000077/replies",
        {},
        {"message": "Please remove it."},
    ),
    ("instagram", "block_account"): None,
    ("youtube", "hide_post"): (
        "POST",
        "/youtube/v3/comments/setModerationStatus",
        {"id": "UgzCOMMENT77", "moderationStatus": "heldForReview"},
        None,
    ),
    ("youtube", "delete_post"): (
        "POST",
        "/youtube/v3/comments/setModerationStatus",
        {"id": "UgzCOMMENT77", "moderationStatus": "rejected"},
        None,
    ),
    ("youtube", "block_account"): (
        "POST",
        "/youtube/v3/comments/setModerationStatus",
        {"id": "UgzCOMMENT77", "moderationStatus": "rejected", "banAuthor": "true"},
        None,
    ),
    ("youtube", "reply_ask_removal"): (
        "POST",
        "/youtube/v3/comments",
        {"part": "snippet"},
        {"snippet": {"parentId": "UgzCOMMENT77", "textOriginal": "Please remove it."}},
    ),
    ("x", "hide_post"): ("PUT", "/x/2/tweets/1800000000000000077/hidden", {}, {"hidden": True}),
    ("x", "block_account"): (
        "POST",
        "/x/2/users/2833475219/blocking",
        {},
        {"target_user_id": "1500000000000000001"},
    ),
    ("x", "reply_ask_removal"): (
        "POST",
        "/x/2/tweets",
        {},
        {"text": "Please remove it.", "reply": {"in_reply_to_tweet_id": "1800000000000000077"}},
    ),
    ("x", "delete_post"): None,
    ("linkedin", "delete_post"): (
        "DELETE",
        f"/linkedin/rest/socialActions/{POST}/comments/7200000000000000077",
        {"actor": ORG},
        None,
    ),
    ("linkedin", "reply_ask_removal"): (
        "POST",
        f"/linkedin/rest/socialActions/urn:li:comment:({POST},7200000000000000077)/comments",
        {},
        {
            "actor": ORG,
            "object": POST,
            "parentComment": f"urn:li:comment:({POST},7200000000000000077)",
            "message": {"text": "Please remove it."},
        },
    ),
    ("linkedin", "hide_post"): None,
    ("linkedin", "block_account"): None,
}


@pytest.mark.parametrize(("platform", "kind"), sorted(EXPECTED))
async def test_each_action_makes_the_documented_request(
    fake: FakePlatform, session: aiohttp.ClientSession, platform: str, kind: str
) -> None:
    effector = _effectors(fake, session)[platform]
    expected = EXPECTED[(platform, kind)]
    if expected is None:
        with pytest.raises(Unsupported):
            await effector.perform(kind, TARGETS[platform], "Please remove it.")
        assert fake.calls == []
        return
    detail = await effector.perform(kind, TARGETS[platform], "Please remove it.")
    assert [(c.method, c.path, c.params, c.body) for c in fake.calls] == [expected]
    assert fake.calls[0].authorised
    # The result detail goes on actions.results: no ids in it.
    assert not any(
        i and i in detail for i in (TARGETS[platform].comment_id, TARGETS[platform].account_id)
    )


@pytest.mark.parametrize("platform", ["facebook", "instagram", "youtube", "x", "linkedin"])
async def test_acting_on_a_deleted_comment_is_already_deleted(
    fake: FakePlatform, session: aiohttp.ClientSession, platform: str
) -> None:
    effector = _effectors(fake, session)[platform]
    fake.deleted.add(TARGETS[platform].comment_id)
    kind = "delete_post" if platform == "linkedin" else "hide_post"
    with pytest.raises(PostAlreadyDeleted):
        await effector.perform(kind, TARGETS[platform], "")


@pytest.mark.parametrize("platform", ["facebook", "youtube", "x", "linkedin"])
async def test_an_expired_token_is_permanent(
    fake: FakePlatform, session: aiohttp.ClientSession, platform: str
) -> None:
    fake.expire_token()
    with pytest.raises(TokenExpired) as caught:
        await _effectors(fake, session)[platform].perform(
            "reply_ask_removal", TARGETS[platform], "Hi"
        )
    assert caught.value.retriable is False
    assert TOKEN not in str(caught.value)


async def test_429_is_retriable_with_the_platforms_retry_after(
    fake: FakePlatform, session: aiohttp.ClientSession
) -> None:
    fake.fail("POST", "/comments$", 429, headers={"Retry-After": "7"})
    with pytest.raises(RateLimited) as caught:
        await _effectors(fake, session)["facebook"].perform(
            "reply_ask_removal", TARGETS["facebook"], "Hi"
        )
    assert caught.value.retriable is True
    assert caught.value.retry_after_s == 7.0


async def test_5xx_and_graph_throttling_are_retriable(
    fake: FakePlatform, session: aiohttp.ClientSession
) -> None:
    effectors = _effectors(fake, session)
    fake.fail("PUT", "/hidden$", 503)
    with pytest.raises(TransientPlatformError):
        await effectors["x"].perform("hide_post", TARGETS["x"], "")
    fake.fail(
        "DELETE", "/graph/", 400, body={"error": {"code": 32, "message": "Page request limit"}}
    )
    with pytest.raises(RateLimited):
        await effectors["facebook"].perform("delete_post", TARGETS["facebook"], "")


async def test_youtube_quota_exhaustion_waits_for_the_next_hour(
    fake: FakePlatform, session: aiohttp.ClientSession
) -> None:
    body = {"error": {"code": 403, "errors": [{"reason": "quotaExceeded"}]}}
    fake.fail("POST", "setModerationStatus", 403, body=body)
    with pytest.raises(RateLimited) as caught:
        await _effectors(fake, session)["youtube"].perform("hide_post", TARGETS["youtube"], "")
    assert caught.value.retry_after_s == youtube.QUOTA_RETRY_S


async def test_x_mute_when_the_tier_allows_no_block(
    fake: FakePlatform, session: aiohttp.ClientSession
) -> None:
    api = ApiClient(session, f"{fake.url}/x", "x", TOKEN, x.classify)
    effector = x.XEffector(api, user_id="2833475219", block_mode="mute")
    assert await effector.perform("block_account", TARGETS["x"], "") == "account muted"
    assert fake.calls[0].path == "/x/2/users/2833475219/muting"


async def test_every_platform_has_an_effector_when_its_credentials_are_set(
    session: aiohttp.ClientSession,
) -> None:
    from schemas.comment import PLATFORMS
    from workers.executor.effectors import build_effectors

    full = Settings.from_env(
        {
            "MODSTREAM_DEV_MODE": "true",
            "MODSTREAM_META_PAGE_TOKEN": "t",
            "MODSTREAM_META_PAGE_ID": "1",
            "MODSTREAM_META_IG_USER_ID": "2",
            "MODSTREAM_YOUTUBE_TOKEN": "t",
            "MODSTREAM_X_TOKEN": "t",
            "MODSTREAM_X_USER_ID": "3",
            "MODSTREAM_LINKEDIN_TOKEN": "t",
            "MODSTREAM_LINKEDIN_ORG_URN": ORG,
        }
    )
    assert sorted(build_effectors(full.platforms, session)) == sorted(PLATFORMS)
    bare = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
    assert build_effectors(bare.platforms, session) == {}


async def test_the_router_sends_nothing_for_kinds_people_handle_and_refuses_unconfigured(
    tmp_path: Path,
) -> None:
    from schemas.action import Action
    from workers.executor.effectors import PEOPLE_RECORD, PlatformEffectors

    settings = Settings.from_env(
        {"MODSTREAM_DEV_MODE": "true", "MODSTREAM_DATA_DIR": str(tmp_path)}
    )
    router = PlatformEffectors(settings)
    action = Action(
        action_id="a" * 32,
        decision_id="d",
        kind="queue_human_review",
        platform="facebook",
        target_author="k" * 32,
        target_comment="facebook:1_2",
        reasons=("abusive",),
        evidence=(),
        behaviour=(),
        linked_evidence=(),
        policy_version="v1",
        source=(),
        due_at_ms=0,
        message="look at this",
    )
    try:
        assert "no platform call" in await router.perform(action)
        assert (tmp_path / PEOPLE_RECORD).exists()
        with pytest.raises(Unsupported, match="no credentials for facebook"):
            await router.perform(replace(action, kind="hide_post"))
    finally:
        await router.close()


async def test_a_youtube_reply_is_answered_in_its_thread(
    fake: FakePlatform, session: aiohttp.ClientSession
) -> None:
    reply = replace(TARGETS["youtube"], comment_id="UgzTOP.REPLY1", thread_id="UgzTOP")
    await _effectors(fake, session)["youtube"].perform("reply_ask_removal", reply, "Hi")
    assert fake.calls[0].body == {"snippet": {"parentId": "UgzTOP", "textOriginal": "Hi"}}
