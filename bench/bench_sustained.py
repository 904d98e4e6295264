"""A sustained run: minutes of paced load on one worker; is memory flat and lag bounded?

    python bench/bench_sustained.py --rate 30 --minutes 4
    python bench/bench_sustained.py --share 0.8 --minutes 4   # 80 % of the last measured max

One worker, 4 partitions, loadgen comments at ``--rate`` (or ``--share`` of the pipeline rate
bench_pipeline.py last recorded in .stack/bench/results.jsonl). The sampling (backlog, group
lag, RSS, CPU share every ``--every`` seconds) and the verdict (second-half memory growth per
minute; backlog bounded by the first half's worst plus one interval of input) are in
bench/sustained_load.py, shared with the sustained-load fault test in
tests/integration/test_faults.py, which is the CI version: shorter, at 80 % of a rate it
measures itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_pipeline import RESULTS, Conditions, new_run, record, start_workers  # noqa: E402
from bench.loadgen import LoadGenerator, Mix  # noqa: E402
from bench.sustained_load import (  # noqa: E402
    TABLE_HEADER,
    DecisionCounter,
    Sample,
    Verdict,
    sample_paced,
)


def last_max_rate() -> float:
    if not RESULTS.exists():
        raise SystemExit("no recorded max rate: run bench/bench_pipeline.py first, or --rate")
    for line in reversed(RESULTS.read_text().splitlines()):
        entry = json.loads(line)
        if entry.get("phase") == "throughput":
            return float(entry["pipeline"]["rate"])
    raise SystemExit("no throughput phase in results.jsonl: run bench_pipeline.py first")


async def sustained(args: argparse.Namespace) -> None:
    rate = args.rate or args.share * last_max_rate()
    seconds = args.minutes * 60
    run = new_run(4, "sus", args.worker_env)
    await run.create_topics()
    gen = LoadGenerator(Mix(), seed=args.seed)
    messages = gen.take(int(rate * seconds))
    cond = Conditions()
    try:
        await start_workers(run, ["worker"])
        counter = DecisionCounter(run)
        counting = asyncio.create_task(counter.run_forever())
        print(f"one worker, {rate:.1f} comments/s for {args.minutes:g} min, load {cond.before}")
        print("\n" + TABLE_HEADER)
        samples, _ = await sample_paced(
            run, messages, rate, args.every, counter, lambda s: print(s.row(), flush=True)
        )
        counter.stop()
        await counting
    finally:
        await run.close()
    cond.done()
    verdict(samples, rate, args.every, cond)


def verdict(samples: Sequence[Sample], rate: float, every: float, cond: Conditions) -> None:
    v = Verdict.of(samples, rate, every)
    if v is None:
        print("too few samples for a verdict")
        return
    record(
        "sustained",
        {
            "rate": rate,
            "samples": v.samples,
            "rss_growth_mib_per_min": v.rss_growth_mib_per_min,
            "backlog_max_first_half": v.backlog_max_first_half,
            "backlog_max_second_half": v.backlog_max_second_half,
            "group_lag_max": max(v.group_lag_max_first_half, v.group_lag_max_second_half),
            "bounded": v.bounded,
            "conditions": str(cond),
        },
    )
    print(f"\n{v.line()}; {cond}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rate", type=float, default=0.0, help="comments/s")
    parser.add_argument("--share", type=float, default=0.8, help="of the last max (no --rate)")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--every", type=float, default=15.0, help="seconds between samples")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--worker-env", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    asyncio.run(sustained(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
