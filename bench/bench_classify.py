"""Classification throughput on one core, against normalisation alone as the baseline.

    python bench/bench_classify.py               # dev set x 5, best of 3 runs
    python bench/bench_classify.py --repeat 20

Every row runs over the same comments (the labelled dev set, repeated) in the same process;
the ratio column is "how many times slower than normalise() alone", which is the part of the
cost the classifier cannot avoid. Best of several runs, because the machine is shared.
Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.classify import Classifier, load_registry
from streams.classify.document import Document
from streams.classify.evaluation import Case, load_cases
from streams.normalise.text import normalise
from streams.policy import load_policy

ROOT = Path(__file__).resolve().parents[1]


def best_seconds(rows: list[tuple[str, Callable[[], object]]], runs: int) -> list[float]:
    """Best time per row; rows take turns within each run so that load from other processes
    on a shared machine falls on all of them alike."""
    best = [float("inf")] * len(rows)
    for _ in range(runs):
        for index, (_, work) in enumerate(rows):
            started = time.perf_counter()
            work()
            best[index] = min(best[index], time.perf_counter() - started)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "tests/data/labelled/dev.jsonl")
    parser.add_argument("--repeat", type=int, default=5, help="passes over the data per run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core
    cases: list[Case] = load_cases(args.data) * args.repeat
    pairs = [(c.text, c.post_text) for c in cases]
    classifier = Classifier(
        load_policy(ROOT / "deploy/policy/ctmuhb.yaml"),
        load_registry(ROOT / "deploy/policy/registry.example.yaml"),
    )
    classifier.classify_text("warm up the caches")

    rows: list[tuple[str, Callable[[], object]]] = [
        ("normalise() (baseline)", lambda: [normalise(t) for t, _ in pairs]),
        ("Document.build() (normalise + tokens)", lambda: [Document.build(t, p) for t, p in pairs]),
        ("Classifier.classify_text()", lambda: [classifier.classify_text(t, p) for t, p in pairs]),
    ]
    n = len(pairs)
    print(
        f"{n} comments ({len(pairs) // args.repeat} distinct x {args.repeat}), best of "
        f"{args.runs} runs, one core, Python {platform.python_version()}\n"
    )
    print("| step | comments/s | µs/comment | × baseline |")
    print("|---|---:|---:|---:|")
    timings = best_seconds(rows, args.runs)
    baseline = timings[0]
    for (name, _), seconds in zip(rows, timings, strict=True):
        print(
            f"| {name} | {n / seconds:,.0f} | {seconds / n * 1e6:,.0f} | {seconds / baseline:.1f} |"
        )

    latencies = []
    for text, post in pairs[: len(pairs) // args.repeat]:
        started = time.perf_counter()
        classifier.classify_text(text, post)
        latencies.append((time.perf_counter() - started) * 1e6)
    q = statistics.quantiles(latencies, n=100)
    print(
        f"\nclassify latency per comment: p50 {q[49]:,.0f} µs, p99 {q[98]:,.0f} µs, "
        f"max {max(latencies):,.0f} µs"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
