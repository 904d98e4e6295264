"""Entry point of a stream worker process: ``modstream worker``, ``modstream-worker`` or
``python -m workers.processes.worker``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from faust.worker import Worker

from workers.cli_conventions import command, run_command

if TYPE_CHECKING:
    from workers.settings import Settings

log = logging.getLogger(__name__)

# EX_CONFIG (sysexits.h): a supervisor restarting the worker will not fix a missing topic.
EXIT_MISSING_TOPICS = 78


class QuietWorker(Worker):
    """A Faust worker without the terminal spinner. At WARNING and above Faust attaches the
    spinner by setting the root logger to DEBUG, so every debug call on the hot path builds a
    log record nobody reads (seen in bench/profile_pipeline.py); a service has no terminal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spinner = None


def check_topics(settings: Settings, tables: Iterable[Any] = ()) -> None:
    """A worker never runs deaf: Faust ignores a topic that does not exist when the group is
    assigned, and then never reads it, even after it is created. So at start the worker
    creates its missing topics when configured to (``MODSTREAM_CREATE_TOPICS``, on in dev
    mode), and otherwise refuses to start, naming them.

    When it creates topics it also creates its ``tables``' changelogs. Faust would declare
    them itself, but joins the group a few milliseconds later, and an assignor whose
    metadata predates a changelog ignores it ("Ignoring missing topic"): that table then
    never recovers and ``/readyz`` stays false for good (seen in the integration tests on a
    loaded machine). Made here, they exist before the consumer first asks."""
    from streams.registry import OPTIONAL_TOPICS, WORKER_TOPICS
    from workers.topic_admin import changelog_topics, ensure_topics, missing_topics

    needed = [t for t in WORKER_TOPICS if settings.emit_assessed or t not in OPTIONAL_TOPICS]
    # A loop of its own, closed after: Faust's worker makes and owns the process's loop.
    loop = asyncio.new_event_loop()
    try:
        missing = loop.run_until_complete(missing_topics(settings, needed))
        if settings.create_topics:
            changelogs = changelog_topics(settings, tables)
            created = loop.run_until_complete(ensure_topics(settings, changelogs))
            if created:
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


@command("worker", help="Run a stream worker: every stage, with /metrics, /healthz and /readyz.")
def worker_command() -> None:
    # Settings are read here, after click has answered --help and --version.
    from workers.logging_config import configure_logging, logging_dict
    from workers.processes.app import create_app
    from workers.settings import Settings

    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)  # builds the stages and tables; touches no broker yet
    check_topics(settings, app.tables.values())
    # Faust's own web server serves /metrics, /healthz and /readyz (see workers.processes.web);
    # it starts before the consumer, so readiness can say "not ready" during table recovery.
    QuietWorker(
        app,
        loglevel=settings.log_level.lower(),
        quiet=True,
        # Faust would put its own coloured handler on the root logger: keep ours.
        logging_config=logging_dict(settings.log_level, settings.log_format),
    ).execute_from_commandline()


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(worker_command, argv, "modstream worker")


if __name__ == "__main__":
    raise SystemExit(main())
