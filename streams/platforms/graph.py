"""The Meta Graph API's error body, shared by the Facebook and Instagram modules.

Graph answers ``{"error": {"code": int, "error_subcode": int, ...}}``; the codes, not the HTTP
status, say what happened (https://developers.facebook.com/docs/graph-api/guides/error-handling).
"""

from __future__ import annotations

from streams.platforms.errors import (
    PlatformError,
    PostAlreadyDeleted,
    RateLimited,
    TokenExpired,
    TransientPlatformError,
)
from streams.platforms.http import Response, retry_after_seconds

DEFAULT_BASE_URL = "https://graph.facebook.com/v21.0"
_THROTTLED = frozenset({4, 17, 32, 613, 80001})  # app, user, page and BUC rate limits
_TEMPORARY = frozenset({1, 2})  # unknown / service temporarily unavailable
_EXPIRED = 190  # access token expired or invalidated
_NOT_FOUND = (100, 33)  # object does not exist or is not reachable: it was deleted


def classify(response: Response) -> PlatformError | None:
    error = response.body.get("error") if isinstance(response.body, dict) else None
    if not isinstance(error, dict):
        return None
    code, subcode = error.get("code"), error.get("error_subcode")
    what = f"graph error {code}"
    if code == _EXPIRED:
        return TokenExpired(f"{what}: the page access token is expired or revoked")
    if code in _THROTTLED:
        return RateLimited(what, retry_after_s=retry_after_seconds(response.headers))
    if code in _TEMPORARY:
        return TransientPlatformError(what)
    if (code, subcode) == _NOT_FOUND:
        return PostAlreadyDeleted(what)
    return None
