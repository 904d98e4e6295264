"""Integration tests run against the real local Kafka broker and Redis (deploy/local/stack up).

They fail, rather than skip, when the stack is down: a skipped integration suite in CI would
hide exactly what it exists to catch.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest

from tests.fake_platform import FakePlatform
from tests.integration.platform_run import forget_redis, platform_env
from workers.dev.local_run import LocalPipeline, free_port, release_unclosed
from workers.settings import Settings

# Event times are the inputs' own: a test's timers fire when its comments say, not by the clock.
PLAIN_ENV = {"MODSTREAM_WALL_CLOCK_TIMERS": "false"}


def _reachable(hostport: str) -> bool:
    host, port = hostport.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=2):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session", autouse=True)
def local_stack() -> Iterator[Settings]:
    # The environment picks the stack (MODSTREAM_KAFKA_BOOTSTRAP, MODSTREAM_REDIS_URL), so a
    # second stack on other ports can run the suite beside a developer's own.
    settings = Settings.from_env({**os.environ, "MODSTREAM_DEV_MODE": "true"})
    if not _reachable(settings.kafka_bootstrap):
        pytest.fail(f"Kafka not reachable at {settings.kafka_bootstrap}: run deploy/local/stack up")
    yield settings
    # Pipelines whose fixtures only stop() them: their namespaces' topics go at the end of
    # the session, so a day of test runs does not leave thousands of partitions behind.
    asyncio.run(release_unclosed())


@asynccontextmanager
async def _namespace(run: LocalPipeline, *, topics: bool = True) -> AsyncIterator[LocalPipeline]:
    """A run's namespace for one test: its topics made first (unless ``topics`` is false),
    and afterwards its processes stopped, its Redis keys forgotten (executor claims live for
    90 days and connector marks for 30: the shared Redis should not keep every test run's)
    and its topics deleted."""
    if topics:
        await run.create_topics()
    try:
        yield run
    finally:
        run.stop()  # before the keys go, so no executor writes them back
        await forget_redis(run.settings)
        await run.close()


@pytest.fixture
async def pipeline() -> AsyncIterator[LocalPipeline]:
    async with _namespace(LocalPipeline(extra_env=PLAIN_ENV)) as run:
        yield run


@pytest.fixture
async def fresh() -> AsyncIterator[LocalPipeline]:
    """A namespace whose topics do not exist yet: a worker started in it creates them (dev
    mode), or refuses to start without them."""
    async with _namespace(LocalPipeline(extra_env=PLAIN_ENV), topics=False) as run:
        yield run


@pytest.fixture
async def platform_pipeline(fake: FakePlatform) -> AsyncIterator[LocalPipeline]:
    """A pipeline whose connectors read from ``fake`` and whose executor acts on it through
    the effectors (not dry-run)."""
    async with _namespace(LocalPipeline(extra_env=platform_env(fake, free_port()))) as run:
        yield run
