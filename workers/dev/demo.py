"""``make demo``: the whole pipeline on this machine, with the sample feed, in about a minute.

Runs a worker, the executor and the moderator console against the local stack in a fresh
namespace, produces the sample feed (with a few malformed messages), waits until every input
has an outcome (a decision or a dead letter), prints what was decided, and stops the processes
it started. The console's address and a demo login (a password made for this run) are printed
first; from a terminal the demo keeps the console up until Enter is pressed.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import sys
import time
from collections import Counter
from collections.abc import Sequence

import click
import orjson

from schemas.action import Action
from schemas.comment import Comment
from streams import topics as specs
from workers.cli_conventions import command, run_command
from workers.console.auth import MODERATOR, SAFEGUARDING_LEAD, hash_password
from workers.dev.local_run import LocalPipeline, free_port
from workers.dev.sample_feed import sample_envelopes


async def run(count: int = 400) -> int:
    # The moderator console reads each case's comment from comments.assessed.
    pipeline = LocalPipeline(
        namespace=f"demo{int(time.time())}", extra_env={"MODSTREAM_EMIT_ASSESSED": "true"}
    )
    print(f"namespace {pipeline.namespace}; logs in {pipeline.rundir}")
    await pipeline.create_topics()
    pipeline.start_worker()
    pipeline.start_executor()
    password = secrets.token_urlsafe(12)
    users = [
        {"name": "demo", "role": SAFEGUARDING_LEAD, "password_hash": hash_password(password)},
        {"name": "demo-moderator", "role": MODERATOR, "password_hash": hash_password(password)},
    ]
    port = pipeline.start_console(
        orjson.dumps(users).decode(), port=_port_or_free(pipeline.settings.console_port)
    )
    console_line = (
        f"moderator console: http://127.0.0.1:{port}  login demo (safeguarding lead) or "
        f"demo-moderator, password {password}"
    )
    print(console_line)
    try:
        await pipeline.wait_ready()
        # The feed ends about now: live workers let wall-clock time pass deadlines (a feed
        # dated months ago would fire every notice and block at once), and the executor
        # holds actions due in the future (a feed dated ahead would show nothing performed).
        probe = sample_envelopes(count)
        span_ms = _event_time_span_ms(probe)
        feed = sample_envelopes(count, start_ms=int(time.time() * 1000) - span_ms, include_bad=True)
        started = time.monotonic()
        sent = await pipeline.produce(specs.RAW.name, feed)
        print(f"produced {sent} raw comments to {pipeline.topic(specs.RAW.name)}")
        outcomes = await pipeline.collect_outcomes(sent, timeout_s=180)
        elapsed = time.monotonic() - started
        decisions, letters = outcomes.decisions, outcomes.dead_letters
        later = len(outcomes.all_decisions) - len(decisions)
        actions_seen = await pipeline.collect([specs.ACTIONS.name], until=10**9, idle_s=3)
        actions = [Action.from_bytes(v) for _, v in actions_seen[specs.ACTIONS.name]]
        await asyncio.sleep(2)  # let the executor print its last lines
        print()
        print(
            f"inputs {sent}  decisions {len(decisions)} (+{later} later)  "
            f"dead letters {len(letters)}  "
            f"in {elapsed:.1f}s"
        )
        print("outcomes:", dict(Counter(d.outcome for d in decisions)))
        print("clauses: ", dict(Counter(c for d in decisions for c in d.clauses)))
        print("actions: ", dict(Counter(a.kind for a in actions)))
        print("dead letters:", dict(Counter(dl.reason for dl in letters)))
        print(f"executor output: {pipeline.rundir / 'executor.log'}")
        executor_lines = [
            ln for ln in pipeline.log_of("executor").splitlines() if ln.startswith("[dry-run]")
        ]
        print(f"\nfirst executor lines ({len(executor_lines)} performed):")
        for line in executor_lines[:25]:
            print("  " + line)
        print(f"\n{console_line}")
        if sys.stdin.isatty():
            await asyncio.to_thread(input, "the console stays up until you press Enter ")
        return 0 if len(decisions) + len(letters) >= sent else 1
    finally:
        await pipeline.close()


def _port_or_free(preferred: int) -> int:
    """The configured console port if nothing listens there (another demo may), else any."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            return free_port()
    return preferred


def _event_time_span_ms(feed: list[tuple[bytes, bytes]]) -> int:
    from streams.normalise.ingest import ingest
    from streams.normalise.pseudonymise import Pseudonymiser

    times = []
    pseudonymiser = Pseudonymiser(b"demo-span-only-key")
    for _, value in feed:
        out = ingest(
            value, source="", pseudonymiser=pseudonymiser, max_bytes=1 << 20, failed_at_ms=0
        )
        if isinstance(out, Comment):
            times.append(out.event_time_ms)
    return max(times) - min(times) + 60_000


@command("demo", help="The whole pipeline on the local stack with a sample feed.")
@click.option("--count", default=400, show_default=True, help="sample comments produced")
def demo_command(count: int) -> int:
    # MODSTREAM_DEMO_PLATFORM=fake: a webhook comment through to the (fake) platform's API.
    if os.environ.get("MODSTREAM_DEMO_PLATFORM", "") == "fake":
        from workers.dev.demo_platform import main as platform_demo

        return int(platform_demo() or 0)
    return asyncio.run(run(count))


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(demo_command, argv, "modstream demo")


if __name__ == "__main__":
    sys.exit(main())
