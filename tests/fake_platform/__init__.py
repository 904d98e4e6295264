"""A fake of the five platforms' APIs for tests and the demo: see ``server.FakePlatform``."""

from tests.fake_platform.server import Call, FakePlatform, signed_delivery

__all__ = ["Call", "FakePlatform", "signed_delivery"]
