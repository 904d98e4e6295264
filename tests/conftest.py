"""Fixtures shared by the unit and integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fake_platform import FakePlatform


@pytest.fixture
async def fake() -> AsyncIterator[FakePlatform]:
    """The fake social-media platform (its Graph, YouTube, X and LinkedIn APIs) on a free
    port; a test module that needs other limits overrides this fixture."""
    platform = FakePlatform()
    await platform.start()
    yield platform
    await platform.stop()
