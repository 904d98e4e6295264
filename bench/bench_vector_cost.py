"""What the distilled word vectors add to the text models' cost per comment.

    python bench/bench_vector_cost.py [--runs 5] [--batch 128] [--artefacts DIR]

One process, the committed artefact: the models' scoring (features taken, every target's score)
over the labelled sets' comments in batches, with the word-vector block and with it switched
off (the same models, ``vectors = None``), interleaved run by run so load on this shared
machine falls on both alike. Prints microseconds per comment (median of the runs) and the
ratio. The whole classifier's figure is ``bench/bench_classify.py``'s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.classify.document import Document
from streams.classify.models.artefact import ARTEFACT_DIR, DEFAULT_ARTEFACT, load_models

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--artefacts", type=Path, default=ARTEFACT_DIR)
    args = parser.parse_args()
    texts = [
        json.loads(line)["text"]
        for path in sorted((ROOT / "tests" / "data" / "labelled").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    docs = [Document.build(t) for t in texts]
    words = [d.token_words() for d in docs]
    models = load_models.__wrapped__(DEFAULT_ARTEFACT, args.artefacts)
    table = models.vectors
    if table is None:
        sys.stderr.write("this artefact has no word vectors\n")
        return 1

    def one_pass() -> float:
        started = time.perf_counter()
        for start in range(0, len(words), args.batch):
            chunk = words[start : start + args.batch]
            models.scores_of(
                [models.text_features(w, d) for w, d in zip(chunk, docs[start:], strict=False)]
            )
        return (time.perf_counter() - started) / len(words) * 1e6

    from streams.classify.models.features import masked

    tokens = [masked(w, d)[0] for w, d in zip(words, docs, strict=True)]
    head = models._head
    assert head is not None

    def block_pass() -> float:
        # The vector block alone: each comment's rows, then one segmented sum per batch.
        started = time.perf_counter()
        for start in range(0, len(tokens), args.batch):
            rows = [table.rows(t) for t in tokens[start : start + args.batch]]
            table.logits(rows, head)
        return (time.perf_counter() - started) / len(tokens) * 1e6

    timings: dict[str, list[float]] = {"with vectors": [], "without": [], "block": []}
    one_pass()  # warm the per-word caches
    for _ in range(args.runs):
        models.vectors = table
        timings["with vectors"].append(one_pass())
        models.vectors = None
        timings["without"].append(one_pass())
        timings["block"].append(block_pass())
    models.vectors = table
    with_, without = (statistics.median(timings[k]) for k in ("with vectors", "without"))
    print(f"{len(words)} comments, batches of {args.batch}, median of {args.runs} runs")
    print(f"models with word vectors: {with_:.1f} us/comment")
    print(f"models without:           {without:.1f} us/comment")
    print(f"added: {with_ - without:.1f} us/comment ({with_ / without:.2f}x the models' cost)")
    print(f"the vector block alone: {statistics.median(timings['block']):.1f} us/comment")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
