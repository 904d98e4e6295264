"""Where the classifier's time goes on the batch path, part by part (issue 16, item 7).

    python bench/profile_classify.py                 # labelled sets, batches of 128
    python bench/profile_classify.py --corpus 1000   # and a seeded sample of corpus posts
    python -m cProfile -s cumtime bench/profile_classify.py | head -60

``Classifier.classify_batch`` is taken apart into its steps and each is timed on its own, in
the order the classifier runs them, so the parts add up to the whole: ``Document.build``
(normalise, words, surface), the prefilter's scans, the live-detector index, each top-level
detector's ``hits_batch`` (a detector's shared members are memoised per document, so the first
to ask pays for them: the first model detector pays for the comment's features and scores),
and the findings loop (which identifies the language of the few comments a Welsh-only
detector hit). ``identify`` alone is timed too: what identifying every comment would cost, as
the verdict did before enforcement identified only the comments it answers. Microseconds per
comment, the median of ``--runs`` passes, in CPU time (``time.process_time``): on this shared
machine wall time also counts the turns other processes take on the core.
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streams.classify import Classifier, load_registry  # noqa: E402
from streams.classify.classifier import _LazyLanguages  # noqa: E402
from streams.classify.document import Document  # noqa: E402
from streams.classify.evaluation import load_cases  # noqa: E402
from streams.classify.models.detector import ModelDetector  # noqa: E402
from streams.language import identify  # noqa: E402
from streams.policy import load_policy  # noqa: E402


def parts(classifier: Classifier, texts: list[str], batch: int) -> dict[str, float]:
    """Seconds per part for one pass of ``classify_batch`` over ``texts``."""
    spent: dict[str, float] = collections.defaultdict(float)
    models = [d for d in classifier._built.values() if isinstance(d, ModelDetector)]
    prefilter = classifier._prefilter
    assert prefilter is not None
    for start in range(0, len(texts), batch):
        chunk = texts[start : start + batch]
        t0 = time.process_time()
        docs = [Document.build(text, "") for text in chunk]
        t1 = time.process_time()
        prefilter.scan_all(docs)
        t2 = time.process_time()
        live = [classifier._live.top(doc) for doc in docs]
        t3 = time.process_time()
        spent["Document.build (normalise, words)"] += t1 - t0
        spent["prefilter scans"] += t2 - t1
        spent["live-detector index"] += t3 - t2
        if models:
            # What the first model detector to run pays for all: the comment's features and
            # every target's score (evidence stays with each detector).
            model = models[0]
            worded = [doc for doc in docs if doc.token_words()]
            worded_texts = [(doc.token_words(), doc) for doc in worded]
            scores = model.models.probabilities_of_texts(worded_texts) if worded_texts else []
            for doc, row in zip(worded, scores, strict=True):
                doc.remember(model._memo_key, row)
            spent["model features + scores, all targets"] += time.process_time() - t3
        batches: dict[int, list[Document]] = {}
        for doc, indices in zip(docs, live, strict=True):
            for index in indices:
                batches.setdefault(index, []).append(doc)
        for index, docs_of in batches.items():
            detector, specs = classifier._top[index]
            started = time.process_time()
            detector.hits_batch(docs_of)
            spent[f"detector {specs[0][1].id}"] += time.process_time() - started
        started = time.process_time()
        for doc, on in zip(docs, live, strict=True):
            classifier._findings(doc, on, _LazyLanguages(doc.original))
        spent["findings (+ language where a Welsh-only rule hit)"] += time.process_time() - started
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--corpus", type=int, default=0, help="corpus texts (0: none)")
    parser.add_argument("--top", type=int, default=14, help="detectors shown one by one")
    args = parser.parse_args()
    sets = {
        "labelled": [
            case.text
            for name in ("dev", "holdout", "holdout2")
            for case in load_cases(ROOT / f"tests/data/labelled/{name}.jsonl")
        ]
    }
    if args.corpus:
        from tests.unit.classify.corpus_sample import corpus_sample

        sets["corpus"] = corpus_sample(args.corpus)
    classifier = Classifier(
        load_policy(ROOT / "deploy/policy/ctmuhb.yaml"),
        load_registry(ROOT / "deploy/policy/registry.example.yaml"),
    )
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    for name, texts in sets.items():
        parts(classifier, texts, args.batch)  # warm caches
        runs = [parts(classifier, texts, args.batch) for _ in range(args.runs)]
        lingua = []
        for _ in range(args.runs):
            started = time.process_time()
            for text in texts:
                identify(text)
            lingua.append(time.process_time() - started)
        per = {
            part: statistics.median(run[part] for run in runs) / len(texts) * 1e6
            for part in runs[0]
        }
        total = sum(per.values())
        print(f"\n{name}: {len(texts)} comments, batches of {args.batch}, median of {args.runs}")
        print("| part | µs/comment | share |\n|---|---:|---:|")
        steps = [p for p in per if not p.startswith("detector ")]
        detectors = sorted((p for p in per if p.startswith("detector ")), key=lambda p: -per[p])
        shown = steps + detectors[: args.top]
        rest = sum(per[p] for p in detectors[args.top :])
        for part in shown:
            print(f"| {part} | {per[part]:.1f} | {per[part] / total:.0%} |")
        print(
            f"| the other {len(detectors) - args.top} detectors | {rest:.1f} | {rest / total:.0%} |"
        )
        print(f"| **classify_batch, all parts** | **{total:.1f}** | 100% |")
        lingua_us = statistics.median(lingua) / len(texts) * 1e6
        print(f"| (no longer paid) `identify`, every comment | {lingua_us:.1f} | |")
    print(f"\nload {load:.1f}; command: python bench/profile_classify.py {' '.join(sys.argv[1:])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
