"""The executor: performs actions from the ``actions`` topic, at most once per action id.

Ordering of the safeguards, and why:
1. Claim the action id in Redis (SET NX) *before* performing it. A crash between the claim and
   the platform call leaves the action claimed-but-unperformed: it is reported as ``failed``
   for a human rather than risk a second reply or block (policy actions are visible to the
   public; doing one twice is worse than asking a person to look).
2. Perform through the adapter, retrying transient failures with jittered exponential backoff
   (``workers.executor.retry_policy``, one policy for every retry here).
3. Record the outcome in Redis and on ``actions.results``, then commit the Kafka offset.
A redelivered message (broker retry, restart before commit) finds the claim and is skipped.

The claim is a small state machine, ``claimed -> performed -> reported``, stamped with the
owner: a random token per executor process, alive while its heartbeat key exists. Whoever
meets an action already in Redis (a redelivery, the due-loop, another executor after a
rebalance) acts on what it finds:

- ``reported``: a duplicate. Counted (``outcome="duplicate"``), nothing else is sent.
- ``claimed`` or ``performed`` by a live owner: that owner is working on it; wait for it.
- ``performed`` by a gone owner: the platform call happened but the result may not have been
  sent. Take it over (compare-and-set, so one taker wins) and send the result recorded.
- ``claimed`` by a gone owner: nobody knows whether the call happened. Report ``failed``
  ("interrupted") and dead-letter it for a person; never call the platform again.
- ``claimed`` by this process but not in flight here: the claim reached Redis but its reply
  was lost to a connection failure, so the call never started. Perform it.

Actions due later (a reply held until monitoring hours start) are parked in a Redis sorted set
and the Kafka offset is committed once they are parked; a loop performs them when due, through
the same claim. ``preserve_evidence`` is never parked: its content copy must not sit in Redis,
and copying evidence early harms no one.

Redis unreachable: nothing can be claimed, so nothing is performed. The executor stops taking
messages (partitions paused, offsets rewound to the first unfinished message), logs one line,
sets ``modstream_executor_paused`` and retries with backoff; when Redis answers it resumes.
Redis must persist its data (AOF): a Redis that restarts empty forgets the claims.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import orjson
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError
from redis.asyncio.retry import Retry
from redis.backoff import EqualJitterBackoff
from redis.exceptions import RedisError
from tenacity import retry_if_exception, retry_if_exception_type

from schemas.action import ACTION_KINDS, Action, ActionResult
from schemas.codec import loads, replace
from schemas.codec import replace as replace_record
from schemas.deadletter import DeadLetter
from streams import topics as specs
from workers.cli_conventions import command, run_command
from workers.evidence_store import EvidenceError, EvidenceStore
from workers.executor.platform_adapters import (
    AuthorReplied,
    PlatformAdapter,
    PostAlreadyDeleted,
    adapter_from_settings,
)
from workers.executor.retry_policy import LEDGER, PLATFORM_CALL, RetryPolicy
from workers.kafka_clients import kafka_options, redis_options
from workers.metrics import Metrics
from workers.settings import Settings

log = logging.getLogger("modstream.executor")

CLAIM_TTL_S = 90 * 24 * 3600  # longer than any topic retention: a replayed action stays deduped
# An owner whose heartbeat is this old is gone. Long enough to ride out a slow event loop;
# it is also how long a restarted executor waits before reporting a dead one's claims.
OWNER_TTL_MS = 10_000
HEARTBEAT_S = 2.0
# Platform timestamps and our clock disagree by a little: an action due within this is due now.
DUE_GRACE_MS = 1_000
DUE_POLL_S = 0.5
DUE_BATCH = 100
PURGE_INTERVAL_S = 3600.0
ADAPTER_TIMEOUT_S = 30.0
BACKOFF_MAX_S = 30.0
DETAIL_MAX = 200
_ACTION_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

T = TypeVar("T")


class LedgerUnavailable(Exception):
    """Redis did not answer. Nothing is performed without a claim, so the executor pauses
    and retries with backoff; check Redis at MODSTREAM_REDIS_URL."""

    retriable = True


class ExecutorStopping(Exception):
    """Raised out of a wait when the executor is asked to stop, so the offset of the message
    being handled is not committed and it is handled again after the restart."""


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True, slots=True)
class ActionState:
    """What Redis holds per action id."""

    state: str  # "claimed" | "performed" | "reported"
    owner: str  # executor process token
    outcome: str = ""  # one of RESULT_OUTCOMES, once performed
    detail: str = ""
    at_ms: int = 0  # when performed: the result carries it, so a re-sent result is identical

    def encode(self) -> bytes:
        return orjson.dumps(self, option=orjson.OPT_SORT_KEYS)

    @classmethod
    def decode(cls, raw: bytes) -> ActionState:
        try:
            d = orjson.loads(raw)
            return cls(
                state=str(d["state"]),
                owner=str(d["owner"]),
                outcome=str(d.get("outcome", "")),
                detail=str(d.get("detail", "")),
                at_ms=int(d.get("at_ms", 0)),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            # A value this code cannot read counts as finished: never perform on a guess.
            return cls(state="reported", owner="")


class Ledger(Protocol):
    """The executor's shared state: claims, owners and parked actions."""

    async def get(self, action_id: str) -> bytes | None: ...
    async def claim(self, action_id: str, value: bytes) -> bool: ...
    async def swap(self, action_id: str, expected: bytes, new: bytes) -> bool: ...
    async def owner_alive(self, owner: str) -> bool: ...
    async def heartbeat(self, owner: str) -> None: ...
    async def retire(self, owner: str) -> None: ...
    async def hold(self, action_id: str, due_ms: int, entry: bytes) -> bool: ...
    async def due(self, now_ms: int, limit: int) -> list[tuple[str, bytes | None]]: ...
    async def release(self, action_id: str) -> None: ...
    async def held_count(self) -> int: ...
    async def close(self) -> None: ...


# Sets the new value if the key holds the expected one, or already holds the new one: a swap
# whose reply was lost and is retried still reports success.
_SWAP = """
local current = redis.call('GET', KEYS[1])
if current == ARGV[1] or current == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
  return 1
end
return 0
"""


class RedisLedger:
    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        self._redis = aioredis.from_url(
            settings.redis_url,
            socket_timeout=5,
            socket_connect_timeout=2,
            # One quick reconnect covers a pooled connection that Redis closed (jittered, like
            # every retry here); anything longer is an outage, handled by the executor's own
            # pause and workers.executor.retry_policy.
            retry=Retry(EqualJitterBackoff(cap=0.5, base=0.05), 1),
            **redis_options(settings),
        )
        self._prefix = settings.redis_prefix
        self._scheduled = f"{self._prefix}executor:scheduled"
        self._held = f"{self._prefix}executor:scheduled:actions"
        self._swap_script = self._redis.register_script(_SWAP)
        self._metrics = metrics

    def _action_key(self, action_id: str) -> str:
        return f"{self._prefix}action:{action_id}"

    def _owner_key(self, owner: str) -> str:
        return f"{self._prefix}executor:owner:{owner}"

    async def _call(self, op: str, call: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            return await call
        except (RedisError, OSError) as exc:
            self._metrics.redis_errors.labels(op).inc()
            raise LedgerUnavailable(f"Redis {op} failed: {type(exc).__name__}") from exc
        finally:
            self._metrics.redis_seconds.labels(op).observe(time.perf_counter() - started)

    async def get(self, action_id: str) -> bytes | None:
        value = await self._call("get", self._redis.get(self._action_key(action_id)))
        return _as_bytes(value)

    async def claim(self, action_id: str, value: bytes) -> bool:
        key = self._action_key(action_id)
        return bool(await self._call("claim", self._redis.set(key, value, nx=True, ex=CLAIM_TTL_S)))

    async def swap(self, action_id: str, expected: bytes, new: bytes) -> bool:
        keys = [self._action_key(action_id)]
        done = await self._call("swap", self._swap_script(keys, [expected, new, CLAIM_TTL_S]))
        return bool(done)

    async def owner_alive(self, owner: str) -> bool:
        return bool(await self._call("owner", self._redis.exists(self._owner_key(owner))))

    async def heartbeat(self, owner: str) -> None:
        await self._call(
            "heartbeat", self._redis.set(self._owner_key(owner), b"1", px=OWNER_TTL_MS)
        )

    async def retire(self, owner: str) -> None:
        await self._call("heartbeat", self._redis.delete(self._owner_key(owner)))

    async def hold(self, action_id: str, due_ms: int, entry: bytes) -> bool:
        async with self._redis.pipeline(transaction=True) as tx:
            tx.hsetnx(self._held, action_id, entry)
            tx.zadd(self._scheduled, {action_id: due_ms}, nx=True)
            _, added = await self._call("hold", tx.execute())
        return bool(added)

    async def due(self, now_ms: int, limit: int) -> list[tuple[str, bytes | None]]:
        ids = await self._call(
            "due", self._redis.zrangebyscore(self._scheduled, "-inf", now_ms, start=0, num=limit)
        )
        if not ids:
            return []
        names = [i.decode() if isinstance(i, bytes) else str(i) for i in ids]
        entries = await self._call("due", self._redis.hmget(self._held, names))
        return [(name, _as_bytes(entry)) for name, entry in zip(names, entries, strict=True)]

    async def release(self, action_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as tx:
            tx.zrem(self._scheduled, action_id)
            tx.hdel(self._held, action_id)
            await self._call("release", tx.execute())

    async def held_count(self) -> int:
        return int(await self._call("due", self._redis.zcard(self._scheduled)))

    async def close(self) -> None:
        await self._redis.aclose()


def _as_bytes(value: bytes | str | None) -> bytes | None:
    return value.encode() if isinstance(value, str) else value


class Outbox(Protocol):
    """Where results and dead letters go (Kafka in the service, a list in tests)."""

    async def result(self, result: ActionResult) -> None: ...
    async def dead_letter(self, letter: DeadLetter, key: bytes | None) -> None: ...


class KafkaOutbox:
    def __init__(self, producer: AIOKafkaProducer, settings: Settings) -> None:
        self._producer = producer
        self._results = settings.topic(specs.ACTION_RESULTS.name)
        self._dead = settings.topic(specs.DEADLETTER.name)

    async def result(self, result: ActionResult) -> None:
        await self._producer.send_and_wait(
            self._results, key=result.target_author.encode(), value=result.to_bytes()
        )

    async def dead_letter(self, letter: DeadLetter, key: bytes | None) -> None:
        await self._producer.send_and_wait(self._dead, key=key, value=letter.to_bytes())


class RedisOutage:
    """One log line when Redis goes away and one when it is back, however many calls fail."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._since: float | None = None

    @property
    def down(self) -> bool:
        return self._since is not None

    def begin(self) -> None:
        if self._since is None:
            self._since = time.monotonic()
            self._metrics.executor_paused.set(1)
            log.warning("Redis unreachable: executor paused, retrying with backoff")

    def end(self) -> None:
        if self._since is not None:
            log.info("Redis reachable again after %.1fs: executor resumed", self._since_s())
            self._since = None
            self._metrics.executor_paused.set(0)

    def _since_s(self) -> float:
        return time.monotonic() - (self._since or time.monotonic())


class Executor:
    """Decides and performs; knows nothing of Kafka consumers (see ``ExecutorService``)."""

    def __init__(
        self,
        *,
        ledger: Ledger,
        adapter: PlatformAdapter,
        outbox: Outbox,
        metrics: Metrics,
        evidence: EvidenceStore | None = None,
        max_attempts: int = 5,
        backoff_s: float = 0.2,
        backoff_max_s: float = BACKOFF_MAX_S,
        adapter_timeout_s: float = ADAPTER_TIMEOUT_S,
        wait_poll_s: float = 0.25,
        clock: Callable[[], int] = wall_clock_ms,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        owner: str | None = None,
    ) -> None:
        self.ledger = ledger
        self.adapter = adapter
        self.outbox = outbox
        self.metrics = metrics
        self.evidence = evidence
        self.max_attempts = max(1, max_attempts)
        self.retry_policy = RetryPolicy(first_s=backoff_s, max_s=backoff_max_s)
        self.adapter_timeout_s = adapter_timeout_s
        self.wait_poll_s = wait_poll_s
        self.owner = owner or uuid.uuid4().hex
        self.outage = RedisOutage(metrics)
        self.stopping = asyncio.Event()
        self._clock = clock
        self._sleep = sleep
        # Action ids whose platform call may have started in this process: a claim of ours
        # that is not in here was never acted on.
        self._in_flight: set[str] = set()
        self._handling: set[str] = set()

    # --- entry points ----------------------------------------------------------------------

    async def handle(self, raw: bytes, source: str, key: bytes | None = None) -> None:
        """One message from ``actions``. Raises ``LedgerUnavailable`` before anything is
        performed if Redis is down: the caller must hand the same message in again."""
        try:
            action = Action.from_bytes(raw)
            problem = _invalid(action)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            problem = f"undecodable action ({type(exc).__name__})"
        if problem:
            await self._dead_letter(raw, source, key, "invalid_record", problem)
            return
        if action.kind != "preserve_evidence" and action.due_at_ms > self._clock() + DUE_GRACE_MS:
            await self._hold(action, raw, source)
            return
        await self.execute(action, raw, source)

    async def run_due(self) -> int:
        """Perform the parked actions that are due; returns how many it looked at."""
        entries = await self.ledger.due(self._clock(), DUE_BATCH)
        for action_id, entry in entries:
            if self.stopping.is_set():
                break
            try:
                held = loads(entry or b"")
                raw, source = str(held["action"]).encode(), str(held["source"])
                action = Action.from_bytes(raw)
            except (ValueError, TypeError, KeyError, AttributeError):
                log.error("a parked action could not be read back; dropped from the schedule")
                await self.ledger.release(action_id)
                continue
            await self.execute(action, raw, source)
            await self.ledger.release(action_id)
        return len(entries)

    async def execute(self, action: Action, raw: bytes, source: str) -> None:
        """Perform ``action`` unless some executor already has; always leave it reported."""
        action_id = action.action_id
        # One coroutine per action id in this process (the consumer and the due-loop can meet
        # the same action): takeovers below tell executors apart by owner, not by coroutine.
        while action_id in self._handling:
            await self._wait(self.wait_poll_s)
        self._handling.add(action_id)
        try:
            await self._execute(action, raw, source)
        finally:
            self._handling.discard(action_id)

    async def _execute(self, action: Action, raw: bytes, source: str) -> None:
        action_id = action.action_id
        while True:
            current = await self.ledger.get(action_id)
            if current is None:
                claim = ActionState("claimed", self.owner)
                if await self.ledger.claim(action_id, claim.encode()):
                    await self._perform_and_report(action, raw, source, claim)
                    return
                continue  # another executor claimed it first: look at what it wrote
            state = ActionState.decode(current)
            if state.state == "reported":
                self.metrics.actions.labels(action.kind, "duplicate").inc()
                log.info("skipped duplicate %s action %s", action.kind, _short(action_id))
                return
            if await self._owner_working(state, action_id):
                await self._wait(self.wait_poll_s)
                continue
            taken = replace(state, owner=self.owner)
            if not await self.ledger.swap(action_id, current, taken.encode()):
                continue  # someone else took it over first
            if state.state == "performed":
                log.warning("sending the result a stopped executor left unsent")
                await self._report(action, raw, source, taken)
            elif state.owner == self.owner:
                await self._perform_and_report(action, raw, source, taken)
            else:
                log.warning("reporting an action interrupted by a stopped executor as failed")
                interrupted = replace(
                    taken,
                    state="performed",
                    outcome="failed",
                    detail=(
                        "interrupted: an executor stopped after claiming this action; whether "
                        "the platform call happened is unknown, check before redoing it"
                    ),
                    at_ms=self._clock(),
                )
                await self._settle(action_id, taken, interrupted)
                await self._report(action, raw, source, interrupted)
            return

    # --- background loops (the service runs them) ------------------------------------------

    async def start(self) -> None:
        """Announce this owner before any claim: a claim with no live owner is taken over."""
        await self.until_ledger(lambda: self.ledger.heartbeat(self.owner))

    async def heartbeat_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                await self.ledger.heartbeat(self.owner)
            except LedgerUnavailable:
                self.outage.begin()
            else:
                self.outage.end()
            await self._pause(HEARTBEAT_S)

    async def due_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                looked_at = await self.until_ledger(self._due_round, sleep=self._pause)
            except ExecutorStopping:
                return
            if looked_at < DUE_BATCH:
                await self._pause(DUE_POLL_S)

    async def _due_round(self) -> int:
        looked_at = await self.run_due()
        self.metrics.executor_held.set(await self.ledger.held_count())
        return looked_at

    async def purge_loop(self, interval_s: float = PURGE_INTERVAL_S) -> None:
        if self.evidence is None:
            return
        store = self.evidence
        while not self.stopping.is_set():
            try:
                purged = await asyncio.to_thread(store.purge, self._clock())
            except (EvidenceError, OSError) as exc:
                log.warning("evidence purge failed (%s); retrying next round", type(exc).__name__)
            else:
                if purged:
                    self.metrics.evidence_purged.inc(len(purged))
                    log.info("purged %d evidence records past retention", len(purged))
            await self._pause(interval_s)

    # --- internals ------------------------------------------------------------------------

    async def _hold(self, action: Action, raw: bytes, source: str) -> None:
        if await self.ledger.get(action.action_id) is not None:
            self.metrics.actions.labels(action.kind, "duplicate").inc()
            return
        entry = orjson.dumps({"source": source, "action": raw.decode()})
        if await self.ledger.hold(action.action_id, action.due_at_ms, entry):
            log.info("holding %s action %s until due", action.kind, _short(action.action_id))
        else:
            self.metrics.actions.labels(action.kind, "duplicate").inc()

    async def _owner_working(self, state: ActionState, action_id: str) -> bool:
        if state.owner == self.owner:
            return action_id in self._in_flight
        return await self.ledger.owner_alive(state.owner)

    async def _perform_and_report(
        self, action: Action, raw: bytes, source: str, claim: ActionState
    ) -> None:
        self._in_flight.add(action.action_id)
        outcome, detail = await self._perform(action)
        performed = replace(
            claim, state="performed", outcome=outcome, detail=detail, at_ms=self._clock()
        )
        if not await self._settle(action.action_id, claim, performed):
            # Our heartbeat lapsed and another executor reported this as interrupted. The
            # real outcome still goes out: on the same partition it follows, and corrects,
            # the interrupted one.
            log.warning("claim taken over while performing; reporting the real outcome too")
            await self._send(action, raw, source, performed)
            self._in_flight.discard(action.action_id)
            return
        self._in_flight.discard(action.action_id)
        await self._report(action, raw, source, performed)

    async def _perform(self, action: Action) -> tuple[str, str]:
        if action.kind == "preserve_evidence":
            return await self._preserve(action)
        retrying = self.retry_policy.retrying(
            operation=PLATFORM_CALL,
            retry=retry_if_exception(_retriable),
            retries=self.metrics.retries,
            sleep=self._sleep,
            attempts=self.max_attempts,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        self.metrics.executor_retries.labels(action.kind).inc()
                    return await self._call_platform(action)
        except Exception as exc:  # noqa: BLE001 - the error's own retriable flag decides
            if not _retriable(exc):
                return "failed", f"permanent error: {type(exc).__name__}"
            return "failed", (
                f"transient error after {self.max_attempts} attempts: {type(exc).__name__}"
            )
        return "failed", "no attempt made"

    async def _call_platform(self, action: Action) -> tuple[str, str]:
        """One platform call; raises only what may be retried or is a platform error."""
        try:
            detail = await asyncio.wait_for(
                self.adapter.perform(action), timeout=self.adapter_timeout_s
            )
        except PostAlreadyDeleted:
            return "post_already_deleted", "the author removed the post first"
        except AuthorReplied:
            return "author_replied", "the author replied before the action went out"
        except TimeoutError:
            # The call may have landed: retrying could do it twice.
            return "failed", (
                f"no answer from {self.adapter.name} in {self.adapter_timeout_s:g}s; "
                "outcome unknown, check the platform"
            )
        return "done", str(detail)[:DETAIL_MAX]

    async def _preserve(self, action: Action) -> tuple[str, str]:
        if self.evidence is None:
            return "failed", "no evidence store configured"
        store = self.evidence
        payload: dict[str, Any] = {"action": loads(action.to_bytes())}
        clauses = tuple(action.reasons)
        try:
            await asyncio.to_thread(
                store.put, action.action_id, payload, clauses=clauses, now_ms=self._clock()
            )
        except (EvidenceError, OSError) as exc:
            return "failed", f"evidence store error: {type(exc).__name__}"
        if not action.content:
            return "done", "evidence stored without a content copy (the action carried none)"
        return "done", "evidence stored"

    async def _report(
        self, action: Action, raw: bytes, source: str, performed: ActionState
    ) -> None:
        await self._send(action, raw, source, performed)
        if not await self._settle(
            action.action_id, performed, replace(performed, state="reported")
        ):
            log.warning("another executor reported this action too")

    async def _send(self, action: Action, raw: bytes, source: str, performed: ActionState) -> None:
        result = ActionResult(
            action_id=action.action_id,
            kind=action.kind,
            target_author=action.target_author,
            target_comment=action.target_comment,
            outcome=performed.outcome,
            detail=performed.detail,
            at_ms=performed.at_ms,
        )
        await self.outbox.result(result)
        self.metrics.actions.labels(action.kind, performed.outcome).inc()
        if performed.outcome == "failed":
            # The content copy of a preserve_evidence action stays out of the dead-letter
            # topic: evidence never goes to a long-retention topic.
            original = replace_record(action, content="").to_bytes() if action.content else raw
            key = action.target_author.encode()
            await self._dead_letter(original, source, key, "action_failed", performed.detail)

    async def _settle(self, action_id: str, expected: ActionState, new: ActionState) -> bool:
        """Move the state on once the platform may have been called. Redis failures here are
        waited out in place: the outcome is known only to this process until it is written."""
        return await self.until_ledger(
            lambda: self.ledger.swap(action_id, expected.encode(), new.encode())
        )

    async def until_ledger(
        self,
        call: Callable[[], Awaitable[T]],
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> T:
        """``call``, retried while Redis is unreachable (the executor pauses meanwhile);
        raises ExecutorStopping when asked to stop before Redis is back."""
        retrying = self.retry_policy.retrying(
            operation=LEDGER,
            retry=retry_if_exception_type(LedgerUnavailable),
            retries=self.metrics.retries,
            sleep=sleep or self._sleep,
            until=self.stopping,
            after_failure=self.outage.begin,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    value = await call()
                    self.outage.end()
                    return value
        except LedgerUnavailable:
            raise ExecutorStopping from None
        raise AssertionError("unreachable: tenacity either returns a value or raises")

    async def _dead_letter(
        self, raw: bytes, source: str, key: bytes | None, reason: str, detail: str
    ) -> None:
        letter = DeadLetter.of(
            raw,
            reason=reason,
            detail=detail,
            stage="executor",
            source=source,
            failed_at_ms=self._clock(),
        )
        self.metrics.dead_letters.labels("executor", reason).inc()
        await self.outbox.dead_letter(letter, key)

    async def _wait(self, seconds: float) -> None:
        if self.stopping.is_set():
            raise ExecutorStopping
        await self._sleep(seconds)

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when asked to stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)


def _retriable(exc: BaseException) -> bool:
    # Platform errors say whether they are worth retrying (aiokafka's convention).
    return getattr(exc, "retriable", False) is True


def _invalid(action: Action) -> str:
    """Why a decoded action cannot be carried out ("" if it can). Checked before any of its
    fields reaches Redis keys, file names or metric labels."""
    if not isinstance(action.action_id, str) or not _ACTION_ID.fullmatch(action.action_id):
        return "action_id is not a plain id"
    if action.kind not in ACTION_KINDS:
        return "unknown action kind"
    if not isinstance(action.due_at_ms, int) or isinstance(action.due_at_ms, bool):
        return "due_at_ms is not an integer"
    if not all(isinstance(v, str) for v in (action.target_author, action.target_comment)):
        return "target is not a string"
    if not isinstance(action.content, str) or not all(isinstance(r, str) for r in action.reasons):
        return "content or reasons are not strings"
    return ""


def _short(action_id: str) -> str:
    return action_id[:8]


class ExecutorService:
    """Feeds the executor from ``actions`` and commits offsets only for finished messages."""

    def __init__(
        self,
        settings: Settings,
        adapter: PlatformAdapter,
        metrics: Metrics,
        *,
        evidence: EvidenceStore | None,
        ledger: Ledger | None = None,
    ) -> None:
        self.settings = settings
        self.adapter = adapter
        self.metrics = metrics
        self.evidence = evidence
        self.ledger = ledger or RedisLedger(settings, metrics)
        self._stop_requested = asyncio.Event()
        self.executor: Executor | None = None

    def stop(self) -> None:
        self._stop_requested.set()
        if self.executor is not None:
            self.executor.stopping.set()

    async def run(self) -> None:
        settings = self.settings
        producer = AIOKafkaProducer(**kafka_options(settings), acks="all", enable_idempotence=True)
        consumer = AIOKafkaConsumer(
            settings.topic(specs.ACTIONS.name),
            **kafka_options(settings),
            group_id=f"{settings.group_id}.executor",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        executor = Executor(
            ledger=self.ledger,
            adapter=self.adapter,
            outbox=KafkaOutbox(producer, settings),
            metrics=self.metrics,
            evidence=self.evidence,
            max_attempts=settings.executor_max_attempts,
        )
        self.executor = executor
        if self._stop_requested.is_set():
            executor.stopping.set()
        tasks: list[asyncio.Task[None]] = []
        consuming_started = False
        await producer.start()
        try:
            await executor.start()
            await consumer.start()
            consuming_started = True
            tasks = [
                asyncio.create_task(executor.heartbeat_loop(), name="executor-heartbeat"),
                asyncio.create_task(executor.due_loop(), name="executor-due"),
            ]
            if self.evidence is not None:
                tasks.append(asyncio.create_task(executor.purge_loop(), name="executor-purge"))
            consuming = asyncio.create_task(self._consume(consumer, executor), name="consume")
            tasks.append(consuming)
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            executor.stopping.set()
            # Let the loops finish the action in hand rather than cancel a platform call.
            await asyncio.wait(tasks, timeout=ADAPTER_TIMEOUT_S)
            for task in tasks:
                failure = task.exception() if task.done() and not task.cancelled() else None
                if failure is not None:
                    raise failure
        except ExecutorStopping:
            pass
        finally:
            executor.stopping.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if consuming_started:
                await consumer.stop()
            await producer.stop()
            with contextlib.suppress(LedgerUnavailable):
                # Gone now: another executor may take over what this one left half done.
                await self.ledger.retire(executor.owner)
            await self.ledger.close()
            await self.adapter.close()

    async def _consume(self, consumer: AIOKafkaConsumer, executor: Executor) -> None:
        while not executor.stopping.is_set():
            batches = await consumer.getmany(timeout_ms=500, max_records=200)
            finished: dict[TopicPartition, int] = {}
            try:
                for tp, messages in batches.items():
                    for msg in messages:
                        if executor.stopping.is_set():
                            raise ExecutorStopping
                        self.metrics.events_in.labels("executor").inc()
                        started = time.perf_counter()
                        source = f"{tp.topic}[{tp.partition}]@{msg.offset}"
                        await executor.handle(msg.value or b"", source, msg.key)
                        self.metrics.processing_seconds.labels("executor").observe(
                            time.perf_counter() - started
                        )
                        finished[tp] = msg.offset + 1
            except LedgerUnavailable:
                self._rewind(consumer, batches, finished)
                await self._commit(consumer, finished)
                await self._pause_until_ledger(consumer, executor)
                continue
            except ExecutorStopping:
                self._rewind(consumer, batches, finished)
                await self._commit(consumer, finished)
                return
            await self._commit(consumer, finished)

    @staticmethod
    def _rewind(
        consumer: AIOKafkaConsumer,
        batches: dict[TopicPartition, Any],
        finished: dict[TopicPartition, int],
    ) -> None:
        """Point every partition of the batch at its first unfinished message."""
        assigned = consumer.assignment()
        for tp, messages in batches.items():
            if tp in assigned and messages:
                consumer.seek(tp, finished.get(tp, messages[0].offset))

    async def _commit(
        self, consumer: AIOKafkaConsumer, finished: dict[TopicPartition, int]
    ) -> None:
        if not finished:
            return
        try:
            await consumer.commit(finished)
        except (CommitFailedError, IllegalStateError) as exc:
            # Partitions moved to another executor mid-batch: it gets these messages again
            # and the claims make them duplicates.
            log.warning("offset commit skipped after a rebalance (%s)", type(exc).__name__)

    async def _pause_until_ledger(self, consumer: AIOKafkaConsumer, executor: Executor) -> None:
        async def paused(seconds: float) -> None:
            consumer.pause(*consumer.assignment())
            # Polling while paused keeps this consumer in its group without taking messages;
            # anything from a partition assigned since the pause is put back.
            strays = await consumer.getmany(timeout_ms=int(seconds * 1000))
            for tp, messages in strays.items():
                if messages and tp in consumer.assignment():
                    consumer.seek(tp, messages[0].offset)

        executor.outage.begin()
        # The probe is a heartbeat: after a long outage this owner's key has expired, and it
        # must be back before other executors judge its claims abandoned.
        with contextlib.suppress(ExecutorStopping):
            await paused(executor.retry_policy.first_s)
            await executor.until_ledger(lambda: executor.ledger.heartbeat(executor.owner), paused)
        consumer.resume(*consumer.paused())
        executor.outage.end()


@command("executor", help="Run the action executor: carries out the decided actions.")
def executor_command() -> None:
    from prometheus_client import start_http_server

    from workers.logging_config import configure_logging

    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    metrics = Metrics.create()
    start_http_server(settings.web_port + 100, addr=settings.web_host, registry=metrics.registry)
    adapter = adapter_from_settings(settings)
    # Opened before consuming: a wrong evidence key stops the executor at start, not at the
    # first safeguarding case.
    evidence = EvidenceStore.from_settings(settings)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)

    async def run() -> None:
        # aiokafka clients bind to the running loop, so they are built inside it.
        service = ExecutorService(settings, adapter, metrics, evidence=evidence)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, service.stop)
        await service.run()

    asyncio.run(run())


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(executor_command, argv, "modstream executor")


if __name__ == "__main__":
    raise SystemExit(main())
