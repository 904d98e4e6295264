"""The console's operations port: probes and metrics without a session, and nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from workers.console import auth
from workers.console.app import AccessLog, Console, build_app
from workers.console.metrics import ConsoleMetrics
from workers.console.ops_app import HEALTH_PATH, READY_PATH, build_ops_app

from .cases import NOW, build
from .test_access import USERS, Sink


class Feed:
    """Stands in for the topic feed's caught-up flag."""

    def __init__(self) -> None:
        self.caught_up = False


@pytest.fixture
async def ports(tmp_path: Path) -> AsyncIterator[tuple[str, str, Feed]]:
    feed = Feed()
    console = Console(
        projection=build().projection,
        users=USERS,
        sessions=auth.Sessions(3_600_000, lambda: NOW),
        reviews=Sink(),
        evidence=None,
        access_log=AccessLog(tmp_path / "access.log"),
        metrics=ConsoleMetrics.create(),
        clock=lambda: NOW,
        caught_up=lambda: feed.caught_up,
    )
    ops, site = TestServer(build_ops_app(console)), TestServer(build_app(console))
    await ops.start_server()
    await site.start_server()
    try:
        yield str(ops.make_url("")).rstrip("/"), str(site.make_url("")).rstrip("/"), feed
    finally:
        await ops.close()
        await site.close()


async def _get(url: str) -> tuple[int, str]:
    async with ClientSession() as http, http.get(url, allow_redirects=False) as response:
        return response.status, await response.text()


async def test_health_is_ok_and_ready_waits_for_the_topics_history(
    ports: tuple[str, str, Feed],
) -> None:
    ops, _, feed = ports
    assert await _get(ops + HEALTH_PATH) == (200, "ok")
    status, _ = await _get(ops + READY_PATH)
    assert status == 503  # the queue would be incomplete: no traffic yet
    feed.caught_up = True
    assert await _get(ops + READY_PATH) == (200, "ok")


async def test_metrics_need_no_session_and_name_no_case(ports: tuple[str, str, Feed]) -> None:
    ops, _, _ = ports
    status, body = await _get(ops + "/metrics")
    assert status == 200
    assert "modstream_console_queue_cases" in body
    assert "facebook:" not in body and "author-" not in body


async def test_the_probes_are_not_on_the_peoples_port(ports: tuple[str, str, Feed]) -> None:
    _, site, _ = ports
    for path in (HEALTH_PATH, READY_PATH, "/metrics"):
        status, _ = await _get(site + path)
        assert status == 401, path  # refused without a session, like any route there
