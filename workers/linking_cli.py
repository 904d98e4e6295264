"""Reviewer commands for sock-puppet links, on a graph snapshot and an overrides file.

    python -m workers.linking_cli explain A B --graph graph.json [--overrides overrides.jsonl]
    python -m workers.linking_cli split A B --reason "..." --reviewer NAME --overrides FILE
    python -m workers.linking_cli merge A B --reason "..." --reviewer NAME --overrides FILE

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

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import orjson

from schemas.identity import LinkOverride, ordered_pair
from streams.linking.explain import explain_pair, render
from streams.linking.graph import IdentityGraph


class CliError(Exception):
    """Bad input a reviewer can fix; the message says how."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "explain":
            graph = _load_graph(args.graph, args.overrides)
            sys.stdout.write(render(explain_pair(graph, *_pair(args))))
        else:
            decision = _record(args)
            sys.stdout.write(
                f"recorded {decision.action} of {decision.author_a} and {decision.author_b} "
                f"by {decision.reviewer} in {args.overrides}\n"
            )
            if args.graph is not None:
                _show_effect(_load_graph(args.graph, args.overrides), decision)
    except CliError as exc:
        sys.stderr.write(f"linking_cli: {exc}\n")
        return 2
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m workers.linking_cli",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    explain = sub.add_parser("explain", help="print the evidence trail for two accounts")
    explain.add_argument("author_a")
    explain.add_argument("author_b")
    explain.add_argument("--graph", type=Path, required=True, help="graph snapshot (JSON)")
    explain.add_argument("--overrides", type=Path, help="reviewers' decisions (JSONL)")
    for action, what in (("split", "not one person"), ("merge", "one person")):
        cmd = sub.add_parser(action, help=f"record that two accounts are {what}")
        cmd.add_argument("author_a")
        cmd.add_argument("author_b")
        cmd.add_argument("--reason", required=True, help="why, in your words (kept for audit)")
        cmd.add_argument("--reviewer", required=True, help="your staff identifier")
        cmd.add_argument("--overrides", type=Path, required=True, help="file to append to")
        cmd.add_argument("--graph", type=Path, help="snapshot to show the effect on")
        cmd.add_argument(
            "--at-ms", type=int, help="decision time, UTC epoch ms (default: the clock now)"
        )
    return parser


def _pair(args: argparse.Namespace) -> tuple[str, str]:
    a, b = args.author_a.strip(), args.author_b.strip()
    if not a or not b or a == b:
        raise CliError("give two different author keys")
    return ordered_pair(a, b)


def _record(args: argparse.Namespace) -> LinkOverride:
    a, b = _pair(args)
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
