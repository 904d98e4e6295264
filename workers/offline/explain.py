"""``modstream explain``: the decision trail of one comment or one account, from the audit log.

    modstream explain x:1899112233445566 --namespace prod
    modstream explain 3f1c0d2e9a8b7c6d5e4f3a2b1c0d9e8f --decisions replay-3f9c/decisions.jsonl

The argument is a comment id, a pseudonymous author key or a decision id. Every matching
decision is listed in event-time order with what the policy promises an explanation of: the
clauses, the evidence (detector, span into the original text, label), the actions with their ids
and due times, the policy version and the input offset the decision came from. The comment text
itself is not in the audit log and is not shown; the span and offset say where to find it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import orjson

from schemas.action import Action, Decision
from schemas.codec import replace
from streams import topics as specs
from workers.cli_conventions import command, run_command
from workers.offline.audit import (
    COMMENT_STEP,
    AuditError,
    behaviour_text,
    decision_step,
    latest_by_id,
    read_decisions_file,
    read_decisions_topic,
)
from workers.settings import Settings


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def trail(decisions: Sequence[Decision], subject: str) -> list[Decision]:
    """The decisions about ``subject`` (comment id, author key or decision id), oldest first;
    on one instant, the comment's own decision before what its deadlines led to."""
    picked = [
        d
        for d in latest_by_id(decisions).values()
        if subject in (d.comment_id, d.author_key, d.decision_id)
    ]
    return sorted(
        picked,
        key=lambda d: (d.event_time_ms, decision_step(d) != COMMENT_STEP, d.comment_id, d.source),
    )


def render_text(
    subject: str, decisions: Sequence[Decision], actions: dict[str, Action] | None
) -> str:
    kinds = {"comment" if d.comment_id == subject else "account" for d in decisions}
    what = (
        "decision" if decisions and decisions[0].decision_id == subject else "/".join(sorted(kinds))
    )
    lines = [f"Decision trail for {what} {subject}: {len(decisions)} decision(s)", ""]
    for number, d in enumerate(decisions, 1):
        lines += [
            f"{number}. {_when(d.event_time_ms)} · {decision_step(d)} · {d.outcome}",
            f"   decision   {d.decision_id}",
            f"   comment    {d.comment_id}   author {d.author_key}",
            f"   policy     {d.policy_version}",
            f"   source     {d.source}",
            f"   clauses    {', '.join(d.clauses) or '—'}",
        ]
        if not d.findings:
            lines.append("   evidence   —")
        for i, f in enumerate(d.findings):
            head = "evidence" if i == 0 else ""
            label = f" label {f.label}" if f.label else ""
            lines.append(
                f"   {head:<10} {f.clause}: {f.detector} at [{f.start}, {f.end}){label} "
                f"(severity {f.severity}, confidence {f.confidence:g})"
            )
        for i, b in enumerate(d.behaviour):
            head = "behaviour" if i == 0 else ""
            lines.append(f"   {head:<10} {behaviour_text(b)}")
        if not d.action_ids:
            lines.append("   actions    —")
        for i, (action_id, kind) in enumerate(zip(d.action_ids, d.action_kinds, strict=True)):
            head = "actions" if i == 0 else ""
            detail = ""
            action = actions.get(action_id) if actions is not None else None
            if action is not None:
                target = "account" if not action.target_comment else "comment"
                detail = (
                    f", on the {target}, due {_when(action.due_at_ms)}, "
                    f"for {', '.join(action.reasons) or '—'}"
                )
            lines.append(f"   {head:<10} {kind} ({action_id}{detail})")
        lines.append("")
    return "\n".join(lines)


def render_json(decisions: Sequence[Decision], actions: dict[str, Action] | None) -> str:
    out: list[dict[str, Any]] = []
    for d in decisions:
        entry: dict[str, Any] = {"step": decision_step(d), "decision": d}
        if actions is not None:
            entry["actions"] = [actions[a] for a in d.action_ids if a in actions]
        out.append(entry)
    return orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n"


def _read_actions_file(path: Path) -> dict[str, Action]:
    found = {}
    for line in path.read_bytes().splitlines():
        if line.strip():
            action = Action.from_bytes(line)
            found[action.action_id] = action
    return found


async def _read_namespace(
    settings: Settings, with_actions: bool
) -> tuple[list[Decision], dict[str, Action] | None]:
    from workers.offline.replay import read_whole_topic

    decisions = await read_decisions_topic(settings)
    if not with_actions:
        return decisions, None
    records = await read_whole_topic(settings.kafka_bootstrap, settings.topic(specs.ACTIONS.name))
    found = {}
    for _, value, _ in records:
        action = Action.from_bytes(value)
        found[action.action_id] = action
    return decisions, found


@dataclass(frozen=True, slots=True)
class ExplainArgs:
    """Whose trail ``modstream explain`` prints, and from where."""

    subject: str
    namespace: str | None = None
    decisions: Path | None = None
    actions: Path | None = None
    no_actions: bool = False
    format: str = "text"
    bootstrap: str | None = None


@command("explain", help="The decision trail of one comment or account, from the audit log.")
@click.argument("subject")
@click.option("--namespace", help="read the decisions topic of this namespace")
@click.option(
    "--decisions", type=click.Path(path_type=Path), help="read a decisions JSONL file instead"
)
@click.option(
    "--actions",
    type=click.Path(path_type=Path),
    help="actions JSONL for due times and reasons (default: actions.jsonl beside --decisions)",
)
@click.option("--no-actions", is_flag=True, help="do not read the actions topic or file")
@click.option("--format", type=click.Choice(["text", "json"]), default="text")
@click.option("--bootstrap", help="Kafka bootstrap (default: MODSTREAM_KAFKA_BOOTSTRAP)")
def explain_command(**params: Any) -> int:
    args = ExplainArgs(**params)
    try:
        status, text = explain(args)
    except (AuditError, ValueError, OSError) as exc:
        sys.stderr.write(f"modstream explain: {exc}\n")
        return 2
    (sys.stdout if status == 0 else sys.stderr).write(text)
    return status


def explain(args: ExplainArgs) -> tuple[int, str]:
    actions: dict[str, Action] | None = None
    if args.decisions is not None:
        decisions = read_decisions_file(args.decisions)
        actions_path = args.actions or args.decisions.parent / "actions.jsonl"
        if not args.no_actions and actions_path.exists():
            actions = _read_actions_file(actions_path)
    else:
        settings = Settings.from_env()
        if args.namespace is not None:
            settings = replace(settings, namespace=args.namespace)
        if args.bootstrap:
            settings = replace(settings, kafka_bootstrap=args.bootstrap)
        decisions, actions = asyncio.run(_read_namespace(settings, not args.no_actions))
        if args.actions is not None:
            actions = _read_actions_file(args.actions)
    found = trail(decisions, args.subject)
    if not found:
        return 1, f"no decision about {args.subject} among {len(decisions)} decisions\n"
    if args.format == "json":
        return 0, render_json(found, actions)
    return 0, render_text(args.subject, found, actions)


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(explain_command, argv, "modstream explain")


if __name__ == "__main__":
    raise SystemExit(main())
