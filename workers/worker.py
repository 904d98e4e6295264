"""Entry point of a stream worker process: ``python -m workers.worker``."""

from __future__ import annotations

from faust.worker import Worker

from workers.app import create_app
from workers.logging_config import configure_logging
from workers.settings import Settings


def main() -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    app = create_app(settings)
    # Faust's own web server serves /metrics, /healthz and /readyz (see workers.web);
    # it starts before the consumer, so readiness can say "not ready" during table recovery.
    Worker(app, loglevel=settings.log_level.lower(), quiet=True).execute_from_commandline()


if __name__ == "__main__":
    main()
