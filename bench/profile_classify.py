"""Where the classifier's time goes, per stage and per top-level detector (issue 16, item 7).

    python bench/profile_classify.py                 # labelled sets x 3
    python -m cProfile -s tottime bench/profile_classify.py | head -40

Prints microseconds per comment: the whole ``classify_text``, ``normalise`` and
``Document.build`` alone, then each clause's detectors timed on their own over fresh documents
(shared members are memoised per document, so the first detector to ask pays for them).
"""

from __future__ import annotations

import collections
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.classify import Classifier, load_registry
from streams.classify.document import Document
from streams.classify.evaluation import load_cases
from streams.normalise.text import normalise
from streams.policy import load_policy

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    cases = []
    for name in ("dev", "holdout", "holdout2"):
        cases += load_cases(ROOT / f"tests/data/labelled/{name}.jsonl")
    classifier = Classifier(
        load_policy(ROOT / "deploy/policy/ctmuhb.yaml"),
        load_registry(ROOT / "deploy/policy/registry.example.yaml"),
    )
    pairs = [(c.text, c.post_text) for c in cases] * 3
    n = len(pairs)

    def per_comment(work: Callable[[], object]) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            work()
            best = min(best, time.perf_counter() - started)
        return best / n * 1e6

    print(f"{n} comments; µs per comment, best of 3")
    whole = per_comment(lambda: [classifier.classify_text(t, p) for t, p in pairs])
    print(f"{whole:8.1f} classify_text")
    print(f"{per_comment(lambda: [normalise(t) for t, _ in pairs]):8.1f} normalise")
    print(f"{per_comment(lambda: [Document.build(t, p) for t, p in pairs]):8.1f} Document.build")
    spent: collections.Counter[str] = collections.Counter()
    for _ in range(2):
        docs = [Document.build(t, p) for t, p in pairs]
        for clause, spec, detector in classifier._detectors:
            started = time.perf_counter()
            for doc in docs:
                detector.hits(doc)
            spent[f"{clause.id} {spec.id}"] += (time.perf_counter() - started) / n * 1e6 / 2
    for name, micros in spent.most_common():
        print(f"{micros:8.1f} {name}")
    print(f"{sum(spent.values()):8.1f} all detectors")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
