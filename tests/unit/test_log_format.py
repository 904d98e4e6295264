"""MODSTREAM_LOG_FORMAT=json: one JSON object per line, in every process, the worker included
(Faust's worker replaces the root handlers when it starts unless given our config)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import faust
import orjson
import pytest

from workers.logging_config import JsonFormatter, configure_logging, logging_dict
from workers.processes.worker import QuietWorker
from workers.settings import Settings, SettingsError


@pytest.fixture(autouse=True)
def _restore_root_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def _lines_of(emit: str) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in emit.splitlines() if line.strip()]


def test_json_lines_carry_level_logger_message_and_traceback() -> None:
    configure_logging("INFO", "json")
    stream = io.StringIO()
    root = logging.getLogger()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    log = logging.getLogger("modstream.test")
    log.info("partition %d stopped", 3)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        log.exception("send failed")
    first, second = _lines_of(stream.getvalue())
    assert first["level"] == "INFO" and first["logger"] == "modstream.test"
    assert first["message"] == "partition 3 stopped"
    assert str(first["ts"]).endswith("+00:00")
    assert "RuntimeError: boom" in str(second["exc"])


def test_the_setting_is_text_or_json() -> None:
    base = {"MODSTREAM_DEV_MODE": "true"}
    assert Settings.from_env(base).log_format == "text"
    assert Settings.from_env({**base, "MODSTREAM_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(SettingsError, match="MODSTREAM_LOG_FORMAT"):
        Settings.from_env({**base, "MODSTREAM_LOG_FORMAT": "xml"})


def test_the_faust_worker_keeps_the_json_format() -> None:
    app = faust.App("test-json-logs", broker="kafka://127.0.0.1:1", autodiscover=False)
    worker = QuietWorker(
        app, loglevel="info", quiet=True, logging_config=logging_dict("INFO", "json")
    )
    worker._setup_logging()
    formatters = {type(h.formatter) for h in logging.getLogger().handlers}
    assert formatters == {JsonFormatter}
