"""Entry point of a stream worker process: ``modstream worker``, ``modstream-worker`` or
``python -m workers.worker``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faust.worker import Worker

from workers.cli_conventions import command, run_command


class QuietWorker(Worker):
    """A Faust worker without the terminal spinner. At WARNING and above Faust attaches the
    spinner by setting the root logger to DEBUG, so every debug call on the hot path builds a
    log record nobody reads (seen in bench/profile_pipeline.py); a service has no terminal."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spinner = None


@command("worker", help="Run a stream worker: every stage, with /metrics, /healthz and /readyz.")
def worker_command() -> None:
    # Settings are read here, after click has answered --help and --version.
    from workers.app import create_app
    from workers.logging_config import configure_logging, logging_dict
    from workers.settings import Settings

    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    # Faust's own web server serves /metrics, /healthz and /readyz (see workers.web);
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
