"""Language identification: lingua's low- and high-accuracy modes, accuracy and cost.

    python bench/bench_language.py            # best of 3 runs over every labelled set
    python bench/bench_language.py --runs 5

Accuracy is counted as ``modstream eval`` counts it (streams.classify.language_eval): comments
of five words or more, a mixed comment right when classified under both languages. Cost is
``identify()`` per comment (the whole comment, then its pieces for a second language), beside
the classifier's own cost per comment on the same comments in the same run, as a ratio, and
beside normalise() alone, the baseline bench_classify.py uses. Best of several runs, taking
turns, because the machine is shared. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.classify import Classifier
from streams.classify.evaluation import load_cases
from streams.classify.language_eval import language_accuracy
from streams.language import build_detector, identify
from streams.normalise.text import normalise
from streams.policy import load_policy

ROOT = Path(__file__).resolve().parents[1]
SETS = ("dev", "holdout", "holdout2", "welsh", "welsh_holdout")


def best_seconds(rows: list[Callable[[], object]], runs: int) -> list[float]:
    best = [float("inf")] * len(rows)
    for _ in range(runs):
        for index, work in enumerate(rows):
            started = time.perf_counter()
            work()
            best[index] = min(best[index], time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    cases = [c for name in SETS for c in load_cases(ROOT / "tests/data/labelled" / f"{name}.jsonl")]
    texts = [c.text for c in cases]
    low, high = build_detector(low_accuracy=True), build_detector(low_accuracy=False)
    classifier = Classifier(load_policy(ROOT / "deploy/policy/ctmuhb.yaml"))
    rows: list[tuple[str, Callable[[], object]]] = [
        ("normalise() alone (baseline)", lambda: [normalise(t) for t in texts]),
        ("identify(), low-accuracy mode", lambda: [identify(t, low) for t in texts]),
        ("identify(), high-accuracy mode", lambda: [identify(t, high) for t in texts]),
        ("classify_text() (every detector)", lambda: [classifier.classify_text(t) for t in texts]),
    ]
    seconds = best_seconds([work for _, work in rows], args.runs)
    base = seconds[0]
    classify = seconds[3]
    print(f"{len(texts)} comments from {', '.join(SETS)}; best of {args.runs} runs\n")
    print(
        "| what | µs per comment | × normalise() | share of classify cost | accuracy (5+ words) |"
    )
    print("|---|---:|---:|---:|---:|")
    accuracy = {
        1: language_accuracy(cases, low).accuracy,
        2: language_accuracy(cases, high).accuracy,
    }
    for index, (name, _) in enumerate(rows):
        micro = seconds[index] / len(texts) * 1e6
        share = f"{seconds[index] / classify:.2f}" if index in accuracy else "-"
        acc = f"{accuracy[index]:.3f}" if index in accuracy else "-"
        print(f"| {name} | {micro:.0f} | {seconds[index] / base:.1f} | {share} | {acc} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
