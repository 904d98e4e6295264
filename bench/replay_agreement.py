"""Live against replay on a stream with campaigns and a worker killed twice (issue 17).

    python bench/replay_agreement.py [--comments 3000] [--seed 7] [--kill-seed 7]

Needs the local stack. One worker decides ``--comments`` sample-feed comments (repeated texts
from a small set of accounts, so cross-author campaigns and frequent-inflammatory blocks
happen) in a fresh namespace, fed in chunks of 100, and is killed with SIGKILL twice at seeded
chunks and restarted (``--kills``; 0 tells crash artefacts from the rest). When it has gone
quiet, ``modstream replay`` re-runs the whole range and ``modstream audit diff`` compares the
replayed decisions with the recorded ones; this prints the audit's summary (identical,
differing by reason, only on one side), the share of recorded decisions replay reproduced
byte for byte, and the differences by reason and step. The report is kept under
``.stack/bench/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_pipeline import load, new_run, wait_quiet
from bench.loadgen import send_all
from schemas.action import TRIGGER_COMMENT, TRIGGER_LINKED, Action, Decision
from streams import topics as specs
from workers.dev.sample_feed import sample_envelopes
from workers.offline.replay import read_whole_topic_messages
from workers.settings import REPO_ROOT

OUT = REPO_ROOT / ".stack" / "bench"
CHUNK = 100


def cli(*argv: str, namespace: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MODSTREAM_DEV_MODE": "true", "MODSTREAM_NAMESPACE": namespace}
    return subprocess.run(
        [sys.executable, "-m", "workers.cli", *argv],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


async def agreement(args: argparse.Namespace) -> dict[str, object]:
    run = new_run(4, "r")
    await run.create_topics()
    feed = sample_envelopes(args.comments, seed=args.seed)
    chunks = [feed[i : i + CHUNK] for i in range(0, len(feed), CHUNK)]
    kill_after = sorted(random.Random(args.kill_seed).sample(range(1, len(chunks) - 1), args.kills))
    before = load()
    raw = run.topic(specs.RAW.name)
    try:
        run.start_worker()
        await run.wait_ready(timeout_s=240)
        for i, chunk in enumerate(chunks):
            await send_all(run.settings, raw, chunk)
            await asyncio.sleep(0.5)
            if i in kill_after:
                run.kill("worker", signal.SIGKILL)
                run.start_worker()
                await run.wait_ready(timeout_s=240)
        await wait_quiet([run.processes["worker"].pid], quiet_s=8.0)
        out = OUT / f"replay-agreement-{run.namespace}"
        replayed = cli(
            "replay", "--namespace", run.namespace, "--out", str(out), namespace=run.namespace
        )
        if replayed.returncode != 0:
            raise RuntimeError(f"replay failed: {replayed.stderr[-2000:]}")
        diff = cli(
            "audit",
            "diff",
            "--recorded",
            run.namespace,
            "--replayed",
            str(out / "decisions.jsonl"),
            "--format",
            "json",
            namespace=run.namespace,
        )
        if diff.returncode not in (0, 1) or not diff.stdout.strip():
            raise RuntimeError(f"audit diff failed ({diff.returncode}): {diff.stderr[-2000:]}")
        (out / "diff.json").write_text(diff.stdout)
        report = json.loads(diff.stdout)
        bootstrap = run.settings.kafka_bootstrap
        decisions = await read_whole_topic_messages(bootstrap, run.topic(specs.DECISIONS.name))
        lag = linked_block_lag([(m.timestamp_ms, Decision.from_bytes(m.value)) for m in decisions])
        actions = await read_whole_topic_messages(bootstrap, run.topic(specs.ACTIONS.name))
        cited = linked_actions(
            [m.value for m in actions], (out / "actions.jsonl").read_bytes().splitlines()
        )
    finally:
        await run.close()
    return {
        "namespace": run.namespace,
        "kill_after_chunks": kill_after,
        "load": f"{before} → {load()}",
        "linked_block_lag": lag,
        "linked_actions": cited,
        "report": report,
    }


def linked_actions(live: list[bytes], replayed: list[bytes]) -> dict[str, int]:
    """The linked accounts' block actions (the ones citing link evidence) on each side, and how
    many are the same bytes on both: the evidence they cite included."""
    live_set = {v for v in live if Action.from_bytes(v).linked_evidence}
    replayed_set = {v for v in replayed if Action.from_bytes(v).linked_evidence}
    return {
        "live": len(live_set),
        "replayed": len(replayed_set),
        "identical": len(live_set & replayed_set),
    }


def linked_block_lag(decisions: list[tuple[int, Decision]]) -> dict[str, object]:
    """How long after its author's block each linked account's block was decided live (the
    first record of each, by broker timestamp): at once when the membership came first, else
    the linking branch's lag behind the main line."""
    first: dict[str, tuple[int, Decision]] = {}
    for timestamp_ms, decision in decisions:
        if decision.decision_id not in first or timestamp_ms < first[decision.decision_id][0]:
            first[decision.decision_id] = (timestamp_ms, decision)
    blocked_at = {
        d.comment_id: ts
        for ts, d in first.values()
        if d.trigger == TRIGGER_COMMENT and "block_account" in d.action_kinds
    }
    lags = sorted(
        (ts - blocked_at[d.comment_id]) / 1000
        for ts, d in first.values()
        if d.trigger == TRIGGER_LINKED and d.comment_id in blocked_at
    )
    return {
        "linked_blocks": len(lags),
        "within_1s": sum(1 for s in lags if s <= 1.0),
        "median_s": lags[len(lags) // 2] if lags else None,
        "max_s": lags[-1] if lags else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--kill-seed", type=int, default=7)
    parser.add_argument("--kills", type=int, default=2, help="0: the same stream, no crash")
    args = parser.parse_args(argv)
    result = asyncio.run(agreement(args))
    report = result.pop("report")
    assert isinstance(report, dict)
    recorded = int(report["recorded_total"]) or 1
    differences = report["differences"]
    steps: dict[str, int] = {}
    for d in differences:
        steps[f"{d['reason']}: {d['step']}"] = steps.get(f"{d['reason']}: {d['step']}", 0) + 1
    print(json.dumps(result))
    print(
        f"recorded {report['recorded_total']}, replayed {report['replayed_total']}: identical "
        f"{report['identical']} ({100 * report['identical'] / recorded:.2f}% of recorded), "
        f"equivalent {report['equivalent']}, differing {report['differing']} "
        f"{report['by_reason']}, only recorded {len(report['only_recorded'])}, only replayed "
        f"{len(report['only_replayed'])}"
    )
    for step, n in sorted(steps.items(), key=lambda kv: -kv[1]):
        print(f"  {n:5d}  {step}")
    for side in ("only_recorded", "only_replayed"):
        for cause, n in report[f"{side}_by_cause"].items():
            print(f"  {n:5d}  {side.replace('_', ' ')}: {cause}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
