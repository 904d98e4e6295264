"""One small HTTP client for every platform: base URL, bearer token, errors mapped per
platform, and the backoff the connectors use.

The token is sent in a header and never appears in a URL, an exception message or a log
line: errors name the method, the path template's first segment and the status only.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
)

from streams.platforms.errors import (
    PermanentPlatformError,
    PlatformError,
    PostAlreadyDeleted,
    RateLimited,
    TokenExpired,
    TransientPlatformError,
)

log = logging.getLogger("modstream.platforms")

JsonBody = Any


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: JsonBody


# A platform's mapping of an unsuccessful answer to an error, or None for the common rule.
Classifier = Callable[[Response], PlatformError | None]


def retry_after_seconds(headers: Mapping[str, str], now_s: float | None = None) -> float | None:
    """``Retry-After`` (seconds or an HTTP date is not used by these APIs: seconds only), else
    X's ``x-rate-limit-reset`` (epoch seconds)."""
    raw = headers.get("Retry-After") or headers.get("retry-after")
    if raw is not None:
        try:
            return max(0.0, float(raw))
        except ValueError:
            return None
    reset = headers.get("x-rate-limit-reset")
    if reset is not None:
        try:
            return max(0.0, float(reset) - (time.time() if now_s is None else now_s))
        except ValueError:
            return None
    return None


def common_error(response: Response, what: str) -> PlatformError:
    """The rule every platform shares; a platform's classifier handles its own codes first."""
    status = response.status
    if status == 429:
        return RateLimited(f"{what}: 429", retry_after_s=retry_after_seconds(response.headers))
    if status >= 500:
        return TransientPlatformError(
            f"{what}: {status}", retry_after_s=retry_after_seconds(response.headers)
        )
    if status == 401:
        return TokenExpired(f"{what}: 401, the access token is expired or revoked")
    if status in (404, 410):
        return PostAlreadyDeleted(f"{what}: {status}")
    return PermanentPlatformError(f"{what}: {status}")


@dataclass
class ApiClient:
    """Calls one platform's API. Without ``backoff``, one attempt per ``call``: the executor
    owns retries of actions (a retried reply must go through its claim). Connectors give a
    ``backoff`` and their reads are retried on 429 and 5xx."""

    session: aiohttp.ClientSession
    base_url: str
    platform: str
    token: str = field(repr=False)
    classify: Classifier | None = None
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = 20.0
    backoff: Backoff | None = None

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: JsonBody = None,
        form: Mapping[str, str] | None = None,
    ) -> Response:
        if self.backoff is None:
            return await self._once(method, path, params=params, json=json, form=form)
        return await with_backoff(
            lambda: self._once(method, path, params=params, json=json, form=form), self.backoff
        )

    async def _once(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None,
        json: JsonBody,
        form: Mapping[str, str] | None,
    ) -> Response:
        url = self.base_url.rstrip("/") + path
        headers = {"Authorization": f"Bearer {self.token}", **self.extra_headers}
        what = f"{self.platform} {method} {_first_segment(path)}"
        try:
            async with self.session.request(
                method,
                url,
                params=params,
                data=orjson.dumps(json) if json is not None else form,
                headers={**headers, "Content-Type": "application/json"}
                if json is not None
                else headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
            ) as reply:
                raw = await reply.read()
                response = Response(reply.status, dict(reply.headers), _decode(raw))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TransientPlatformError(f"{what}: {type(exc).__name__}") from None
        if response.status < 300:
            return response
        error = self.classify(response) if self.classify is not None else None
        raise error or common_error(response, what)


def _first_segment(path: str) -> str:
    # Paths carry comment and account ids; the first segment names the endpoint family only.
    return "/" + path.strip("/").split("/", 1)[0]


def _decode(raw: bytes) -> JsonBody:
    if not raw:
        return None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _retriable(exc: BaseException) -> bool:
    return getattr(exc, "retriable", False) is True


@dataclass
class Backoff:
    """Exponential backoff with full jitter; the platform's ``Retry-After`` wins when given."""

    attempts: int = 6
    base_s: float = 1.0
    max_s: float = 300.0
    on_retry: Callable[[BaseException, float], None] | None = None
    rng: random.Random = field(default_factory=random.Random)

    def wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        told = getattr(exc, "retry_after_s", None)
        if told is not None:
            # A little jitter on top, so several connectors told the same instant do not
            # all come back in the same millisecond.
            delay = min(float(told), self.max_s) + self.rng.uniform(0, 0.25)
        else:
            cap = min(self.max_s, self.base_s * 2 ** (state.attempt_number - 1))
            delay = self.rng.uniform(0, cap)
        if self.on_retry is not None and exc is not None:
            self.on_retry(exc, delay)
        return delay


async def with_backoff(call: Callable[[], Awaitable[Response]], backoff: Backoff) -> Response:
    """Run ``call`` until it succeeds, fails permanently, or ``backoff.attempts`` run out."""
    retrying = AsyncRetrying(
        stop=stop_after_attempt(backoff.attempts),
        wait=backoff.wait,
        retry=retry_if_exception(_retriable),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable: tenacity reraises the last error")  # pragma: no cover
