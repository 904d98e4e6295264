"""What the moderator console costs: folding the topics at start-up, and building the queue.

The console reads ``decisions``, ``actions`` and ``actions.results`` from the start and folds
them into its projection; every queue page walks every case. This bench makes the records the
real enforce logic produces for ``--comments`` comments (a fifth of them calling for something,
the rest no action, as on the board's pages), then measures in one run:
  - baseline: decoding every record (``from_bytes``), the least any reader of the topics pays;
  - fold: decoding plus ``Projection.add_*``, records/s and the ratio to the baseline;
  - queue: one ``Projection.queue(now)`` over all cases (what each queue page costs), and one
    ``Projection.case()``.

    python bench/bench_console.py [--comments 50000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from schemas.action import Action, ActionResult, Decision
from schemas.comment import Comment
from schemas.verdict import Finding, Verdict
from streams.enforce import config as enforce_config
from streams.enforce.logic import decide
from streams.policy.loader import load_policy
from workers.console.projection import Projection, case_id_of
from workers.settings import DEFAULT_POLICY

CALLS_FOR_SOMETHING = ("abusive", "advertising", "trolling", "emergency", "safeguarding")
T0 = 1_780_394_400_000  # Tuesday 2 June 2026 10:00 UTC: inside monitoring hours


def records(comments: int) -> list[tuple[str, bytes]]:
    policy = load_policy(DEFAULT_POLICY)
    cfg = enforce_config.from_policy(policy)
    out: list[tuple[str, bytes]] = []
    for n in range(comments):
        # One comment in five calls for something, one clause after another.
        clause = CALLS_FOR_SOMETHING[n % 25] if n % 25 < len(CALLS_FOR_SOMETHING) else ""
        at = T0 + n * 1000
        comment = Comment(
            comment_id=f"facebook:{n}",
            platform="facebook",
            author_key=f"author-{n % (comments // 3 + 1)}",
            author_name="A Person",
            author_handle="",
            post_id="facebook:p1",
            post_text="",
            event_time_ms=at,
            text="some words of a comment",
            normalised="some words of a comment",
            lang="en",
            source=f"comments.raw[0]@{n}",
        )
        findings = (Finding(clause, f"pattern.{clause}", 0, 4, 0.9, "medium"),) if clause else ()
        outcome = decide(None, Verdict(comment, findings, policy.version), cfg)
        out.append(("decisions", outcome.decision.to_bytes()))
        for action in outcome.actions:
            out.append(("actions", action.to_bytes()))
            result = ActionResult(
                action.action_id,
                action.kind,
                action.target_author,
                action.target_comment,
                "done",
                "",
                at + 500,
            )
            out.append(("actions.results", result.to_bytes()))
    return out


DECODERS: dict[str, Callable[[bytes], object]] = {
    "decisions": Decision.from_bytes,
    "actions": Action.from_bytes,
    "actions.results": ActionResult.from_bytes,
}


def decode_all(recs: list[tuple[str, bytes]]) -> float:
    started = time.perf_counter()
    for topic, value in recs:
        DECODERS[topic](value)
    return time.perf_counter() - started


def fold_all(recs: list[tuple[str, bytes]]) -> tuple[float, Projection]:
    policy = load_policy(DEFAULT_POLICY)
    projection = Projection(
        procedures={c.id: c.procedure for c in policy.clauses.values()},
        monitoring=enforce_config.from_policy(policy).monitoring,
    )
    fold = {
        "decisions": lambda v: projection.add_decision(Decision.from_bytes(v)),
        "actions": lambda v: projection.add_action(Action.from_bytes(v)),
        "actions.results": lambda v: projection.add_result(ActionResult.from_bytes(v)),
    }
    started = time.perf_counter()
    for topic, value in recs:
        fold[topic](value)
    return time.perf_counter() - started, projection


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=50_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    recs = records(args.comments)
    decode_s = min(decode_all(recs) for _ in range(args.repeats))
    folds = [fold_all(recs) for _ in range(args.repeats)]
    fold_s = min(f[0] for f in folds)
    projection = folds[0][1]
    now = T0 + args.comments * 1000
    queue_s = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        queue = projection.queue(now)
        queue_s.append(time.perf_counter() - started)
    case_started = time.perf_counter()
    projection.case(case_id_of("facebook:0"), now)
    case_s = time.perf_counter() - case_started
    waiting = sum(queue.counts.values())
    print(f"records {len(recs):,} for {args.comments:,} comments; cases waiting {waiting:,}")
    print(f"baseline decode   {len(recs) / decode_s:,.0f} records/s")
    print(
        f"fold              {len(recs) / fold_s:,.0f} records/s "
        f"({decode_s / fold_s:.2f}x the decode baseline)"
    )
    print(
        f"queue page        {statistics.median(queue_s) * 1000:.1f} ms median over "
        f"{args.comments:,} cases"
    )
    print(f"case page         {case_s * 1000:.2f} ms")


if __name__ == "__main__":
    main()
