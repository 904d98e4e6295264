"""The pollers against the fake platform: cursors, pagination, quota and rate limits, and the
backoff that honours Retry-After."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from streams.normalise.envelope import JsonObject
from streams.platforms import READERS, linkedin, x, youtube
from streams.platforms.errors import TransientPlatformError
from streams.platforms.http import ApiClient, Backoff, Response
from tests.fake_platform import FakePlatform
from tests.fake_platform.server import TOKEN
from tests.fake_platform.shapes import li_comment, x_tweet, yt_thread


def _fetch(api: ApiClient) -> Any:
    async def fetch(path: str, params: dict[str, str]) -> Response:
        return await api.call("GET", path, params=params)

    return fetch


class CountingQuota:
    def __init__(self, daily: int) -> None:
        self.used = 0
        self.daily = daily

    async def spend(self, units: int) -> int:
        self.used += units
        return self.daily - self.used

    async def left(self) -> int:
        return self.daily - self.used


def _native_ids(envelopes: list[Any]) -> list[str]:
    return [READERS[e.platform](JsonObject(e.payload, "payload")).native_id for e in envelopes]


async def test_youtube_pages_until_it_meets_the_cursor_and_counts_quota(
    fake: FakePlatform, session: aiohttp.ClientSession
) -> None:
    fake.yt_threads = [yt_thread(f"Ugz{n}", f"2026-12-01T10:0{n}:00Z") for n in (5, 4, 3, 2, 1)]
    api = ApiClient(session, f"{fake.url}/youtube/v3", "youtube", TOKEN, youtube.classify)
    quota = CountingQuota(100)
    poller = youtube.YoutubePoller(_fetch(api), "UCboard", quota, reserve=10)
    first = await poller.poll({})
    assert _native_ids(first.envelopes) == ["Ugz5", "Ugz4", "Ugz3", "Ugz2", "Ugz1"]
    assert first.cursor == {"since": "2026-12-01T10:05:00Z"}
    assert quota.used == 3  # three pages of two, one unit each
    assert fake.calls[0].params == {
        "part": "snippet,replies",
        "allThreadsRelatedToChannelId": "UCboard",
        "order": "time",
        "maxResults": "100",
        "textFormat": "plainText",
    }
    assert fake.calls[1].params["pageToken"] == "2"

    fake.yt_threads.insert(0, yt_thread("Ugz6", "2026-12-01T10:06:00Z"))
    second = await poller.poll(first.cursor)
    # Stops at the first page with old ones; the cursor's own comment comes again (a comment
    # in the same second may be new) and the connector's dedup drops it.
    assert _native_ids(second.envelopes) == ["Ugz6", "Ugz5"]
    assert quota.used == 5  # two pages: the second holds the first comment older than that


async def test_youtube_stops_at_the_reserve_and_waits(
    fake: FakePlatform, session: aiohttp.ClientSession
) -> None:
    fake.yt_threads = [yt_thread("Ugz1", "2026-12-01T10:01:00Z")]
    api = ApiClient(session, f"{fake.url}/youtube/v3", "youtube", TOKEN, youtube.classify)
    quota = CountingQuota(10)
    quota.used = 10
    poll = await youtube.YoutubePoller(_fetch(api), "UC", quota, reserve=0).poll({})
    assert poll.envelopes == [] and poll.wait_s == youtube.QUOTA_RETRY_S
    assert fake.calls == []


async def test_x_uses_since_id_and_obeys_the_rate_limit_headers(
    fake: FakePlatform, session: aiohttp.ClientSession
) -> None:
    fake.x_users = {"42": {"id": "42", "name": "Dai", "username": "dai_b"}}
    fake.x_mentions = [
        x_tweet(str(n), "42")
        for n in (1800000000000000005, 1800000000000000004, 1800000000000000003)
    ]
    api = ApiClient(session, f"{fake.url}/x", "x", TOKEN, x.classify)
    poller = x.XPoller(_fetch(api), "2833475219", clock=lambda: 0.0)
    first = await poller.poll({})
    assert _native_ids(first.envelopes) == [
        "1800000000000000005",
        "1800000000000000004",
        "1800000000000000003",
    ]
    assert first.cursor == {"since_id": "1800000000000000005"}
    assert fake.calls[0].path == "/x/2/users/2833475219/mentions"
    assert fake.calls[1].params["pagination_token"] == "2"
    author = READERS["x"](JsonObject(first.envelopes[0].payload, "payload"))
    assert author.author_handle == "dai_b"

    fake.x_mentions.insert(0, x_tweet("1800000000000000006", "42"))
    fake.x_rate_remaining = 1  # the next answer says 0 left
    second = await poller.poll(first.cursor)
    assert _native_ids(second.envelopes) == ["1800000000000000006"]
    assert fake.calls[-1].params["since_id"] == "1800000000000000005"
    assert second.wait_s is not None and second.wait_s > 800  # until x-rate-limit-reset
    assert second.cursor == {"since_id": "1800000000000000006"}


async def test_x_keeps_its_cursor_when_the_window_runs_out_mid_pagination(
    fake: FakePlatform, session: aiohttp.ClientSession
) -> None:
    """Stopping with pages left between here and the cursor must not skip them."""
    fake.x_mentions = [x_tweet(str(1800000000000000000 + n), "42") for n in (9, 8, 7, 6, 5)]
    fake.x_rate_remaining = 1
    api = ApiClient(session, f"{fake.url}/x", "x", TOKEN, x.classify)
    poller = x.XPoller(_fetch(api), "2833475219", clock=lambda: 0.0)
    stopped = await poller.poll({"since_id": "1800000000000000001"})
    assert len(stopped.envelopes) == 2 and stopped.wait_s is not None
    assert stopped.cursor == {"since_id": "1800000000000000001"}
    fake.x_rate_remaining = 100
    resumed = await poller.poll(stopped.cursor)
    assert len(resumed.envelopes) == 5
    assert resumed.cursor == {"since_id": "1800000000000000009"}


async def test_linkedin_reads_comments_on_the_organisations_posts(
    fake: FakePlatform, session: aiohttp.ClientSession
) -> None:
    post = "urn:li:share:7100000000000000001"
    fake.li_posts = {post: [li_comment(post, "7200000000000000001", 1_796_119_200_000)]}
    api = ApiClient(session, f"{fake.url}/linkedin", "linkedin", TOKEN)
    poller = linkedin.LinkedinPoller(_fetch(api), "urn:li:organization:5515715")
    first = await poller.poll({})
    assert _native_ids(first.envelopes) == ["7200000000000000001"]
    assert first.cursor == {"since_ms": 1_796_119_200_000}
    assert fake.calls[0].params == {
        "author": "urn:li:organization:5515715",
        "q": "author",
        "count": "20",
    }
    assert fake.calls[1].path == f"/linkedin/rest/socialActions/{post}/comments"
    assert fake.calls[1].params == {"start": "0", "count": "100"}
    again = await poller.poll(first.cursor)
    assert _native_ids(again.envelopes) == ["7200000000000000001"]  # the cursor's own, deduped
    assert again.cursor == first.cursor


async def test_backoff_honours_retry_after_then_succeeds(
    fake: FakePlatform, session: aiohttp.ClientSession
) -> None:
    waits: list[float] = []
    fake.fail("GET", "commentThreads", 429, headers={"Retry-After": "0.2"})
    fake.fail("GET", "commentThreads", 503)
    backoff = Backoff(base_s=0.01, on_retry=lambda exc, delay: waits.append(delay))
    api = ApiClient(
        session, f"{fake.url}/youtube/v3", "youtube", TOKEN, youtube.classify, backoff=backoff
    )
    response = await api.call("GET", "/commentThreads", params={})
    assert response.status == 200
    assert len(fake.calls) == 3
    assert 0.2 <= waits[0] <= 0.45  # the platform's Retry-After, plus a little jitter
    assert waits[1] <= 0.02  # full jitter under the second exponential step (2 x base)


async def test_backoff_gives_up_after_its_attempts(
    fake: FakePlatform, session: aiohttp.ClientSession
) -> None:
    fake.fail("GET", "mentions", 500, times=10)
    api = ApiClient(
        session, f"{fake.url}/x", "x", TOKEN, x.classify, backoff=Backoff(attempts=3, base_s=0.01)
    )
    with pytest.raises(TransientPlatformError):
        await api.call("GET", "/2/users/1/mentions")
    assert len(fake.calls) == 3
