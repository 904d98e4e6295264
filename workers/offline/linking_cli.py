"""Reviewer commands for sock-puppet links, on a graph snapshot and an overrides file.

    python -m workers.offline.linking_cli explain A B --graph graph.json [--overrides FILE]
    python -m workers.offline.linking_cli split A B --reason "..." --reviewer NAME --overrides FILE
    python -m workers.offline.linking_cli merge A B --reason "..." --reviewer NAME --overrides FILE

A and B are pseudonymous author keys. ``explain`` prints the evidence trail for the pair: every
kind of evidence, each observation kept with its weight and time, and the combined score
against the threshold. ``split`` records that the two accounts are not one person: the linking
stage removes their link, never links them again (not even through a third account) and
recomputes their clusters. ``merge`` records that they are. Decisions are appended to the
overrides file as one JSON ``LinkOverride`` per line; nothing is ever rewritten, so the file is
the audit trail of reviewers' decisions. With ``--graph``, ``split`` and ``merge`` also show
the clusters the decision leaves behind.

Exit codes: 0 done, 2 bad arguments or unreadable input.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import orjson

from schemas.identity import LinkOverride, ordered_pair
from streams.linking.explain import explain_pair, render
from streams.linking.graph import IdentityGraph
from workers.cli_conventions import group, run_command, subcommand


class CliError(Exception):
    """Bad input a reviewer can fix; the message says how."""


@dataclass(frozen=True, slots=True)
class OverrideArgs:
    """A reviewer's split or merge, as given on the command line."""

    command: str
    author_a: str
    author_b: str
    reason: str
    reviewer: str
    overrides: Path
    graph: Path | None = None
    at_ms: int | None = None


@group("links", help="Explain sock-puppet links; record a reviewer's split or merge.")
def links_command() -> None:
    pass


@subcommand(links_command, "explain", help="print the evidence trail for two accounts")
@click.argument("author_a")
@click.argument("author_b")
@click.option(
    "--graph", type=click.Path(path_type=Path), required=True, help="graph snapshot (JSON)"
)
@click.option("--overrides", type=click.Path(path_type=Path), help="reviewers' decisions (JSONL)")
def explain_command(author_a: str, author_b: str, graph: Path, overrides: Path | None) -> int:
    return _reporting_errors(
        lambda: sys.stdout.write(
            render(explain_pair(_load_graph(graph, overrides), *_pair(author_a, author_b)))
        )
    )


def _override_command(action: str, what: str) -> None:
    @subcommand(links_command, action, help=f"record that two accounts are {what}")
    @click.argument("author_a")
    @click.argument("author_b")
    @click.option("--reason", required=True, help="why, in your words (kept for audit)")
    @click.option("--reviewer", required=True, help="your staff identifier")
    @click.option(
        "--overrides", type=click.Path(path_type=Path), required=True, help="file to append to"
    )
    @click.option("--graph", type=click.Path(path_type=Path), help="snapshot to show the effect on")
    @click.option("--at-ms", type=int, help="decision time, UTC epoch ms (default: the clock now)")
    def record_command(**params: Any) -> int:
        return _reporting_errors(lambda: _record_and_show(OverrideArgs(command=action, **params)))


_override_command("split", "not one person")
_override_command("merge", "one person")


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(links_command, argv, "modstream links")


def _reporting_errors(action: Callable[[], object]) -> int:
    try:
        action()
    except CliError as exc:
        sys.stderr.write(f"modstream links: {exc}\n")
        return 2
    return 0


def _record_and_show(args: OverrideArgs) -> None:
    decision = _record(args)
    sys.stdout.write(
        f"recorded {decision.action} of {decision.author_a} and {decision.author_b} "
        f"by {decision.reviewer} in {args.overrides}\n"
    )
    if args.graph is not None:
        _show_effect(_load_graph(args.graph, args.overrides), decision)


def _pair(author_a: str, author_b: str) -> tuple[str, str]:
    a, b = author_a.strip(), author_b.strip()
    if not a or not b or a == b:
        raise CliError("give two different author keys")
    return ordered_pair(a, b)


def _record(args: OverrideArgs) -> LinkOverride:
    a, b = _pair(args.author_a, args.author_b)
    # A reviewer's decision is an operational record, so the clock is read here, at the edge;
    # the graph orders decisions by this value and never reads a clock itself.
    at_ms = args.at_ms if args.at_ms is not None else time.time_ns() // 1_000_000
    try:
        decision = LinkOverride(
            author_a=a,
            author_b=b,
            action=args.command,
            reviewer=args.reviewer.strip(),
            reason=args.reason.strip(),
            at_ms=at_ms,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    try:
        with args.overrides.open("ab") as out:
            out.write(decision.to_bytes() + b"\n")
    except OSError as exc:
        raise CliError(f"cannot append to {args.overrides}: {exc.strerror}") from exc
    return decision


def _load_graph(path: Path, overrides: Path | None) -> IdentityGraph:
    try:
        graph = IdentityGraph.from_bytes(path.read_bytes())
    except OSError as exc:
        raise CliError(f"cannot read graph snapshot {path}: {exc.strerror}") from exc
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise CliError(f"{path} is not a graph snapshot: {exc}") from exc
    for decision in read_overrides(overrides) if overrides is not None else ():
        graph.override(decision)
    return graph


def read_overrides(path: Path) -> list[LinkOverride]:
    """Every decision in an overrides file, oldest first; a missing file holds none."""
    if not path.exists():
        return []
    decisions = []
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise CliError(f"cannot read overrides {path}: {exc.strerror}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            decisions.append(LinkOverride.from_bytes(line))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise CliError(f"{path} line {number} is not a LinkOverride: {exc}") from exc
    # Stable: decisions recorded in the same millisecond keep their file order.
    return sorted(decisions, key=lambda d: d.at_ms)


def _show_effect(graph: IdentityGraph, decision: LinkOverride) -> None:
    for author in (decision.author_a, decision.author_b):
        members = graph.members(author)
        if len(members) == 1:
            sys.stdout.write(f"{author}: linked to no other account\n")
        else:
            others = ", ".join(m for m in members if m != author)
            sys.stdout.write(f"{author}: in a cluster of {len(members)} with {others}\n")


if __name__ == "__main__":
    raise SystemExit(main())
