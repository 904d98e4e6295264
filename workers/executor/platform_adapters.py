"""How the executor reaches a platform.

With ``MODSTREAM_EXECUTOR_DRY_RUN=false`` the executor acts through the platform effectors
(``workers.executor.effectors.PlatformEffectors``: one per platform in ``streams/platforms``, chosen
by ``action.platform``). Dry-run is the default and the safety switch, and wins. A different
adapter can still be plugged in with ``MODSTREAM_EXECUTOR_ADAPTER="package.module:ClassName"``
(tests, a platform this project does not know); the class is
called with the process's ``Settings`` (the one reader of the environment) and must provide
``name``, ``async perform(action) -> str`` and ``async close()``.

``perform`` raises to say how it went, and the executor branches on the error's ``retriable``
attribute (as aiokafka's errors do), so a plug-in may raise its own error classes:

- ``retriable = True`` (``TransientPlatformError``): timeout, 5xx, rate limit; retried with
  backoff, then reported ``failed``;
- anything else (``PermanentPlatformError``, or an unexpected exception): ``failed`` at once;
- ``PostAlreadyDeleted`` / ``AuthorReplied``: the result outcomes of the same names;
- ``TimeoutError`` (the adapter's own, or the executor's after 30 s): ``failed`` without a
  retry, because the call may have landed and a second one could double a public action.

The detail string ``perform`` returns goes on ``actions.results``: it must not contain comment
text, names or account ids.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import logging
from pathlib import Path
from typing import Protocol, cast

import orjson

from schemas.action import Action
from streams.platforms.errors import (
    AuthorReplied,
    PermanentPlatformError,
    PostAlreadyDeleted,
    TransientPlatformError,
)
from workers.settings import Settings, SettingsError

log = logging.getLogger(__name__)

DRY_RUN_RECORD = "executor-performed.jsonl"


class PlatformAdapter(Protocol):
    name: str

    async def perform(self, action: Action) -> str:
        """Carry out the action; return a short detail for the result record."""
        ...

    async def close(self) -> None:
        """Release connections; called once when the executor stops."""
        ...


class DryRunAdapter:
    """Performs nothing: prints what it would do and records it, one JSON line per action."""

    name = "dry-run"

    def __init__(self, record_path: Path | None = None, *, echo: bool = True) -> None:
        self._record_path = record_path
        self._echo = echo
        if record_path is not None:
            record_path.parent.mkdir(parents=True, exist_ok=True)

    async def perform(self, action: Action) -> str:
        line = describe(action)
        if self._echo:
            print(line, flush=True)  # noqa: T201 - printing is this adapter's job
        if self._record_path is not None:
            entry = {"action_id": action.action_id, "kind": action.kind, "line": line}
            # One write of one line in append mode: a process killed mid-stream leaves whole
            # lines, so the record can be counted afterwards.
            with self._record_path.open("ab") as fh:
                fh.write(orjson.dumps(entry) + b"\n")
        return "dry-run: recorded"

    async def close(self) -> None:
        return None


def describe(action: Action) -> str:
    """One human line per action. It ends up in logs, so the author is a short prefix of the
    pseudonymous key and the comment a short digest, never the platform's own id."""
    target = f"comment#{_digest(action.target_comment)}" if action.target_comment else "(account)"
    reasons = ",".join(action.reasons) or "-"
    linked = f" linked={len(action.linked_evidence)}" if action.linked_evidence else ""
    # The reply's language and the review lane (Welsh-speaking reviewers), where they apply.
    lang = f" lang={action.language}" if action.language else ""
    lane = f" lane={action.lane}" if action.lane else ""
    return (
        f"[dry-run] {action.kind:<24} author={action.target_author[:8]} on={target} "
        f"reasons={reasons}{linked}{lang}{lane} policy={action.policy_version[:8]}"
    )


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:10]


def load_adapter(path: str, settings: Settings) -> PlatformAdapter:
    """Build the plug-in named ``module:Class``, called with the settings."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise SettingsError(
            f"MODSTREAM_EXECUTOR_ADAPTER must look like 'package.module:ClassName', got {path!r}"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise SettingsError(
            f"MODSTREAM_EXECUTOR_ADAPTER: cannot import {module_name!r} ({exc})"
        ) from None
    factory = getattr(module, attr, None)
    if factory is None or not callable(factory):
        raise SettingsError(f"MODSTREAM_EXECUTOR_ADAPTER: {module_name} has no class {attr!r}")
    adapter = factory(settings)
    for method in ("perform", "close"):
        if not inspect.iscoroutinefunction(getattr(adapter, method, None)):
            raise SettingsError(
                f"MODSTREAM_EXECUTOR_ADAPTER: {path} has no 'async def {method}' "
                "(see workers.executor.platform_adapters.PlatformAdapter)"
            )
    if not isinstance(getattr(adapter, "name", None), str):
        raise SettingsError(f"MODSTREAM_EXECUTOR_ADAPTER: {path} has no 'name' string")
    return cast(PlatformAdapter, adapter)


def adapter_from_settings(settings: Settings) -> PlatformAdapter:
    if settings.executor_dry_run:
        if settings.executor_adapter:
            log.warning("executor dry-run is on: the configured platform adapter is not used")
        return DryRunAdapter(Path(settings.data_dir) / DRY_RUN_RECORD)
    if not settings.executor_adapter:
        from workers.executor.effectors import PlatformEffectors

        return PlatformEffectors(settings)
    return load_adapter(settings.executor_adapter, settings)


__all__ = [
    "AuthorReplied",
    "DryRunAdapter",
    "PermanentPlatformError",
    "PlatformAdapter",
    "PostAlreadyDeleted",
    "TransientPlatformError",
    "adapter_from_settings",
]
