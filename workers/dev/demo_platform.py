"""``MODSTREAM_DEMO_PLATFORM=fake make demo``: a comment arrives by Meta webhook, goes
through the pipeline, and the executor acts on the (fake) platform; every request the
platform received is printed.

Runs the fake platform from ``tests/fake_platform`` in this process, and the worker, the
executor (dry-run off, pointed at the fake) and ``modstream connect meta`` as processes, on
the local stack in a fresh namespace.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import aiohttp
import redis.asyncio as aioredis

from workers.dev.local_run import LocalPipeline, free_port
from workers.kafka_clients import redis_options
from workers.settings import REPO_ROOT

# Demo-only values: the fake platform signs and verifies with them, nothing real does.
APP_SECRET = "demo-app-secret-not-a-real-one"  # noqa: S105
VERIFY_TOKEN = "demo-verify-token"  # noqa: S105
PAGE_ID = "1000200030004000"
# Inside monitoring hours (Tuesday 10:00 London): replies go out at once, not at 09:00.
AT_S = 1_796_119_200
COMMENTS = (
    (
        "5550301",
        "Deals Today",
        "Earn £500 a day from home!! DM me or visit https://quickcash-now.example/join",
    ),
    ("5550302", "Rhys Morgan", "What a load of sh1t, cancelled AGAIN at Prince Charles Hospital"),
    ("5550303", "Ceri Evans", "Thank you to the staff on ward 7, you were wonderful with my mam"),
)


async def run() -> int:
    from tests.fake_platform import FakePlatform, signed_delivery

    fake = FakePlatform()
    await fake.start()
    webhook_port = free_port()
    pipeline = LocalPipeline(
        namespace=f"demoplatform{int(time.time())}",
        extra_env={
            **fake.env(),
            "MODSTREAM_EXECUTOR_DRY_RUN": "false",
            "MODSTREAM_WEBHOOK_PORT": str(webhook_port),
            "MODSTREAM_META_APP_SECRET": APP_SECRET,
            "MODSTREAM_META_VERIFY_TOKEN": VERIFY_TOKEN,
            "MODSTREAM_META_PAGE_ID": PAGE_ID,
        },
    )
    _say(f"fake platform at {fake.url}; namespace {pipeline.namespace}; logs in {pipeline.rundir}")
    await pipeline.create_topics()
    pipeline.start_worker()
    pipeline.start_executor()
    _start_connector(pipeline)
    try:
        await pipeline.wait_ready()
        changes = [
            {
                "field": "feed",
                "value": {
                    "item": "comment",
                    "verb": "add",
                    "comment_id": f"5001_{n}",
                    "post_id": f"{PAGE_ID}_5001",
                    "parent_id": f"{PAGE_ID}_5001",
                    "from": {"id": account, "name": name},
                    "message": text,
                    "created_time": AT_S + 60 * n,
                },
            }
            for n, (account, name, text) in enumerate(COMMENTS, start=1)
        ]
        delivery = {"object": "page", "entry": [{"id": PAGE_ID, "time": AT_S, "changes": changes}]}
        body, headers = signed_delivery(APP_SECRET, delivery)
        url = f"http://127.0.0.1:{webhook_port}/webhooks/meta"
        async with aiohttp.ClientSession() as http:
            for _ in range(60):  # the connector may still be starting
                try:
                    async with http.post(url, data=body, headers=headers) as reply:
                        status = reply.status
                        _say(f"\nwebhook POST {url} (signed, {len(changes)} comments): {status}")
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.5)
        for n, (_, _, text) in enumerate(COMMENTS, start=1):
            _say(f"  comment 5001_{n}: {text[:70]}")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(fake.writes()) < 2:  # noqa: ASYNC110
            await asyncio.sleep(0.5)
        await asyncio.sleep(3)  # let anything else due arrive
        _say("\nrequests the platform received from the executor:")
        for call in fake.writes():
            _say(f"  {call.method} {call.path} {call.params or ''} {call.body or ''}")
        hidden = any(c.body == {"is_hidden": "true"} for c in fake.writes())
        _say("\nthe advert was hidden" if hidden else "\nnothing was hidden (see the logs)")
        return 0 if hidden else 1
    finally:
        await pipeline.close()
        await fake.stop()
        await _forget_keys(pipeline)


async def _forget_keys(pipeline: LocalPipeline) -> None:
    """The demo's Redis keys (claims, dedup marks, identity map) go with its namespace."""
    client = aioredis.from_url(pipeline.settings.redis_url, **redis_options(pipeline.settings))
    try:
        keys = [k async for k in client.scan_iter(match=f"{pipeline.settings.redis_prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def _start_connector(pipeline: LocalPipeline) -> None:
    log = (pipeline.rundir / "connect-meta.log").open("ab")
    pipeline.processes["connect-meta"] = subprocess.Popen(
        [sys.executable, "-m", "workers.processes.connect", "meta"],
        cwd=REPO_ROOT,
        env={**pipeline.env, "MODSTREAM_WEB_PORT": str(free_port())},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> int:
    return asyncio.run(run())
