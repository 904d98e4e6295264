"""What the encoder cascade costs: the encoder itself, and the classifier with and without it.

    python bench/bench_cascade.py [--runs 3] [--batch 128] [--corpus 1000]

One process, one core (``OMP_NUM_THREADS=1`` is set before numpy loads):

1. The encoder alone (``encoder.py``, all-MiniLM-L6-v2 in numpy), milliseconds per comment on
   the labelled sets' comments as the cascade feeds them (normalised, groups masked, at most
   64 word pieces): in batches of ``--batch`` and one at a time.
2. The whole classifier on this tree's policy (the linear models alone), and on the same
   policy with the cascade switched on (``cascade.with_cascades``: every ``model`` detector
   whose target has a band in ``cascade_head``), interleaved run by run so load on
   this shared machine falls on both alike: milliseconds per comment in batches and one at a
   time, the ratio, and the share of comments that reached the encoder, on the labelled sets
   and on a seeded sample of the corpora's test texts; then that share for each corpus.

Figures go to docs/benchmarks.md as ratios against the linear-only run of the same process.
"""

# ruff: noqa: E402  (the thread count is set before numpy loads)
from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from streams.classify.classifier import Classifier
from streams.classify.document import Document
from streams.classify.models import cascade_detector
from streams.classify.models.cascade import (
    encoder_ids,
    load_heads,
    sentence_vectors,
    with_cascades,
)
from streams.classify.models.encoder import load_encoder
from streams.classify.models.features import masked
from streams.policy.loader import parse_policy

POLICY = ROOT / "deploy" / "policy" / "ctmuhb.yaml"


def labelled_texts() -> list[str]:
    return [
        json.loads(line)["text"]
        for path in sorted((ROOT / "tests" / "data" / "labelled").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def corpus_texts(corpora: Path, n: int) -> list[str]:
    from streams.classify.models.corpora import load_all

    texts = [r.text for r in load_all(corpora) if r.split == "test"]
    return random.Random(16).sample(texts, min(n, len(texts)))


class CountingEncoder:
    """The encoder, counting the comments it is given (the share that reached it)."""

    def __init__(self) -> None:
        self.inner = load_encoder()
        self.cls, self.sep = self.inner.cls, self.inner.sep
        self.comments = 0

    def pieces(self, word: str) -> list[int]:
        return self.inner.pieces(word)

    def embed(self, sequences):  # type: ignore[no-untyped-def]
        self.comments += len(sequences)
        return self.inner.embed(sequences)

    def weights_sha256(self) -> str:
        return self.inner.weights_sha256()


def encoder_alone(texts: list[str], batch: int) -> tuple[float, float, float]:
    encoder = load_encoder()
    seqs = []
    for text in texts:
        doc = Document.build(text)
        seqs.append(encoder_ids(masked(doc.token_words(), doc)[0], encoder))
    started = time.perf_counter()
    for start in range(0, len(seqs), batch):
        sentence_vectors(encoder, seqs[start : start + batch])
    batched = (time.perf_counter() - started) / len(seqs) * 1e3
    sample = seqs[:200]
    started = time.perf_counter()
    for seq in sample:
        sentence_vectors(encoder, [seq])
    one = (time.perf_counter() - started) / len(sample) * 1e3
    return batched, one, statistics.mean(len(s) for s in seqs)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--corpus", type=int, default=1000)
    parser.add_argument("--per-corpus", type=int, default=300, help="0: skip the per-corpus shares")
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "data" / "corpora")
    args = parser.parse_args()

    labelled = labelled_texts()
    batched, one, pieces = encoder_alone(labelled, args.batch)
    print(
        f"encoder alone, labelled sets ({len(labelled)} comments, {pieces:.1f} pieces on "
        f"average): {batched:.2f} ms per comment in batches of {args.batch}, {one:.2f} ms one "
        "at a time"
    )

    raw = yaml.safe_load(POLICY.read_bytes())
    counting = CountingEncoder()
    cascade_detector.checked_encoder = lambda _sha: counting  # type: ignore[assignment]
    switched = with_cascades(raw, tuple(load_heads().bands))
    with_cascade = Classifier(parse_policy(yaml.safe_dump(switched, sort_keys=False).encode()))
    linear_only = Classifier(parse_policy(POLICY.read_bytes()))
    sets = {"labelled sets": labelled}
    if args.corpus and args.corpora.exists():
        sets["corpus test texts"] = corpus_texts(args.corpora, args.corpus)
    for name, texts in sets.items():
        counting.comments = 0
        for start in range(0, len(texts), args.batch):
            with_cascade.classify_batch(texts[start : start + args.batch])
        share = counting.comments / len(texts)
        counting.comments = 0
        for text in texts[:300]:
            with_cascade.classify_one(text)
        share_one = counting.comments / len(texts[:300])
        figures: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.runs):
            for label, classifier in (("linear", linear_only), ("cascade", with_cascade)):
                started = time.perf_counter()
                for start in range(0, len(texts), args.batch):
                    classifier.classify_batch(texts[start : start + args.batch])
                figures.setdefault((label, "batch"), []).append(
                    (time.perf_counter() - started) / len(texts) * 1e3
                )
                few = texts[:300]
                started = time.perf_counter()
                for text in few:
                    classifier.classify_one(text)
                figures.setdefault((label, "one"), []).append(
                    (time.perf_counter() - started) / len(few) * 1e3
                )
        med = {k: statistics.median(v) for k, v in figures.items()}
        print(
            f"{name} ({len(texts)} comments): {share:.1%} reached the encoder in batches, "
            f"{share_one:.1%} of the first 300 one at a time; "
            f"batches {med[('linear', 'batch')]:.3f} -> {med[('cascade', 'batch')]:.3f} ms "
            f"({med[('cascade', 'batch')] / med[('linear', 'batch')]:.1f}x); one at a time "
            f"{med[('linear', 'one')]:.3f} -> {med[('cascade', 'one')]:.3f} ms "
            f"({med[('cascade', 'one')] / med[('linear', 'one')]:.1f}x); median of {args.runs}"
        )
    if args.per_corpus and args.corpora.exists():
        per_corpus_shares(args.corpora, args.per_corpus, args.batch, with_cascade, counting)
    return 0


def per_corpus_shares(
    corpora: Path, n: int, batch: int, classifier: Classifier, counting: CountingEncoder
) -> None:
    """The share of each corpus's test texts (a seeded sample) that reaches the encoder."""
    from streams.classify.models.corpora import CORPORA, load_all

    rows = [r for r in load_all(corpora) if r.split == "test"]
    for corpus in CORPORA:
        texts = [r.text for r in rows if r.corpus == corpus]
        texts = random.Random(16).sample(texts, min(n, len(texts)))
        counting.comments = 0
        for start in range(0, len(texts), batch):
            classifier.classify_batch(texts[start : start + batch])
        print(f"  {corpus}: {counting.comments / len(texts):.1%} of {len(texts)} reached it")


if __name__ == "__main__":
    raise SystemExit(main())
