"""One module per platform: everything the project knows about it.

Each of ``facebook``, ``instagram``, ``youtube``, ``x`` and ``linkedin`` holds the payload
reader (the platform's comment object -> ``PlatformComment``), the effector (actions -> the
platform's documented requests) and, for the polled platforms, the poller that fetches new
comments. ``meta`` holds the webhook shared by Facebook and Instagram. Fixtures are in
``tests/data/platforms/``. Adding a platform means a module here, a line in each registry
below and its tests.

This package is in ``streams/`` rather than ``workers/`` because ingestion (a stream stage)
must read payloads and ``streams`` never imports ``workers``; the platform modules take their
configuration and HTTP client as arguments, and the processes that run them (``modstream
connect``, the executor) live in ``workers/``.
"""

from __future__ import annotations

from collections.abc import Mapping

from streams.platforms import facebook, instagram, linkedin, x, youtube
from streams.platforms.base import Reader

READERS: Mapping[str, Reader] = {
    "x": x.read,
    "facebook": facebook.read,
    "instagram": instagram.read,
    "linkedin": linkedin.read,
    "youtube": youtube.read,
}

__all__ = ["READERS", "Reader"]
