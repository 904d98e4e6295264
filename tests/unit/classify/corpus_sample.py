"""Text (no labels) from the public corpora in ../shared/data/corpora, for equivalence checks.

Only what a test of "same findings either way" needs: every text field of every corpus, and a
seeded random sample of them. Absent corpora (CI, a fresh machine) give an empty list, and the
tests that need them skip.
"""

from __future__ import annotations

import csv
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

# ../shared/data/corpora beside the checkout; a git worktree sits one level deeper.
_HERE = Path(__file__).resolve()
CORPORA = next(
    (
        p / "shared" / "data" / "corpora"
        for p in (_HERE.parents[4], _HERE.parents[5])
        if (p / "shared" / "data" / "corpora").is_dir()
    ),
    _HERE.parents[4] / "shared" / "data" / "corpora",
)

csv.field_size_limit(sys.maxsize)


def _csv(path: Path, *columns: str, delimiter: str = ",") -> Iterator[str]:
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        for row in csv.DictReader(handle, delimiter=delimiter):
            for column in columns:
                if row.get(column):
                    yield row[column]


def corpus_texts(root: Path = CORPORA) -> list[str]:
    """Every text of every corpus, in a fixed order."""
    if not root.is_dir():
        return []
    readers: list[Iterator[str]] = [
        _csv(root / "davidson/train.csv", "tweet"),
        _csv(root / "edos/edos_labelled_aggregated.csv", "text"),
        _csv(root / "constraint_covid/train.csv", "tweet"),
        _csv(root / "constraint_covid/val.csv", "tweet"),
        _csv(root / "olid/olid-training-v1.0.tsv", "tweet", delimiter="\t"),
        _csv(root / "sdcnl/training-set.csv", "title", "selftext"),
        _csv(root / "sdcnl/testing-set.csv", "title", "selftext"),
        _csv(
            root / "druglib/drugLibTrain_raw.tsv",
            "benefitsReview",
            "sideEffectsReview",
            "commentsReview",
            delimiter="\t",
        ),
    ]
    texts: list[str] = []
    for reader in readers:
        try:
            texts.extend(reader)
        except FileNotFoundError:
            continue
    spam = root / "sms_spam/SMSSpamCollection"
    if spam.exists():
        for line in spam.read_text(encoding="utf-8", errors="replace").splitlines():
            texts.append(line.partition("\t")[2])
    gab = root / "gab_hate/dev.jsonl"
    if gab.exists():
        for line in gab.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip():
                texts.append(str(json.loads(line).get("Text", "")))
    return [t for t in texts if t.strip()]


def corpus_sample(size: int, seed: int = 16) -> list[str]:
    texts = corpus_texts()
    if len(texts) <= size:
        return texts
    return random.Random(seed).sample(texts, size)
