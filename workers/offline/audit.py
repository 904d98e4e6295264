"""``modstream audit diff``: what a replay decided against what was decided at the time, and why.

    modstream audit diff --recorded prod --replayed replay-3f9c/decisions.jsonl --out diff.md
    modstream audit diff --recorded old/decisions.jsonl --replayed new/decisions.jsonl --format html

``--recorded`` is a decisions JSONL file or a namespace whose ``decisions`` topic is read (with
no consumer group). When the replayed file sits beside its replay's ``summary.json``, recorded
decisions are limited to the inputs that replay covered, so a partial replay is not reported as
thousands of missing decisions.

Decisions are matched by decision id. Ids include the policy version, so where the versions
differ they are matched by comment and step instead (the comment's own decision, the notice,
block or review a deadline led to, or a campaign notice). A pair is identical, equivalent
(nothing differs but the version and ids, or a source on an intermediate topic, which a replay
cannot have), or differs, with one reason:

- policy change: the two were made under different policy versions;
- detector change: same version, different findings (word lists ship with the code, so a new
  list changes findings without changing the policy version);
- state difference: same findings, different outcome, actions or behaviour: what the author had
  done before differed (a replay that starts mid-history, a deadline that fired at another time).

Exit status: 0 when nothing differs, 1 when something does, 2 when the inputs cannot be read.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import orjson

from schemas.action import TRIGGER_LINKED, TRIGGER_REVIEW, Decision
from schemas.codec import replace
from schemas.verdict import BehaviourFinding, Finding
from streams import topics as specs
from streams.enforce.state import STAGES
from workers.cli_conventions import group, parse, run_command, subcommand
from workers.settings import DEFAULT_POLICY, Settings

POLICY_CHANGE = "policy change"
DETECTOR_CHANGE = "detector change"
STATE_DIFFERENCE = "state difference"
REASONS = (POLICY_CHANGE, DETECTOR_CHANGE, STATE_DIFFERENCE)
# Why a decision is on one side only, by its step (docs/replay.md, "What a replay cannot
# reproduce"): the cause each kind of step can have.
LINKING_DIFFERENCE = "linking difference"  # the two runs' identity graphs linked differently
ONE_SIDED_CAUSES = {
    "comment": "input on one side only (range, or a dead letter)",
    "reviewed": "review on one side only (range)",
    "linked_block": LINKING_DIFFERENCE,
}
COMMENT_STEP = "comment"
LINKED_STEP = "linked_block"
_SOURCE = re.compile(r"^(?P<topic>.+)\[(?P<partition>\d+)\]@(?P<offset>\d+)$")


class AuditError(Exception):
    """The decisions to compare cannot be read; the message says which and why."""


# --- reading --------------------------------------------------------------------------------


def read_decisions_file(path: Path) -> list[Decision]:
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise AuditError(f"{path}: {exc.strerror}") from exc
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(Decision.from_bytes(line))
        except (ValueError, TypeError, KeyError) as exc:
            raise AuditError(f"{path}:{number} is not a Decision ({type(exc).__name__})") from exc
    return out


async def read_decisions_topic(settings: Settings) -> list[Decision]:
    from workers.offline.replay import (
        read_whole_topic,  # Kafka client only when a namespace is given
    )

    topic = settings.topic(specs.DECISIONS.name)
    try:
        records = await read_whole_topic(settings.kafka_bootstrap, topic)
    except Exception as exc:
        raise AuditError(f"cannot read {topic}: {exc}") from exc
    out = []
    for _, value, source in records:
        try:
            out.append(Decision.from_bytes(value))
        except (ValueError, TypeError, KeyError) as exc:
            raise AuditError(f"{source} is not a Decision ({type(exc).__name__})") from exc
    return out


def load_decisions(
    spec: str, settings: Callable[[], Settings], bootstrap: str | None = None
) -> tuple[list[Decision], str]:
    """A path that exists is a JSONL file; anything else names a namespace. Settings (and so
    the environment) are only needed for a namespace: two files can be compared anywhere."""
    path = Path(spec)
    if path.exists():
        return read_decisions_file(path), str(path)
    namespaced = replace(settings(), namespace=spec)
    if bootstrap:
        namespaced = replace(namespaced, kafka_bootstrap=bootstrap)
    decisions = asyncio.run(read_decisions_topic(namespaced))
    return decisions, f"topic {namespaced.topic(specs.DECISIONS.name)}"


def latest_by_id(decisions: Iterable[Decision]) -> dict[str, Decision]:
    # The decisions topic is compacted by decision id: the last record of an id stands.
    return {d.decision_id: d for d in decisions}


@dataclass(frozen=True, slots=True)
class SourceRange:
    topic: str
    offsets: dict[int, tuple[int, int]]  # partition -> [from, to)
    # The reviews read with the comments: a review's decision names its reviews offset.
    reviews: SourceRange | None = None

    def covers(self, source: str) -> bool:
        match = _SOURCE.match(source)
        if match is None or match["topic"] != self.topic:
            return self.reviews is not None and self.reviews.covers(source)
        span = self.offsets.get(int(match["partition"]))
        return span is not None and span[0] <= int(match["offset"]) < span[1]

    def describe(self) -> str:
        spans = ", ".join(
            f"[{p}] {a}..{b - 1}" for p, (a, b) in sorted(self.offsets.items()) if b > a
        )
        more = f"; {self.reviews.describe()}" if self.reviews is not None else ""
        return f"{self.topic} {spans}{more}"

    @classmethod
    def of_replay(cls, decisions_file: Path) -> SourceRange | None:
        """The range a replay covered, from the summary.json written beside its decisions."""
        summary_path = decisions_file.parent / "summary.json"
        if not summary_path.exists():
            return None
        summary = orjson.loads(summary_path.read_bytes())
        source = summary["input"]
        reviews = source.get("reviews")  # absent from replays made before reviews were read
        return cls(
            topic=source["topic"],
            offsets=_spans(source["ranges"]),
            reviews=cls(reviews["topic"], _spans(reviews["ranges"])) if reviews else None,
        )


def _spans(ranges: list[dict[str, int]]) -> dict[int, tuple[int, int]]:
    return {r["partition"]: (r["from_offset"], r["to_offset"]) for r in ranges}


# --- matching -------------------------------------------------------------------------------


def _digest(*parts: str) -> str:
    # The id scheme of streams.enforce.logic (_digest); test_audit pins the two together.
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def decision_step(decision: Decision) -> str:
    """ "comment" for the decision on the comment itself; else what moved its case: the stage
    a deadline or an executor result moved it to ("noticed", "blocked", "review"), the
    behaviour found about it later ("behaviour:cross_author_spamming"), or its block reaching
    a linked account ("linked_block")."""
    comment, version = decision.comment_id, decision.policy_version
    if decision.trigger == TRIGGER_REVIEW:
        return "reviewed"  # a person's decision in the console (reviews topic)
    if decision.trigger == TRIGGER_LINKED:
        # A linked account's block, one per account: the account is only in the id (and the
        # action), so across policy versions such decisions of one comment pair in any order;
        # they differ in nothing else.
        return LINKED_STEP
    if decision.decision_id == _digest(comment, version):
        return COMMENT_STEP
    for stage in STAGES:
        if decision.decision_id == _digest(comment, version, stage):
            return stage
    kinds = sorted({b.kind for b in decision.behaviour})
    if kinds and decision.decision_id == _digest(comment, version, *kinds):
        return "behaviour:" + "+".join(kinds)
    return "unknown"


def one_sided_cause(decision: Decision) -> str:
    """Why a decision can be on one side only: a linked account's block, because the accounts
    were linked on one side only (docs/replay.md, "Linking in event time", the bounds left); a
    campaign decision, because copies met on one side only ("Copy-paste campaigns, at the
    edges"); a deadline's, because timers fired to another point ("Deadline timing")."""
    step = decision_step(decision)
    if step.startswith("behaviour:"):
        return "campaign copies met on one side only"
    if step in STAGES:
        return "deadline fired on one side only"
    return ONE_SIDED_CAUSES.get(step, STATE_DIFFERENCE)


def is_raw_source(source: str) -> bool:
    match = _SOURCE.match(source)
    return match is not None and match["topic"].endswith(specs.RAW.name)


def substance(decision: Decision) -> tuple[Any, ...]:
    """What was decided, without the ids and version that name it, nor the source."""
    return (
        decision.comment_id,
        decision.author_key,
        decision.clauses,
        decision.findings,
        decision.behaviour,
        decision.action_kinds,
        decision.outcome,
        decision.event_time_ms,
    )


def equivalent(recorded: Decision, replayed: Decision) -> bool:
    """The same decision, told apart only by what names it: policy version and ids, or the
    offset on an intermediate topic (a campaign notice's fingerprint slice) that a replay,
    which has no intermediate topics, cannot reproduce. Raw-input offsets must agree."""
    if substance(recorded) != substance(replayed):
        return False
    both_raw = is_raw_source(recorded.source) and is_raw_source(replayed.source)
    return recorded.source == replayed.source or not both_raw


def reason_for(recorded: Decision, replayed: Decision) -> str:
    if recorded.policy_version != replayed.policy_version:
        return POLICY_CHANGE
    if recorded.findings != replayed.findings:
        return DETECTOR_CHANGE
    return STATE_DIFFERENCE


@dataclass(frozen=True, slots=True)
class Difference:
    recorded: Decision
    replayed: Decision
    reason: str
    step: str


@dataclass
class DiffResult:
    recorded_label: str
    replayed_label: str
    recorded_total: int
    replayed_total: int
    identical: int = 0
    equivalent: int = 0  # see equivalent(): nothing differs but the names
    differences: list[Difference] = field(default_factory=list)
    only_recorded: list[Decision] = field(default_factory=list)
    only_replayed: list[Decision] = field(default_factory=list)
    clause_counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    action_counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    versions: dict[str, tuple[int, int]] = field(default_factory=dict)
    policy_files: dict[str, str] = field(default_factory=dict)  # version -> file, where known
    range_note: str = ""

    @property
    def by_reason(self) -> dict[str, int]:
        counts = Counter(d.reason for d in self.differences)
        return {r: counts[r] for r in REASONS}

    @property
    def differs(self) -> bool:
        return bool(self.differences or self.only_recorded or self.only_replayed)


def diff(
    recorded: Iterable[Decision],
    replayed: Iterable[Decision],
    *,
    recorded_label: str = "recorded",
    replayed_label: str = "replayed",
) -> DiffResult:
    rec = latest_by_id(recorded)
    rep = latest_by_id(replayed)
    result = DiffResult(recorded_label, replayed_label, len(rec), len(rep))
    # (comment, step) -> recorded decisions without an id match, oldest first.
    unmatched_rec: dict[tuple[str, str], list[Decision]] = {}
    for decision_id, old in rec.items():
        new = rep.get(decision_id)
        if new is None:
            unmatched_rec.setdefault((old.comment_id, decision_step(old)), []).append(old)
        elif old == new:
            result.identical += 1
        elif equivalent(old, new):
            result.equivalent += 1
        else:
            result.differences.append(
                Difference(old, new, reason_for(old, new), decision_step(old))
            )
    for decision_id, new in rep.items():
        if decision_id in rec:
            continue
        step = decision_step(new)
        candidates = unmatched_rec.get((new.comment_id, step))
        old_or_none = candidates.pop(0) if candidates else None
        if old_or_none is None:
            result.only_replayed.append(new)
        elif equivalent(old_or_none, new):
            result.equivalent += 1
        else:
            result.differences.append(
                Difference(old_or_none, new, reason_for(old_or_none, new), step)
            )
    result.only_recorded = [d for left in unmatched_rec.values() for d in left]
    result.differences.sort(key=lambda d: _order(d.recorded))
    result.only_recorded.sort(key=_order)
    result.only_replayed.sort(key=_order)
    result.clause_counts = _paired_counts(
        Counter(c for d in rec.values() for c in d.clauses),
        Counter(c for d in rep.values() for c in d.clauses),
    )
    result.action_counts = _paired_counts(
        Counter(k for d in rec.values() for k in d.action_kinds),
        Counter(k for d in rep.values() for k in d.action_kinds),
    )
    result.versions = _paired_counts(
        Counter(d.policy_version for d in rec.values()),
        Counter(d.policy_version for d in rep.values()),
    )
    return result


def _order(d: Decision) -> tuple[int, str, str]:
    return (d.event_time_ms, d.comment_id, d.decision_id)


def _paired_counts(left: Counter[str], right: Counter[str]) -> dict[str, tuple[int, int]]:
    return {k: (left[k], right[k]) for k in sorted(left.keys() | right.keys())}


def policy_files(directories: Sequence[Path]) -> dict[str, str]:
    """Policy version (content hash, as streams.policy computes it) → a file with that content."""
    found: dict[str, str] = {}
    for directory in directories:
        paths = [directory] if directory.is_file() else sorted(directory.glob("*.y*ml"))
        for path in paths:
            version = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
            found.setdefault(version, str(path))
    return found


# --- rendering ------------------------------------------------------------------------------


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def finding_cells(f: Finding) -> list[str]:
    return [
        f.clause,
        f.detector,
        f"{f.start}–{f.end}",
        f.label,
        f.severity,
        f"{f.confidence:g}",
    ]


FINDING_HEADER = ["clause", "detector", "span", "label", "severity", "confidence"]


def behaviour_text(b: BehaviourFinding) -> str:
    return f"{b.kind}: {b.count} in {b.window_s}s (threshold {b.threshold})"


def _side_by_side(
    left: Sequence[Any], right: Sequence[Any]
) -> list[tuple[str, Any]]:  # (where, item): items on both sides once, in order
    rows: list[tuple[str, Any]] = []
    right_left = list(right)
    for item in left:
        if item in right_left:
            right_left.remove(item)
            rows.append(("both", item))
        else:
            rows.append(("recorded only", item))
    rows.extend(("replayed only", item) for item in right_left)
    return rows


def _facts(d: Decision) -> dict[str, str]:
    return {
        "decision id": d.decision_id,
        "policy version": d.policy_version,
        "outcome": d.outcome,
        "clauses": ", ".join(d.clauses) or "—",
        "actions": ", ".join(d.action_kinds) or "—",
        "behaviour": "; ".join(behaviour_text(b) for b in d.behaviour) or "—",
        "event time": _when(d.event_time_ms),
        "source": d.source,
    }


class Markdown:
    # Values come from policy files, platforms' ids and labels: backslash-escape what inline
    # Markdown or a GFM table cell gives meaning to, and make would-be HTML plain text. An
    # underscore inside a word (reply_ask_removal) cannot emphasise, so it is left readable.
    _SPECIAL = re.compile(r"[\\`*\[\]<>|~]|(?<!\w)_|_(?!\w)")

    @classmethod
    def esc(cls, value: object) -> str:
        text = " ".join(str(value).split())  # no newline may end a table row early
        return cls._SPECIAL.sub(lambda m: "\\" + m.group(), text.replace("&", "&amp;"))

    @classmethod
    def table(cls, header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
        lines = [
            "| " + " | ".join(cls.esc(h) for h in header) + " |",
            "|" + "---|" * len(header),
        ]
        lines += ["| " + " | ".join(cls.esc(c) for c in row) + " |" for row in rows]
        return [*lines, ""]


def render_markdown(result: DiffResult, *, max_items: int = 500) -> str:
    md = Markdown
    out = [
        "# Replay audit",
        "",
        f"- recorded: {md.esc(result.recorded_label)}",
        f"- replayed: {md.esc(result.replayed_label)}",
    ]
    if result.range_note:
        out.append(f"- compared: {md.esc(result.range_note)}")
    out += ["", "## Summary", ""]
    out += md.table(["", "count"], _summary_rows(result))
    out += ["## Policy versions", ""]
    out += md.table(["version", "recorded", "replayed", "policy file"], _version_rows(result))
    out += [md.esc(note) for note in _version_notes(result)]
    out += ["", "## Decisions per clause", ""]
    out += md.table(["clause", "recorded", "replayed", "change"], _count_rows(result.clause_counts))
    out += ["## Actions per kind", ""]
    out += md.table(["action", "recorded", "replayed", "change"], _count_rows(result.action_counts))
    out += ["## Differing decisions", ""]
    if not result.differences:
        out += ["None.", ""]
    for diff_ in result.differences[:max_items]:
        rec, rep = diff_.recorded, diff_.replayed
        out += [
            f"### {md.esc(rec.comment_id)} · {md.esc(diff_.step)} · {md.esc(diff_.reason)}",
            "",
            f"author {md.esc(rec.author_key)}",
            "",
        ]
        facts_rec, facts_rep = _facts(rec), _facts(rep)
        out += md.table(
            ["", "recorded", "replayed"],
            [[k, facts_rec[k], facts_rep[k]] for k in facts_rec],
        )
        out += md.table(
            ["evidence", *FINDING_HEADER],
            [[where, *finding_cells(f)] for where, f in _side_by_side(rec.findings, rep.findings)],
        )
    out += _more(len(result.differences), max_items)
    for title, items in (
        ("Only in the recorded decisions", result.only_recorded),
        ("Only in the replayed decisions", result.only_replayed),
    ):
        out += [f"## {title}", ""]
        if not items:
            out += ["None.", ""]
            continue
        out += md.table(
            ONE_SIDED_HEADER,
            [_brief(d) for d in items[:max_items]],
        )
        out += _more(len(items), max_items)
    return "\n".join(out)


def _more(total: int, shown: int) -> list[str]:
    return (
        [f"… and {total - shown} more not shown (raise --max-items).", ""] if total > shown else []
    )


ONE_SIDED_HEADER = [
    "comment",
    "step",
    "cause",
    "event time",
    "clauses",
    "actions",
    "outcome",
    "source",
]


def _brief(d: Decision) -> list[str]:
    return [
        d.comment_id,
        decision_step(d),
        one_sided_cause(d),
        _when(d.event_time_ms),
        ", ".join(d.clauses) or "—",
        ", ".join(d.action_kinds) or "—",
        d.outcome,
        d.source,
    ]


def _summary_rows(result: DiffResult) -> list[list[object]]:
    rows: list[list[object]] = [
        ["recorded decisions", result.recorded_total],
        ["replayed decisions", result.replayed_total],
        ["identical", result.identical],
        ["equivalent (other policy version, or a source replay cannot have)", result.equivalent],
        ["differing", len(result.differences)],
    ]
    rows += [[f"differing: {reason}", n] for reason, n in result.by_reason.items()]
    rows += [
        ["only recorded", len(result.only_recorded)],
        ["only replayed", len(result.only_replayed)],
    ]
    return rows


def _version_rows(result: DiffResult) -> list[list[object]]:
    return [
        [v, rec, rep, result.policy_files.get(v, "not found")]
        for v, (rec, rep) in result.versions.items()
    ]


def _version_notes(result: DiffResult) -> list[str]:
    missing = [v for v, (rec, _) in result.versions.items() if rec and v not in result.policy_files]
    return [
        f"No policy file with version {v} was found, so the decisions of the day cannot be "
        "replayed under their own policy: restore that file (for example from version control) "
        "and pass it to modstream replay --policy."
        for v in missing
    ]


def _count_rows(counts: dict[str, tuple[int, int]]) -> list[list[object]]:
    return [[k, a, b, f"{b - a:+d}" if a != b else ""] for k, (a, b) in counts.items()]


def render_html(result: DiffResult, *, max_items: int = 500) -> str:
    def e(value: object) -> str:
        return html.escape(str(value), quote=True)

    def table(header: Sequence[str], rows: Iterable[Sequence[object]], cls: str = "") -> str:
        head = "".join(f"<th>{e(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
        klass = f' class="{e(cls)}"' if cls else ""
        return f"<table{klass}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Replay audit</title>',
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
        "margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left;"
        "vertical-align:top}.diff td:nth-child(2){background:#fff4f4}"
        ".diff td:nth-child(3){background:#f4fff4}</style></head><body>",
        "<h1>Replay audit</h1>",
        f"<ul><li>recorded: {e(result.recorded_label)}</li>"
        f"<li>replayed: {e(result.replayed_label)}</li>"
        + (f"<li>compared: {e(result.range_note)}</li>" if result.range_note else "")
        + "</ul>",
        "<h2>Summary</h2>",
        table(["", "count"], _summary_rows(result)),
        "<h2>Policy versions</h2>",
        table(["version", "recorded", "replayed", "policy file"], _version_rows(result)),
        *(f"<p>{e(note)}</p>" for note in _version_notes(result)),
        "<h2>Decisions per clause</h2>",
        table(["clause", "recorded", "replayed", "change"], _count_rows(result.clause_counts)),
        "<h2>Actions per kind</h2>",
        table(["action", "recorded", "replayed", "change"], _count_rows(result.action_counts)),
        "<h2>Differing decisions</h2>",
    ]
    if not result.differences:
        parts.append("<p>None.</p>")
    for diff_ in result.differences[:max_items]:
        rec, rep = diff_.recorded, diff_.replayed
        facts_rec, facts_rep = _facts(rec), _facts(rep)
        parts += [
            f"<h3>{e(rec.comment_id)} · {e(diff_.step)} · {e(diff_.reason)}</h3>",
            f"<p>author {e(rec.author_key)}</p>",
            table(
                ["", "recorded", "replayed"],
                [[k, facts_rec[k], facts_rep[k]] for k in facts_rec],
                "diff",
            ),
            table(
                ["evidence", *FINDING_HEADER],
                [
                    [where, *finding_cells(f)]
                    for where, f in _side_by_side(rec.findings, rep.findings)
                ],
            ),
        ]
    parts += [f"<p>{e(line)}</p>" for line in _more(len(result.differences), max_items) if line]
    for title, items in (
        ("Only in the recorded decisions", result.only_recorded),
        ("Only in the replayed decisions", result.only_replayed),
    ):
        parts.append(f"<h2>{e(title)}</h2>")
        if not items:
            parts.append("<p>None.</p>")
            continue
        parts.append(
            table(
                ONE_SIDED_HEADER,
                [_brief(d) for d in items[:max_items]],
            )
        )
        parts += [f"<p>{e(line)}</p>" for line in _more(len(items), max_items) if line]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def result_json(result: DiffResult) -> dict[str, Any]:
    return {
        "recorded": result.recorded_label,
        "replayed": result.replayed_label,
        "compared": result.range_note,
        "recorded_total": result.recorded_total,
        "replayed_total": result.replayed_total,
        "identical": result.identical,
        "equivalent": result.equivalent,
        "differing": len(result.differences),
        "by_reason": result.by_reason,
        "only_recorded": [d.decision_id for d in result.only_recorded],
        "only_replayed": [d.decision_id for d in result.only_replayed],
        "only_recorded_by_cause": dict(Counter(map(one_sided_cause, result.only_recorded))),
        "only_replayed_by_cause": dict(Counter(map(one_sided_cause, result.only_replayed))),
        "differences": [
            {
                "comment_id": d.recorded.comment_id,
                "step": d.step,
                "reason": d.reason,
                # As the decisions topic carries them (a Decision is not JSON by itself).
                "recorded": orjson.loads(d.recorded.to_bytes()),
                "replayed": orjson.loads(d.replayed.to_bytes()),
            }
            for d in result.differences
        ],
        "clauses": {k: list(v) for k, v in result.clause_counts.items()},
        "actions": {k: list(v) for k, v in result.action_counts.items()},
        "versions": {k: list(v) for k, v in result.versions.items()},
        "policy_files": result.policy_files,
    }


# --- command line ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DiffArgs:
    """What ``modstream audit diff`` was asked to compare, and how to report it."""

    recorded: str
    replayed: Path
    format: str = "md"
    out: Path | None = None
    policy_dir: tuple[Path, ...] = ()
    all: bool = False
    max_items: int = 500
    bootstrap: str | None = None


@group("audit", help="Compare decisions: a replay's against those recorded at the time.")
def audit_command() -> None:
    pass


@subcommand(audit_command, "diff", help="recorded vs replayed decisions, with reasons")
@click.option("--recorded", required=True, help="decisions JSONL file, or a namespace")
@click.option(
    "--replayed", required=True, type=click.Path(path_type=Path), help="decisions JSONL of a replay"
)
@click.option("--format", type=click.Choice(["md", "html", "json"]), default="md")
@click.option(
    "--out", type=click.Path(path_type=Path), help="write the report here (default: stdout)"
)
@click.option(
    "--policy-dir",
    type=click.Path(path_type=Path),
    multiple=True,
    help="where to look for the policy files of recorded versions (default: deploy/policy)",
)
@click.option(
    "--all",
    is_flag=True,
    help="compare every recorded decision, not just those of the replayed range",
)
@click.option("--max-items", type=int, default=500, help="differences listed in full")
@click.option("--bootstrap", help="Kafka bootstrap (default: MODSTREAM_KAFKA_BOOTSTRAP)")
def diff_command(**params: Any) -> int:
    return _diff_main(DiffArgs(**params))


def parse_args(argv: Sequence[str]) -> DiffArgs:
    """``modstream audit`` arguments (``diff ...``) as the command would see them."""
    if not argv or argv[0] != "diff":
        raise click.UsageError("the only audit command is diff")
    return DiffArgs(**parse(diff_command, argv[1:], "modstream audit diff"))


def run_diff(
    args: DiffArgs, settings: Callable[[], Settings] = Settings.from_env
) -> tuple[DiffResult, str]:
    recorded, recorded_label = load_decisions(args.recorded, settings, args.bootstrap)
    replayed = read_decisions_file(args.replayed)
    note = ""
    scope = None if args.all else SourceRange.of_replay(args.replayed)
    if scope is not None:
        before = len(recorded)
        recorded = [d for d in recorded if scope.covers(d.source)]
        note = f"recorded decisions on inputs {scope.describe()} ({len(recorded)} of {before})"
    result = diff(
        recorded, replayed, recorded_label=recorded_label, replayed_label=str(args.replayed)
    )
    result.range_note = note
    result.policy_files = policy_files(args.policy_dir or [DEFAULT_POLICY.parent])
    if args.format == "html":
        text = render_html(result, max_items=args.max_items)
    elif args.format == "json":
        text = orjson.dumps(result_json(result), option=orjson.OPT_INDENT_2).decode() + "\n"
    else:
        text = render_markdown(result, max_items=args.max_items)
    return result, text


def main(argv: Sequence[str] | None = None) -> int:
    return run_command(audit_command, argv, "modstream audit")


def _diff_main(args: DiffArgs) -> int:
    try:
        result, text = run_diff(args)
    except (AuditError, ValueError) as exc:
        sys.stderr.write(f"modstream audit: {exc}\n")
        return 2
    if args.out:
        args.out.write_text(text, encoding="utf-8")
        counts = result.by_reason
        sys.stderr.write(
            f"wrote {args.out}: {len(result.differences)} differing "
            f"({', '.join(f'{k} {v}' for k, v in counts.items())}), "
            f"{len(result.only_recorded)} only recorded, "
            f"{len(result.only_replayed)} only replayed\n"
        )
    else:
        sys.stdout.write(text)
    return 1 if result.differs else 0


if __name__ == "__main__":
    raise SystemExit(main())
