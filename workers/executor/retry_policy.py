"""The one retry policy of the executor: exponential backoff with jitter, from tenacity.

Executors that lose Redis together, or meet a platform's rate limit together, must not come
back together: with a fixed doubling every one of them retries in the same instant, and the
thundering herd repeats at every step. Each wait here is half the exponential step plus a
random share of the other half ("equal jitter"): never a hot loop (at least half the step), and
never in lockstep, at the cap too (where a plain cap would line every executor up again).

Every retry is counted in ``modstream_retries_total{op}``; ``op`` is one of
``OPERATIONS``, a small fixed set.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import Counter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_base,
    stop_after_attempt,
    stop_never,
    wait_exponential,
    wait_random_exponential,
)
from tenacity.stop import stop_base
from tenacity.wait import wait_base

PLATFORM_CALL = "platform_call"  # a transient platform error (rate limit, 5xx)
LEDGER = "ledger"  # Redis, the executor's ledger, unreachable
OPERATIONS = (PLATFORM_CALL, LEDGER)


class _Event(Protocol):
    def is_set(self) -> bool: ...


class _stop_when_set(stop_base):
    """tenacity's ``stop_when_event_set`` takes a threading.Event; this takes asyncio's."""

    def __init__(self, event: _Event) -> None:
        self.event = event

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self.event.is_set()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Waits grow from about ``first_s`` and level off at about ``max_s``."""

    first_s: float = 0.2
    max_s: float = 30.0

    def wait(self) -> wait_base:
        half_first, half_max = self.first_s / 2, self.max_s / 2
        # step/2 + uniform(0, step/2), where step doubles from first_s up to max_s.
        return wait_exponential(multiplier=half_first, max=half_max) + wait_random_exponential(
            multiplier=half_first, max=half_max
        )

    def retrying(
        self,
        *,
        operation: str,
        retry: retry_base,
        retries: Counter,
        sleep: Callable[[float], Awaitable[None]],
        attempts: int | None = None,
        until: _Event | None = None,
        after_failure: Callable[[], None] | None = None,
    ) -> AsyncRetrying:
        """Attempts of ``operation`` that raise what ``retry`` accepts are retried, at most
        ``attempts`` in all (None: until they succeed or ``until`` is set). The last error is
        re-raised when retrying stops; ``after_failure`` runs after every failed attempt."""
        if operation not in OPERATIONS:
            raise ValueError(f"operation {operation!r} is not one of {OPERATIONS}")
        stop: stop_base = stop_never if attempts is None else stop_after_attempt(attempts)
        if until is not None:
            stop = stop | _stop_when_set(until)
        counter = retries.labels(operation)

        def failed(_: RetryCallState) -> None:
            if after_failure is not None:
                after_failure()

        def count(_: RetryCallState) -> None:
            counter.inc()

        return AsyncRetrying(
            sleep=sleep,
            stop=stop,
            wait=self.wait(),
            retry=retry,
            after=failed,
            before_sleep=count,
            reraise=True,
        )
