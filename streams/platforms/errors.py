"""How a platform call went wrong, in the executor's terms.

Every error says whether it is ``retriable`` (as aiokafka's errors do): the executor and the
connectors branch on that flag, never on the class. ``retry_after_s`` carries the platform's
own answer to "when may I try again" (``Retry-After``, ``x-rate-limit-reset``) when it gave one.
"""

from __future__ import annotations


class PlatformError(Exception):
    retriable = False


class TransientPlatformError(PlatformError):
    """The platform failed in a way worth retrying (timeout, 5xx, rate limit)."""

    retriable = True

    def __init__(self, message: str = "", *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RateLimited(TransientPlatformError):
    """429 or the platform's own rate-limit code: wait ``retry_after_s`` when it is given."""


class PermanentPlatformError(PlatformError):
    """The platform refused the action for good (403, bad request); retrying won't help."""


class TokenExpired(PermanentPlatformError):
    """The access token is expired or revoked: renew it (see docs/operations.md) and restart
    the process. Nothing is retried on an expired token."""


class Unsupported(PermanentPlatformError):
    """The platform has no API for this action (LinkedIn cannot hide, Instagram cannot
    block): a person does it by hand."""


class PostAlreadyDeleted(PlatformError):
    """The author removed the post before we acted: the enforcement case is complied."""


class AuthorReplied(PlatformError):
    """The author answered before the action went out: a person takes the case from here."""
