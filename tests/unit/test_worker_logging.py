"""The worker must not turn on debug logging for the whole process when run quiet."""

from __future__ import annotations

import logging

import faust

from workers.processes.worker import QuietWorker


def test_a_warning_level_worker_leaves_the_root_logger_alone() -> None:
    root = logging.getLogger()
    before = root.level
    app = faust.App("test-quiet-worker", broker="kafka://127.0.0.1:1", autodiscover=False)
    worker = QuietWorker(app, loglevel="warning", quiet=True)
    assert worker.spinner is None
    worker._setup_spinner_handler(root, logging.WARNING)
    assert root.level == before
    assert not root.isEnabledFor(logging.DEBUG) or before <= logging.DEBUG
