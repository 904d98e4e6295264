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
            scores = (
                model.models.probabilities_of_texts(worded_texts, vectors=False)
                if worded_texts
                else []
            )
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


def parts_one(classifier: Classifier, texts: list[str]) -> dict[str, float]:
    """Seconds per part for ``classify_one`` over ``texts``, one comment at a time: the same
    steps as ``parts``, each detector asked with ``hits`` as the findings loop asks it."""
    spent: dict[str, float] = collections.defaultdict(float)
    models = [d for d in classifier._built.values() if isinstance(d, ModelDetector)]
    prefilter = classifier._prefilter
    assert prefilter is not None
    clock = time.process_time
    for text in texts:
        t0 = clock()
        doc = Document.build(text, "")
        t1 = clock()
        prefilter.scan(doc)
        t2 = clock()
        live = classifier._live.top(doc)
        t3 = clock()
        spent["Document.build (normalise, words)"] += t1 - t0
        spent["prefilter scans"] += t2 - t1
        spent["live-detector index"] += t3 - t2
        if models and doc.token_words():
            model = models[0]
            row = model.models.probabilities_of([model._features(doc)], vectors=False)[0]
            doc.remember(model._memo_key, row)
            spent["model features + scores, all targets"] += clock() - t3
        for index in live:
            detector, specs = classifier._top[index]
            started = clock()
            detector.hits(doc)
            spent[f"detector {specs[0][1].id}"] += clock() - started
        started = clock()
        classifier._findings(doc, live, _LazyLanguages(doc.original))
        spent["findings (+ language where a Welsh-only rule hit)"] += clock() - started
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--corpus", type=int, default=0, help="corpus texts (0: none)")
    parser.add_argument(
        "--one", action="store_true", help="classify_one, one comment at a time, not batches"
    )
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

        def run(texts: list[str] = texts) -> dict[str, float]:
            if args.one:
                return parts_one(classifier, texts)
            return parts(classifier, texts, args.batch)

        run()  # warm caches
        runs = [run() for _ in range(args.runs)]
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
        path = "one at a time" if args.one else f"batches of {args.batch}"
        print(f"\n{name}: {len(texts)} comments, {path}, median of {args.runs}")
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
        call = "classify_one" if args.one else "classify_batch"
        print(f"| **{call}, all parts** | **{total:.1f}** | 100% |")
        lingua_us = statistics.median(lingua) / len(texts) * 1e6
        print(f"| (no longer paid) `identify`, every comment | {lingua_us:.1f} | |")
    print(f"\nload {load:.1f}; command: python bench/profile_classify.py {' '.join(sys.argv[1:])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
