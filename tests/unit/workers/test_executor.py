"""The executor's decisions: claim before performing, retry with backoff, dead-letter what keeps
failing, hold what is not yet due, take over what a stopped executor left, pause without Redis.

Redis is replaced by a small in-memory ledger with the same contract (tests/integration run the
real one); the platform by adapters that script their answers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from schemas.action import Action, ActionResult
from schemas.deadletter import DeadLetter
from workers.evidence_keys import KeySpec
from workers.evidence_store import EvidenceStore
from workers.executor.executor import ActionState, Executor, LedgerUnavailable
from workers.executor.platform_adapters import (
    DryRunAdapter,
    PermanentPlatformError,
    PostAlreadyDeleted,
    TransientPlatformError,
    adapter_from_settings,
    describe,
    load_adapter,
)
from workers.metrics import Metrics
from workers.settings import Settings, SettingsError

NOW = 1_767_225_600_000  # 2026-01-01T00:00:00Z
ACTION_ID = "0123456789abcdef0123456789abcdef"


class MemoryLedger:
    """The Redis ledger's contract in memory. ``down`` makes every call fail as an outage
    does; ``lose_claim_reply`` applies the next claim and then fails, as a lost reply does."""

    def __init__(self) -> None:
        self.values: dict[str, bytes] = {}
        self.alive: set[str] = set()
        self.held: dict[str, tuple[int, bytes]] = {}
        self.down = False
        self.lose_claim_reply = False
        self.calls = 0

    async def _check(self) -> None:
        # Yield as a network call does, so concurrent handlers interleave as they would.
        await asyncio.sleep(0)
        self.calls += 1
        if self.down:
            raise LedgerUnavailable("Redis get failed: ConnectionError")

    async def get(self, action_id: str) -> bytes | None:
        await self._check()
        return self.values.get(action_id)

    async def claim(self, action_id: str, value: bytes) -> bool:
        await self._check()
        if action_id in self.values:
            return False
        self.values[action_id] = value
        if self.lose_claim_reply:
            self.lose_claim_reply = False
            raise LedgerUnavailable("Redis claim failed: TimeoutError")
        return True

    async def swap(self, action_id: str, expected: bytes, new: bytes) -> bool:
        await self._check()
        if self.values.get(action_id) in (expected, new):
            self.values[action_id] = new
            return True
        return False

    async def owner_alive(self, owner: str) -> bool:
        await self._check()
        return owner in self.alive

    async def heartbeat(self, owner: str) -> None:
        await self._check()
        self.alive.add(owner)

    async def retire(self, owner: str) -> None:
        await self._check()
        self.alive.discard(owner)

    async def hold(self, action_id: str, due_ms: int, entry: bytes) -> bool:
        await self._check()
        if action_id in self.held:
            return False
        self.held[action_id] = (due_ms, entry)
        return True

    async def due(self, now_ms: int, limit: int) -> list[tuple[str, bytes | None]]:
        await self._check()
        ready = sorted((due, i) for i, (due, _) in self.held.items() if due <= now_ms)
        return [(i, self.held[i][1]) for _, i in ready[:limit]]

    async def release(self, action_id: str) -> None:
        await self._check()
        self.held.pop(action_id, None)

    async def held_count(self) -> int:
        await self._check()
        return len(self.held)

    async def close(self) -> None:
        return None

    def state(self, action_id: str = ACTION_ID) -> ActionState:
        return ActionState.decode(self.values[action_id])


class ListOutbox:
    def __init__(self) -> None:
        self.results: list[ActionResult] = []
        self.letters: list[tuple[DeadLetter, bytes | None]] = []

    async def result(self, result: ActionResult) -> None:
        self.results.append(result)

    async def dead_letter(self, letter: DeadLetter, key: bytes | None) -> None:
        self.letters.append((letter, key))


class ScriptedAdapter:
    """Answers each call with the next scripted item: an exception to raise, or a detail."""

    name = "scripted"

    def __init__(self, *script: BaseException | str) -> None:
        self.script = list(script)
        self.performed: list[str] = []
        self.on_perform: Callable[[], None] | None = None

    async def perform(self, action: Action) -> str:
        self.performed.append(action.action_id)
        await asyncio.sleep(0)
        if self.on_perform is not None:
            self.on_perform()
        answer = self.script.pop(0) if self.script else "ok"
        if isinstance(answer, BaseException):
            raise answer
        return answer

    async def close(self) -> None:
        return None


class Clock:
    def __init__(self, now_ms: int = NOW) -> None:
        self.now_ms = now_ms
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[int], None] | None = None

    def __call__(self) -> int:
        return self.now_ms

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_ms += int(seconds * 1000)
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))
        await asyncio.sleep(0)


class Rig:
    def __init__(
        self,
        adapter: ScriptedAdapter | None = None,
        *,
        ledger: MemoryLedger | None = None,
        evidence: EvidenceStore | None = None,
        owner: str = "me",
        **options: Any,
    ) -> None:
        self.ledger = ledger or MemoryLedger()
        self.adapter = adapter or ScriptedAdapter()
        self.outbox = ListOutbox()
        self.metrics = Metrics.create()
        self.clock = Clock()
        self.executor = Executor(
            ledger=self.ledger,
            adapter=self.adapter,
            outbox=self.outbox,
            metrics=self.metrics,
            evidence=evidence,
            clock=self.clock,
            sleep=self.clock.sleep,
            owner=owner,
            **options,
        )
        self.ledger.alive.add(owner)

    def count(self, kind: str, outcome: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "modstream_actions_total", {"kind": kind, "outcome": outcome}
        )
        return value or 0.0

    def gauge(self, name: str) -> float:
        return self.metrics.registry.get_sample_value(name) or 0.0


def _action(
    kind: str = "reply_ask_removal",
    *,
    action_id: str = ACTION_ID,
    due_at_ms: int = NOW,
    content: str = "",
) -> Action:
    return Action(
        action_id=action_id,
        decision_id="d1",
        kind=kind,
        platform="facebook",
        target_author="author-key-0001",
        target_comment="facebook:1234567890",
        reasons=("abusive",),
        evidence=(),
        behaviour=(),
        linked_evidence=(),
        policy_version="p" * 16,
        source=("comments.raw[0]@7",),
        due_at_ms=due_at_ms,
        message="Please remove your comment.",
        content=content,
    )


SRC = "actions[1]@42"


# --- claim and dedupe ------------------------------------------------------------------------


async def test_an_action_is_performed_and_reported_once() -> None:
    rig = Rig()
    await rig.executor.handle(_action().to_bytes(), SRC, b"author-key-0001")

    assert rig.adapter.performed == [ACTION_ID]
    [result] = rig.outbox.results
    assert (result.action_id, result.outcome, result.detail) == (ACTION_ID, "done", "ok")
    assert rig.ledger.state().state == "reported"
    assert rig.outbox.letters == []
    assert rig.count("reply_ask_removal", "done") == 1


async def test_a_redelivered_action_is_counted_as_duplicate_and_not_performed_again() -> None:
    rig = Rig()
    raw = _action().to_bytes()
    await rig.executor.handle(raw, SRC)
    await rig.executor.handle(raw, "actions[1]@43")

    assert rig.adapter.performed == [ACTION_ID]
    assert len(rig.outbox.results) == 1
    assert rig.count("reply_ask_removal", "duplicate") == 1


async def test_two_executors_racing_for_one_action_perform_it_once() -> None:
    ledger = MemoryLedger()
    first, second = Rig(ledger=ledger, owner="one"), Rig(ledger=ledger, owner="two")
    raw = _action().to_bytes()
    await asyncio.gather(first.executor.handle(raw, SRC), second.executor.handle(raw, SRC))

    assert len(first.adapter.performed) + len(second.adapter.performed) == 1
    assert len(first.outbox.results) + len(second.outbox.results) == 1


# --- retries, backoff and dead letters -------------------------------------------------------


def within_steps(sleeps: list[float], first: float, cap: float) -> bool:
    """Each wait lies between half and all of its doubling step (capped): equal jitter."""
    steps = [min(first * 2**i, cap) for i in range(len(sleeps))]
    return all(step / 2 <= slept <= step for slept, step in zip(sleeps, steps, strict=True))


async def test_transient_failures_are_retried_with_exponential_backoff() -> None:
    adapter = ScriptedAdapter(TransientPlatformError(), TransientPlatformError(), "posted")
    rig = Rig(adapter, backoff_s=0.2)
    await rig.executor.handle(_action().to_bytes(), SRC)

    assert len(adapter.performed) == 3
    assert len(rig.clock.sleeps) == 2 and within_steps(rig.clock.sleeps, 0.2, 30)
    assert [r.outcome for r in rig.outbox.results] == ["done"]
    retries = rig.metrics.registry.get_sample_value(
        "modstream_executor_retries_total", {"kind": "reply_ask_removal"}
    )
    assert retries == 2
    by_operation = rig.metrics.registry.get_sample_value(
        "modstream_retries_total", {"op": "platform_call"}
    )
    assert by_operation == 2


async def test_executors_that_fail_together_do_not_retry_in_lockstep() -> None:
    # Ten executors meet the same rate limit at the same moment: with a plain doubling they
    # would all come back at 0.5 s, 1 s, 1.5 s, together. Jitter spreads them out.
    waits = []
    for _ in range(10):
        adapter = ScriptedAdapter(*(TransientPlatformError() for _ in range(10)))
        rig = Rig(adapter, max_attempts=4, backoff_s=0.5, backoff_max_s=1.5)
        await rig.executor.handle(_action().to_bytes(), SRC)
        assert within_steps(rig.clock.sleeps, 0.5, 1.5)
        waits.append(tuple(rig.clock.sleeps))
    assert len(set(waits)) == 10
    assert len({w[-1] for w in waits}) == 10, "at the cap too"


async def test_ledger_retries_are_counted_by_operation() -> None:
    rig = Rig()
    rig.ledger.down = True

    def redis_comes_back(sleeps: int) -> None:
        if sleeps == 4:
            rig.ledger.down = False

    rig.clock.on_sleep = redis_comes_back
    await rig.executor.start()
    assert rig.metrics.registry.get_sample_value("modstream_retries_total", {"op": "ledger"}) == 4
    assert within_steps(rig.clock.sleeps, 0.2, 30)


async def test_an_action_that_keeps_failing_is_reported_failed_and_dead_lettered() -> None:
    adapter = ScriptedAdapter(*(TransientPlatformError() for _ in range(10)))
    rig = Rig(adapter, max_attempts=4, backoff_s=0.5, backoff_max_s=1.5)
    raw = _action().to_bytes()
    await rig.executor.handle(raw, SRC)

    assert len(adapter.performed) == 4
    assert len(rig.clock.sleeps) == 3 and within_steps(rig.clock.sleeps, 0.5, 1.5)
    [result] = rig.outbox.results
    assert result.outcome == "failed"
    assert result.detail == "transient error after 4 attempts: TransientPlatformError"
    [(letter, key)] = rig.outbox.letters
    assert (letter.reason, letter.stage, letter.source) == ("action_failed", "executor", SRC)
    assert letter.original() == raw and key == b"author-key-0001"
    assert rig.ledger.state().state == "reported"


async def test_a_permanent_error_is_not_retried() -> None:
    adapter = ScriptedAdapter(PermanentPlatformError("403 for facebook:1234567890"))
    rig = Rig(adapter)
    await rig.executor.handle(_action().to_bytes(), SRC)

    assert len(adapter.performed) == 1 and rig.clock.sleeps == []
    [result] = rig.outbox.results
    assert result.detail == "permanent error: PermanentPlatformError"
    assert "1234567890" not in result.detail, "error messages never reach the result"
    assert [dl.reason for dl, _ in rig.outbox.letters] == ["action_failed"]


async def test_a_plug_in_error_is_retried_when_it_says_it_is_retriable() -> None:
    class RateLimited(Exception):
        retriable = True

    adapter = ScriptedAdapter(RateLimited(), "ok")
    rig = Rig(adapter)
    await rig.executor.handle(_action().to_bytes(), SRC)
    assert len(adapter.performed) == 2
    assert [r.outcome for r in rig.outbox.results] == ["done"]


async def test_a_post_already_deleted_is_its_own_outcome_not_a_failure() -> None:
    rig = Rig(ScriptedAdapter(PostAlreadyDeleted()))
    await rig.executor.handle(_action("delete_post").to_bytes(), SRC)
    assert [r.outcome for r in rig.outbox.results] == ["post_already_deleted"]
    assert rig.outbox.letters == []


async def test_a_platform_call_that_hangs_is_failed_and_not_retried() -> None:
    class Hanging(ScriptedAdapter):
        async def perform(self, action: Action) -> str:
            self.performed.append(action.action_id)
            await asyncio.sleep(10)
            return "late"

    adapter = Hanging()
    rig = Rig(adapter, adapter_timeout_s=0.05)
    await rig.executor.handle(_action().to_bytes(), SRC)
    assert len(adapter.performed) == 1
    [result] = rig.outbox.results
    assert result.outcome == "failed" and "outcome unknown" in result.detail


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"\xff\xfenot json", "undecodable"),
        (b'{"action_id": "x"}', "undecodable"),
        (_action("launch_missiles").to_bytes(), "unknown action kind"),
        (_action(action_id="../../etc").to_bytes(), "action_id"),
    ],
)
async def test_a_malformed_action_is_dead_lettered_and_not_performed(raw: bytes, why: str) -> None:
    rig = Rig()
    await rig.executor.handle(raw, SRC, b"k")
    assert rig.adapter.performed == [] and rig.outbox.results == []
    [(letter, key)] = rig.outbox.letters
    assert letter.reason == "invalid_record" and why in letter.detail
    assert letter.original() == raw and key == b"k"
    assert rig.ledger.values == {}


# --- Redis unavailable -------------------------------------------------------------------------


async def test_without_redis_nothing_is_performed_and_the_message_can_be_handed_in_again() -> None:
    rig = Rig()
    rig.ledger.down = True
    raw = _action().to_bytes()
    with pytest.raises(LedgerUnavailable):
        await rig.executor.handle(raw, SRC)
    assert rig.adapter.performed == [] and rig.outbox.results == []

    rig.ledger.down = False
    await rig.executor.handle(raw, SRC)
    assert rig.adapter.performed == [ACTION_ID]
    assert len(rig.outbox.results) == 1


async def test_a_claim_whose_reply_was_lost_is_performed_on_the_retry() -> None:
    rig = Rig()
    rig.ledger.lose_claim_reply = True
    raw = _action().to_bytes()
    with pytest.raises(LedgerUnavailable):
        await rig.executor.handle(raw, SRC)
    assert rig.adapter.performed == []
    assert rig.ledger.state().state == "claimed"

    await rig.executor.handle(raw, SRC)
    assert rig.adapter.performed == [ACTION_ID]
    assert [r.outcome for r in rig.outbox.results] == ["done"]


async def test_a_lost_claim_met_by_two_handlers_in_one_process_is_performed_once() -> None:
    # The consumer and the due-loop can both meet an action whose claim reply was lost.
    rig = Rig()
    rig.ledger.values[ACTION_ID] = ActionState("claimed", "me").encode()
    action, raw = _action(), _action().to_bytes()
    await asyncio.gather(
        rig.executor.execute(action, raw, SRC), rig.executor.execute(action, raw, SRC)
    )
    assert rig.adapter.performed == [ACTION_ID]
    assert len(rig.outbox.results) == 1


async def test_an_outage_after_the_platform_call_is_waited_out_in_place() -> None:
    rig = Rig()

    def redis_goes_down() -> None:
        rig.ledger.down = True

    def redis_comes_back(sleeps: int) -> None:
        assert rig.gauge("modstream_executor_paused") == 1
        if sleeps == 3:
            rig.ledger.down = False

    rig.adapter.on_perform = redis_goes_down
    rig.clock.on_sleep = redis_comes_back
    await rig.executor.handle(_action().to_bytes(), SRC)

    assert rig.adapter.performed == [ACTION_ID]
    assert len(rig.clock.sleeps) == 3 and within_steps(rig.clock.sleeps, 0.2, 30)
    assert [r.outcome for r in rig.outbox.results] == ["done"]
    assert rig.ledger.state().state == "reported"
    assert rig.gauge("modstream_executor_paused") == 0


# --- what a stopped executor left behind -----------------------------------------------------


async def test_a_claim_by_a_stopped_executor_is_reported_interrupted_never_redone() -> None:
    rig = Rig()
    rig.ledger.values[ACTION_ID] = ActionState("claimed", "gone").encode()
    raw = _action().to_bytes()
    await rig.executor.handle(raw, SRC)

    assert rig.adapter.performed == []
    [result] = rig.outbox.results
    assert result.outcome == "failed" and result.detail.startswith("interrupted")
    assert [dl.reason for dl, _ in rig.outbox.letters] == ["action_failed"]
    assert rig.ledger.state() == ActionState(
        "reported", "me", "failed", result.detail, result.at_ms
    )


async def test_a_result_a_stopped_executor_left_unsent_is_sent_as_recorded() -> None:
    rig = Rig()
    recorded = ActionState("performed", "gone", "done", "posted", NOW - 5_000)
    rig.ledger.values[ACTION_ID] = recorded.encode()
    await rig.executor.handle(_action().to_bytes(), SRC)

    assert rig.adapter.performed == []
    [result] = rig.outbox.results
    assert (result.outcome, result.detail, result.at_ms) == ("done", "posted", NOW - 5_000)
    assert rig.ledger.state().state == "reported"


async def test_a_live_executor_working_on_the_action_is_waited_for() -> None:
    rig = Rig()
    rig.ledger.alive.add("other")
    rig.ledger.values[ACTION_ID] = ActionState("claimed", "other").encode()

    def other_finishes(sleeps: int) -> None:
        if sleeps == 2:
            rig.ledger.values[ACTION_ID] = ActionState(
                "reported", "other", "done", "", NOW
            ).encode()

    rig.clock.on_sleep = other_finishes
    await rig.executor.handle(_action().to_bytes(), SRC)

    assert rig.adapter.performed == [] and rig.outbox.results == []
    assert rig.count("reply_ask_removal", "duplicate") == 1


# --- actions due later ---------------------------------------------------------------------


async def test_an_action_due_later_is_held_and_performed_once_when_due() -> None:
    rig = Rig()
    due = NOW + 3_600_000
    raw = _action(due_at_ms=due).to_bytes()
    await rig.executor.handle(raw, SRC)
    await rig.executor.handle(raw, SRC)  # redelivered before it is due

    assert rig.adapter.performed == [] and rig.outbox.results == []
    assert list(rig.ledger.held) == [ACTION_ID]
    assert await rig.executor.run_due() == 0

    rig.clock.now_ms = due
    assert await rig.executor.run_due() == 1
    assert rig.adapter.performed == [ACTION_ID]
    assert [r.outcome for r in rig.outbox.results] == ["done"]
    assert rig.ledger.held == {}

    await rig.executor.handle(raw, SRC)  # redelivered after it was performed
    assert rig.adapter.performed == [ACTION_ID]
    assert await rig.executor.run_due() == 0


async def test_a_held_action_that_failed_is_dead_lettered_with_its_original_source() -> None:
    rig = Rig(ScriptedAdapter(PermanentPlatformError()))
    due = NOW + 60_000
    await rig.executor.handle(_action(due_at_ms=due).to_bytes(), SRC)
    rig.clock.now_ms = due
    await rig.executor.run_due()
    [(letter, _)] = rig.outbox.letters
    assert letter.source == SRC and letter.reason == "action_failed"


async def test_the_due_loop_waits_out_an_outage_and_keeps_the_action() -> None:
    rig = Rig()
    due = NOW + 60_000
    await rig.executor.handle(_action(due_at_ms=due).to_bytes(), SRC)
    rig.clock.now_ms = due
    rig.ledger.down = True
    with pytest.raises(LedgerUnavailable):
        await rig.executor.run_due()
    rig.ledger.down = False
    await rig.executor.run_due()
    assert rig.adapter.performed == [ACTION_ID]


# --- evidence -------------------------------------------------------------------------------


async def test_preserve_evidence_goes_to_the_store_at_once_and_not_to_the_platform(
    tmp_path: Path,
) -> None:
    store = EvidenceStore(tmp_path, KeySpec("random", bytes(32)), retention_days=90)
    rig = Rig(evidence=store)
    text = "the words to keep for safeguarding"
    action = _action("preserve_evidence", due_at_ms=NOW + 3_600_000, content=text)
    await rig.executor.handle(action.to_bytes(), SRC)

    assert rig.adapter.performed == [] and rig.ledger.held == {}
    [result] = rig.outbox.results
    assert (result.outcome, result.detail) == ("done", "evidence stored")
    record = store.read(ACTION_ID, reviewer="test", purpose="unit test")
    assert record.payload["action"]["content"] == text
    assert record.meta.clauses == ("abusive",)
    assert text.encode() not in (tmp_path / f"{ACTION_ID}.evidence").read_bytes()


async def test_failed_evidence_is_dead_lettered_without_its_content() -> None:
    rig = Rig(evidence=None)
    text = "the words to keep for safeguarding"
    await rig.executor.handle(_action("preserve_evidence", content=text).to_bytes(), SRC)

    [result] = rig.outbox.results
    assert result.outcome == "failed"
    [(letter, _)] = rig.outbox.letters
    assert text.encode() not in letter.original()
    assert orjson.loads(letter.original())["action_id"] == ACTION_ID


# --- adapters -------------------------------------------------------------------------------


class PluginAdapter:
    name = "plugin"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def perform(self, action: Action) -> str:
        return "ok"

    async def close(self) -> None:
        return None


class NotAnAdapter:
    name = "broken"

    def __init__(self, settings: Settings) -> None:
        pass

    def perform(self, action: Action) -> str:
        return "not async"


def test_a_plug_in_is_loaded_from_its_import_path_with_the_settings() -> None:
    settings = Settings(
        executor_dry_run=False, executor_adapter=f"{__name__}:PluginAdapter", data_dir="/x"
    )
    adapter = adapter_from_settings(settings)
    assert isinstance(adapter, PluginAdapter) and adapter.settings is settings


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("no_colon_here", "package.module:ClassName"),
        ("no.such.module:Thing", "cannot import"),
        (f"{__name__}:Missing", "no class"),
        (f"{__name__}:NotAnAdapter", "async def perform"),
    ],
)
def test_a_bad_plug_in_path_fails_at_start_naming_the_setting(path: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message) as err:
        load_adapter(path, Settings())
    assert "MODSTREAM_EXECUTOR_ADAPTER" in str(err.value)


def test_dry_run_is_the_default_and_wins_over_a_configured_plug_in(tmp_path: Path) -> None:
    assert isinstance(adapter_from_settings(Settings(data_dir=str(tmp_path))), DryRunAdapter)
    settings = Settings(data_dir=str(tmp_path), executor_adapter=f"{__name__}:PluginAdapter")
    assert isinstance(adapter_from_settings(settings), DryRunAdapter)
    # Dry-run off and no plug-in: the platform effectors, chosen per action.platform.
    live = adapter_from_settings(Settings(data_dir=str(tmp_path), executor_dry_run=False))
    assert live.name == "platforms"


async def test_the_dry_run_adapter_records_one_line_per_action_without_raw_ids(
    tmp_path: Path,
) -> None:
    record = tmp_path / "performed.jsonl"
    adapter = DryRunAdapter(record, echo=False)
    await adapter.perform(_action())
    await adapter.perform(_action("block_account", action_id="b" * 32))
    lines = [orjson.loads(line) for line in record.read_bytes().splitlines()]
    assert [(x["action_id"], x["kind"]) for x in lines] == [
        (ACTION_ID, "reply_ask_removal"),
        ("b" * 32, "block_account"),
    ]
    assert "1234567890" not in describe(_action())
    assert "Please remove" not in record.read_text()
