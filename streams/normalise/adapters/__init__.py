"""One adapter per platform, each turning that platform's comment object into a
PlatformComment. Adding a platform means a module here, an entry below and a fixture."""

from __future__ import annotations

from collections.abc import Mapping

from streams.normalise.adapters import facebook, instagram, linkedin, x, youtube
from streams.normalise.adapters.base import Adapter, PlatformComment

ADAPTERS: Mapping[str, Adapter] = {
    "x": x.adapt,
    "facebook": facebook.adapt,
    "instagram": instagram.adapt,
    "linkedin": linkedin.adapt,
    "youtube": youtube.adapt,
}

__all__ = ["ADAPTERS", "Adapter", "PlatformComment"]
