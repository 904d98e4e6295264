"""``modstream console``: the moderator console process, and its one helper command.

    modstream console                 # serve on MODSTREAM_CONSOLE_HOST:MODSTREAM_CONSOLE_PORT
    modstream console hash-password   # read a password on stdin, print its argon2id hash

The console folds the pipeline's topics into its view (``workers.console.projection``), serves
the queue and cases, and writes people's decisions to ``reviews``. Prometheus scrapes
``/metrics`` (and probes ``/healthz``, ``/readyz``) on MODSTREAM_CONSOLE_METRICS_PORT, a port
of its own (``workers.console.ops_app``), so that every route on the console's port needs a
signed-in person.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import click
from aiohttp import web

from streams.enforce import config as enforce_config
from streams.policy.loader import load_policy
from workers.cli_conventions import command, run_command
from workers.console import auth
from workers.console.app import AccessLog, Console, build_app
from workers.console.kafka_io import ConsoleFeed, KafkaReviewSink
from workers.console.metrics import ConsoleMetrics
from workers.console.ops_app import build_ops_app
from workers.console.projection import Projection
from workers.evidence_store import EvidenceError, EvidenceStore
from workers.settings import Settings, SettingsError

log = logging.getLogger("modstream.console")


@command("console", help="The moderator console: review queue, cases, decisions (web).")
@click.argument("action", required=False, type=click.Choice(["hash-password"]))
def console_command(action: str | None) -> int:
    """``modstream console`` serves the console; ``modstream console hash-password`` reads a
    password (stdin or prompt) and prints its argon2id hash for the users file."""
    if action == "hash-password":
        password = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else ""
        if not password:
            password = getpass.getpass("password: ")
        if len(password) < 12:
            sys.stderr.write("modstream console: use a password of at least 12 characters\n")
            return 2
        sys.stdout.write(auth.hash_password(password) + "\n")
        return 0
    from workers.logging_config import configure_logging

    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        users = auth.load_users(settings.console_users_file, settings.console_users)
        if settings.console_trusted_header and not settings.console_trusted_proxies:
            raise SettingsError(
                "MODSTREAM_CONSOLE_TRUSTED_HEADER needs MODSTREAM_CONSOLE_TRUSTED_PROXIES: "
                "the addresses of the proxy that sets it"
            )
    except (SettingsError, auth.UsersError) as exc:
        sys.stderr.write(f"modstream console: {exc}\n")
        return 2
    asyncio.run(serve(settings, users))
    return 0


async def serve(settings: Settings, users: dict[str, auth.User]) -> None:
    policy = load_policy(settings.policy_path)
    enforcement = enforce_config.from_policy(policy)
    projection = Projection(
        procedures={c.id: c.procedure for c in policy.clauses.values()},
        monitoring=enforcement.monitoring,
    )
    metrics = ConsoleMetrics.create()
    try:
        evidence: EvidenceStore | None = EvidenceStore.from_settings(settings)
    except (EvidenceError, OSError) as exc:
        # The console still serves the queue; it shows no text it could not log a view of.
        log.error("evidence store unavailable (%s): comment text will not be shown", exc)
        evidence = None
    sink = KafkaReviewSink(settings)
    await sink.start()
    feed = ConsoleFeed(settings, projection, metrics)
    console = Console(
        projection=projection,
        users=users,
        sessions=auth.Sessions(settings.console_session_minutes * 60_000, _wall_ms),
        reviews=sink,
        evidence=evidence,
        access_log=AccessLog(Path(settings.console_access_log)),
        metrics=metrics,
        titles={c.id: c.title for c in policy.clauses.values()},
        trusted_header=settings.console_trusted_header,
        trusted_proxies=frozenset(settings.console_trusted_proxies),
        session_seconds=settings.console_session_minutes * 60,
        clock=_wall_ms,
        caught_up=feed.caught_up.is_set,
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stopping.set)
    feeding = asyncio.create_task(feed.run(stopping))
    site_runner = web.AppRunner(build_app(console), access_log=None)
    metrics_runner = web.AppRunner(build_ops_app(console), access_log=None)
    await site_runner.setup()
    await metrics_runner.setup()
    await web.TCPSite(site_runner, settings.console_host, settings.console_port).start()
    await web.TCPSite(metrics_runner, settings.console_host, settings.console_metrics_port).start()
    log.info(
        "console on http://%s:%d (metrics on port %d)",
        settings.console_host,
        settings.console_port,
        settings.console_metrics_port,
    )
    try:
        done, _ = await asyncio.wait(
            {feeding, asyncio.ensure_future(stopping.wait())},
            return_when=asyncio.FIRST_COMPLETED,
        )
        if feeding in done:
            feeding.result()  # the feed failed: stop with its error rather than serve stale data
    finally:
        stopping.set()
        with contextlib.suppress(asyncio.CancelledError):
            await feeding
        await site_runner.cleanup()
        await metrics_runner.cleanup()
        await sink.stop()


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(console_command, argv, "modstream console")


if __name__ == "__main__":
    sys.exit(main())
