"""Runs the pipeline's processes locally against the real broker: used by the demo and the
integration tests, so both exercise exactly what an operator runs.

Each run gets its own namespace (topics, consumer groups, Redis keys), so runs never see each
other's messages and a stale topic from an earlier run cannot satisfy an assertion. ``close()``
deletes the namespace's topics again (``MODSTREAM_KEEP_TOPICS=1`` keeps them, to inspect a
run), so runs do not pile up partitions in the shared broker.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from schemas.action import TRIGGER_COMMENT, Decision
from schemas.deadletter import DeadLetter
from streams import topics as specs
from workers.kafka_clients import kafka_options
from workers.settings import REPO_ROOT, Settings
from workers.topic_admin import delete_namespace_topics, ensure_topics

log = logging.getLogger(__name__)

KEEP_TOPICS_ENV = "MODSTREAM_KEEP_TOPICS"

# Pipelines made in this process and not closed yet: a test session deletes their topics at
# its end (release_unclosed), for callers that only stop() theirs.
_unclosed: dict[str, LocalPipeline] = {}


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(n: int) -> list[int]:
    """``n`` distinct ports free on 127.0.0.1 now (held open together, so none repeats)."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(n)]
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]


@dataclass(frozen=True)
class Outcomes:
    decisions: list[Decision]  # those answering a raw input (one each, unless redelivered)
    all_decisions: list[Decision]  # also deadline firings, campaigns found later, results
    dead_letters: list[DeadLetter]


@dataclass
class LocalPipeline:
    namespace: str = field(default_factory=lambda: f"run{uuid.uuid4().hex[:10]}")
    partitions: int = 4
    extra_env: Mapping[str, str] = field(default_factory=dict)
    workdir: Path = field(default_factory=lambda: REPO_ROOT / ".stack" / "runs")
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rundir = self.workdir / self.namespace
        self.rundir.mkdir(parents=True, exist_ok=True)
        self.web_port = free_port()
        self.env = {
            **os.environ,
            "MODSTREAM_NAMESPACE": self.namespace,
            "MODSTREAM_PARTITIONS": str(self.partitions),
            "MODSTREAM_DEV_MODE": "true",
            "MODSTREAM_DATA_DIR": str(self.rundir),
            "MODSTREAM_EVIDENCE_DIR": str(self.rundir / "evidence"),
            "MODSTREAM_WEB_PORT": str(self.web_port),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        self.settings = Settings.from_env(self.env)
        _unclosed[self.namespace] = self

    def topic(self, name: str) -> str:
        return self.settings.topic(name)

    async def create_topics(self) -> None:
        await ensure_topics(self.settings)

    def start(self, name: str, module: str, *, env: Mapping[str, str] | None = None) -> None:
        log = (self.rundir / f"{name}.log").open("ab")
        self.processes[name] = subprocess.Popen(  # noqa: S603 - our own module, fixed argv
            [sys.executable, "-m", module],
            cwd=REPO_ROOT,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_worker(self, name: str = "worker", *, web_port: int | None = None) -> None:
        port = web_port or (self.web_port if name == "worker" else free_port())
        self.start(name, "workers.processes.worker", env={"MODSTREAM_WEB_PORT": str(port)})

    def start_executor(self, name: str = "executor") -> None:
        self.start(name, "workers.executor.executor")

    def start_console(self, users_json: str, *, port: int | None = None) -> int:
        """The moderator console on ``port`` (a free one by default); returns the port."""
        port = port or free_port()
        self.start(
            "console",
            "workers.console",
            env={
                "MODSTREAM_CONSOLE_PORT": str(port),
                "MODSTREAM_CONSOLE_METRICS_PORT": str(free_port()),
                "MODSTREAM_CONSOLE_USERS": users_json,
                "MODSTREAM_CONSOLE_ACCESS_LOG": str(self.rundir / "console-access.log"),
            },
        )
        return port

    async def wait_listening(self, port: int, name: str, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                return
            except OSError:
                await asyncio.sleep(0.3)
        raise TimeoutError(f"{name} not listening after {timeout_s}s:\n{self.log_of(name)[-3000:]}")

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.processes.pop(name)
        proc.send_signal(sig)
        proc.wait(timeout=60)

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.processes.clear()

    async def close(self) -> None:
        """Stop the processes and delete the namespace's topics (see ``release_namespace``)."""
        self.stop()
        _unclosed.pop(self.namespace, None)
        await release_namespace(self.settings, keep=keep_topics(self.env))

    def log_of(self, name: str) -> str:
        path = self.rundir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    async def produce(self, topic: str, messages: Iterable[tuple[bytes | None, bytes]]) -> int:
        producer = AIOKafkaProducer(**kafka_options(self.settings), linger_ms=5, acks="all")
        await producer.start()
        count = 0
        try:
            for key, value in messages:
                await producer.send(self.topic(topic), key=key, value=value)
                count += 1
            await producer.flush()
        finally:
            await producer.stop()
        return count

    async def collect(
        self,
        topics: Iterable[str],
        *,
        until: int | Callable[[dict[str, list[tuple[bytes | None, bytes]]]], bool],
        timeout_s: float = 120.0,
        idle_s: float | None = None,
    ) -> dict[str, list[tuple[bytes | None, bytes]]]:
        """Read the given topics from the start until ``until`` messages arrived in total (or
        ``until(got)`` says done; or, with ``idle_s``, nothing new arrived for that long), or
        the timeout."""
        names = [self.topic(t) for t in topics]
        consumer = AIOKafkaConsumer(
            *names,
            **kafka_options(self.settings),
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            group_id=None,
        )
        await consumer.start()
        got: dict[str, list[tuple[bytes | None, bytes]]] = {t: [] for t in topics}
        by_name = dict(zip(names, topics, strict=True))
        deadline = time.monotonic() + timeout_s
        last_new = time.monotonic()
        try:
            while time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for tp, msgs in batch.items():
                    got[by_name[tp.topic]].extend((m.key, m.value or b"") for m in msgs)
                    last_new = time.monotonic()
                total = sum(len(v) for v in got.values())
                if until(got) if callable(until) else total >= until:
                    break
                if idle_s is not None and total and time.monotonic() - last_new > idle_s:
                    break
            return got
        finally:
            await consumer.stop()

    async def collect_outcomes(self, inputs: int, *, timeout_s: float = 150.0) -> Outcomes:
        """Wait until each of ``inputs`` raw messages has its outcome: the decision that answers
        it, or a dead letter. Decisions about the same comment that answer other inputs (a
        deadline, a campaign found later) are returned too, apart."""
        marker = f'"trigger":"{TRIGGER_COMMENT}"'.encode()

        def answered(got: dict[str, list[tuple[bytes | None, bytes]]]) -> bool:
            decided = sum(1 for _, v in got[specs.DECISIONS.name] if marker in v)
            return decided + len(got[specs.DEADLETTER.name]) >= inputs

        got = await self.collect(
            [specs.DECISIONS.name, specs.DEADLETTER.name], until=answered, timeout_s=timeout_s
        )
        every = [Decision.from_bytes(v) for _, v in got[specs.DECISIONS.name]]
        return Outcomes(
            decisions=[
                d for d, (_, v) in zip(every, got[specs.DECISIONS.name], strict=True) if marker in v
            ],
            all_decisions=every,
            dead_letters=[DeadLetter.from_bytes(v) for _, v in got[specs.DEADLETTER.name]],
        )

    async def is_ready(self, port: int | None = None) -> bool:
        """Whether the worker's /readyz answers 200 now (every input assigned, tables
        recovered); False when nothing listens."""
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port or self.web_port)
            writer.write(b"GET /readyz HTTP/1.0\r\nHost: localhost\r\n\r\n")
            await writer.drain()
            head = await reader.read(64)
            writer.close()
        except OSError:
            return False
        return b" 200 " in head

    async def wait_ready(self, timeout_s: float = 180.0, port: int | None = None) -> None:
        """Wait until the worker's /readyz says ready (assigned, tables recovered)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if await self.is_ready(port):
                return
            await asyncio.sleep(0.5)
        raise TimeoutError(f"worker not ready after {timeout_s}s:\n{self.log_of('worker')[-3000:]}")


def keep_topics(env: Mapping[str, str]) -> bool:
    return env.get(KEEP_TOPICS_ENV, "").strip().lower() in {"1", "true", "yes"}


async def release_namespace(settings: Settings, *, keep: bool = False) -> None:
    """Delete a finished run's topics. Never raises: a run's outcome must not depend on its
    cleanup, and a broker that is down (a fault test's private one, stopped) must not hang
    it. What was deleted, kept or left is logged by namespace and count only."""
    if keep:
        log.info("%s=1: keeping the topics of namespace %s", KEEP_TOPICS_ENV, settings.namespace)
        return
    try:
        deleted = await delete_namespace_topics(settings)
    except Exception as exc:  # noqa: BLE001 - logged; cleanup must never fail a run
        log.warning(
            "could not delete the topics of namespace %s: %s: %s",
            settings.namespace,
            type(exc).__name__,
            exc,
        )
        return
    log.info("deleted %d topics of namespace %s", len(deleted), settings.namespace)


async def release_unclosed() -> None:
    """Delete the topics of every pipeline made in this process that was not closed."""
    while _unclosed:
        await _unclosed.popitem()[1].close()
