"""Entry point of a stream worker process: ``python -m workers.worker``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from faust.worker import Worker

from streams.registry import OPTIONAL_TOPICS, WORKER_TOPICS
from workers.app import create_app
from workers.logging_config import configure_logging
from workers.settings import Settings
from workers.topic_admin import ensure_topics, missing_topics

log = logging.getLogger(__name__)


class QuietWorker(Worker):
    """A Faust worker without the terminal spinner. At WARNING and above Faust attaches the
    spinner by setting the root logger to DEBUG, so every debug call on the hot path builds a
    log record nobody reads (seen in bench/profile_pipeline.py); a service has no terminal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spinner = None


# EX_CONFIG (sysexits.h): a supervisor restarting the worker will not fix a missing topic.
EXIT_MISSING_TOPICS = 78


def check_topics(settings: Settings) -> None:
    """A worker never runs deaf: Faust ignores an input topic that does not exist when the
    group is assigned, and then never reads it, even after it is created. So at start the
    worker creates its missing topics when configured to (``MODSTREAM_CREATE_TOPICS``, on in
    dev mode), and otherwise refuses to start, naming them."""
    needed = [t for t in WORKER_TOPICS if settings.emit_assessed or t not in OPTIONAL_TOPICS]
    # A loop of its own, closed after: Faust's worker makes and owns the process's loop.
    loop = asyncio.new_event_loop()
    try:
        missing = loop.run_until_complete(missing_topics(settings, needed))
        if missing and settings.create_topics:
            created = loop.run_until_complete(ensure_topics(settings))
            log.info("created %d missing topics: %s", len(created), ", ".join(sorted(created)))
            return
    finally:
        loop.close()
    if missing:
        log.error(
            "refusing to start: %d topics missing: %s (create them, e.g. with the deployment's "
            "topic manifests, or set MODSTREAM_CREATE_TOPICS=true in dev)",
            len(missing),
            ", ".join(sorted(missing)),
        )
        raise SystemExit(EXIT_MISSING_TOPICS)


def main() -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    check_topics(settings)
    app = create_app(settings)
    # Faust's own web server serves /metrics, /healthz and /readyz (see workers.web);
    # it starts before the consumer, so readiness can say "not ready" during table recovery.
    QuietWorker(app, loglevel=settings.log_level.lower(), quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
