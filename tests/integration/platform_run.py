"""Shared plumbing for the platform integration tests: the fake platform, a pipeline whose
executor acts through the effectors against it, and connectors run as operators run them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis.asyncio as aioredis

from tests.fake_platform import Call, FakePlatform
from workers.dev.local_run import LocalPipeline, free_port
from workers.settings import REPO_ROOT, Settings

APP_SECRET = "test-app-secret-0123456789"
VERIFY_TOKEN = "test-verify-token"
PAGE_ID = "1000200030004000"
IG_USER_ID = "17841400000000001"
BOARD_X_ID = "2833475219"
CHANNEL_ID = "UCboardchannel000000000"
ORG_URN = "urn:li:organization:5515715"
# Tuesday 1 December 2026, 10:00 in London: inside monitoring hours, so replies are due at
# once (a reply outside them is held until 09:00) whatever time the test runs.
MONITORED_S = 1_796_119_200


def platform_env(fake: FakePlatform, webhook_port: int) -> dict[str, str]:
    return {
        **fake.env(),
        "MODSTREAM_EXECUTOR_DRY_RUN": "false",
        "MODSTREAM_WALL_CLOCK_TIMERS": "false",
        "MODSTREAM_WEBHOOK_PORT": str(webhook_port),
        "MODSTREAM_META_APP_SECRET": APP_SECRET,
        "MODSTREAM_META_VERIFY_TOKEN": VERIFY_TOKEN,
        "MODSTREAM_META_PAGE_ID": PAGE_ID,
        "MODSTREAM_META_IG_USER_ID": IG_USER_ID,
        "MODSTREAM_X_USER_ID": BOARD_X_ID,
        "MODSTREAM_YOUTUBE_CHANNEL_ID": CHANNEL_ID,
        "MODSTREAM_LINKEDIN_ORG_URN": ORG_URN,
        "MODSTREAM_POLL_INTERVAL_MS": "500",
        "MODSTREAM_EXECUTOR_MAX_ATTEMPTS": "3",
    }


def start_connector(
    pipeline: LocalPipeline, name: str, *, log_name: str = ""
) -> subprocess.Popen[bytes]:
    log = (pipeline.rundir / f"{log_name or 'connect-' + name}.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "workers.processes.connect", name],
        cwd=REPO_ROOT,
        env={**pipeline.env, "MODSTREAM_WEB_PORT": str(free_port())},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    pipeline.processes[log_name or f"connect-{name}"] = proc
    return proc


async def wait_for_calls(
    fake: FakePlatform, done: Callable[[list[Call]], bool], *, timeout_s: float = 150.0
) -> list[Call]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if done(fake.writes()):
            return fake.writes()
        await asyncio.sleep(0.5)
    return fake.writes()


async def forget_redis(settings: Settings) -> None:
    """Drop a run's Redis keys: executor claims live for 90 days and connector marks for 30,
    and the shared Redis should not keep every test run's."""
    client = aioredis.from_url(settings.redis_url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{settings.redis_prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def identity_log(pipeline: LocalPipeline) -> Path:
    return Path(pipeline.settings.evidence_dir) / "identity-access.log"
