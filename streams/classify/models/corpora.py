"""The public labelled corpora in ``shared/data/corpora``, read into one shape, split once.

Each corpus row becomes a ``CorpusRow``: its text, the corpus it came from, which split it
belongs to, and for each *model target* (``offensive``, ``hate`` …) whether the row is a
positive, a negative, or says nothing about it (``None``). The mapping from an annotator's
label to a target is a decision, written down here once and repeated in every model card:

- davidson: class 0 hate → hate + offensive; class 1 offensive → offensive; class 2 neither →
  negative for both. A Davidson row says nothing about threats (it was not annotated for them).
- olid: subtask_a OFF → offensive; NOT → negative for offensive, hate and threats (a tweet the
  annotators found not offensive is neither hateful nor threatening).
- gab_hate: ``vo`` → vulgar; ``hd`` (attack on dignity) → hate; ``cv`` (call for violence) →
  threat. A row with none of the three is a negative for all of them, and says nothing about
  misinformation (Gab posts were never checked for false claims and carry many).
- edos: ``label_sexist`` → sexism; category 1 (threats, plans to harm, incitement) → threat.
  A not-sexist row is a negative for sexism only: EDOS posts were not annotated for swearing.
- constraint_covid: fake → misinformation; real → negative.
- sms_spam: spam → spam; ham → negative.
- sdcnl: r/SuicideWatch → suicidal; r/depression → negative (the hard contrast: despair
  without a stated intent). Labels are subreddits, not annotators: noisy.
- druglib: patients' medicine reviews, negative for every target (overdoses, side effects
  and suicidal thoughts described clinically are health talk, not a violation).

Every row that is a negative for its own corpus's target is also a negative for the targets
of corpora of another kind ("negatives from everywhere"), except where that other target
could be present and was never annotated (swearing in Reddit posts, for example): those
exceptions are ``_SILENT`` below.

Splits are a pure function of the row's text (sha256 of the normalised-whitespace text with a
fixed salt), so duplicates land in the same split and the split never depends on file order.
Where the corpus publishes its own split (EDOS ``split``, Constraint ``val.csv``, SDCNL
``testing-set.csv``) its test part is our test part.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

TARGETS = (
    "offensive",
    "vulgar",
    "hate",
    "sexism",
    "threat",
    "misinformation",
    "spam",
    "suicidal",
)
SPLITS = ("train", "validation", "test")
SPLIT_SALT = "modstream-corpus-split-v1"
# train 70 / validation 15 / test 15, by the first two bytes of the hash.
_TRAIN_BELOW = 0.70
_VALIDATION_BELOW = 0.85

# Targets a corpus's rows were never annotated for and could plausibly contain, so its clean
# rows are not used as negatives for them.
_SILENT: dict[str, frozenset[str]] = {
    "davidson": frozenset({"threat", "sexism", "vulgar"}),
    "olid": frozenset({"sexism", "vulgar"}),
    # Gab posts were never checked for false claims and carry many ("the jab is poison"):
    # as negatives they taught the misinformation model that a conspiracy is clean.
    "gab_hate": frozenset({"sexism", "misinformation"}),
    "edos": frozenset({"offensive", "vulgar", "hate"}),
    "constraint_covid": frozenset(),
    "sms_spam": frozenset({"offensive", "vulgar"}),
    "sdcnl": frozenset({"offensive", "vulgar", "threat"}),
    "druglib": frozenset(),
}
CORPORA = tuple(_SILENT)


@dataclass(frozen=True)
class CorpusRow:
    corpus: str
    text: str
    split: str
    # target -> True (positive), False (negative) or None (annotated rows say nothing)
    labels: dict[str, bool | None] = field(default_factory=dict)

    def label(self, target: str) -> bool | None:
        """A target the corpus did not annotate is a negative unless it is silent on it."""
        if target in self.labels:
            return self.labels[target]
        return None if target in _SILENT[self.corpus] else False


def hashed_split(text: str) -> str:
    digest = hashlib.sha256(f"{SPLIT_SALT}\n{' '.join(text.split())}".encode()).digest()
    fraction = int.from_bytes(digest[:2], "big") / 65536
    if fraction < _TRAIN_BELOW:
        return "train"
    return "validation" if fraction < _VALIDATION_BELOW else "test"


def _train_or_validation(text: str) -> str:
    """For corpora whose own test part is used: the rest splits 82/18 into train/validation."""
    digest = hashlib.sha256(f"{SPLIT_SALT}\n{' '.join(text.split())}".encode()).digest()
    return "train" if int.from_bytes(digest[:2], "big") / 65536 < 0.82 else "validation"


def load_all(root: Path) -> list[CorpusRow]:
    """Every corpus under ``root``; a missing corpus is an error, not a silent gap."""
    rows: list[CorpusRow] = []
    for name in CORPORA:
        rows.extend(_READERS[name](root / name))
    return rows


def _row(
    corpus: str, text: str, labels: dict[str, bool | None], split: str | None = None
) -> CorpusRow:
    text = text.strip()
    return CorpusRow(corpus, text, split or hashed_split(text), labels)


def _davidson(folder: Path) -> Iterator[CorpusRow]:
    with (folder / "train.csv").open(encoding="utf-8", newline="") as handle:
        for rec in csv.DictReader(handle):
            cls = int(rec["class"])
            yield _row("davidson", rec["tweet"], {"offensive": cls in (0, 1), "hate": cls == 0})


def _olid(folder: Path) -> Iterator[CorpusRow]:
    with (folder / "olid-training-v1.0.tsv").open(
        encoding="utf-8", errors="replace", newline=""
    ) as handle:
        for rec in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE):
            off = rec["subtask_a"] == "OFF"
            # An offensive tweet may or may not be hateful or threatening: not annotated.
            unknown = None if off else False
            labels = {"offensive": off, "hate": unknown, "threat": unknown}
            yield _row("olid", rec["tweet"], labels)


def _gab(folder: Path) -> Iterator[CorpusRow]:
    with (folder / "dev.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            rec = json.loads(line)
            vo, hd, cv = bool(rec["vo"]), bool(rec["hd"]), bool(rec["cv"])
            # Gab posts were not annotated for swearing as such: casual profanity sits in
            # rows with none of the three labels, so Gab says nothing about "offensive".
            labels = {"vulgar": vo, "hate": hd, "threat": cv, "offensive": None}
            yield _row("gab_hate", rec["Text"], labels)


def _edos(folder: Path) -> Iterator[CorpusRow]:
    with (folder / "edos_labelled_aggregated.csv").open(encoding="utf-8", newline="") as handle:
        for rec in csv.DictReader(handle):
            sexist = rec["label_sexist"] == "sexist"
            threat = rec["label_category"].startswith("1.")
            split = "test" if rec["split"] == "test" else _train_or_validation(rec["text"])
            # Only sexist posts were sorted into categories: a threat in a not-sexist post
            # was never looked for.
            labels = {"sexism": sexist, "threat": threat if sexist else None}
            yield _row("edos", rec["text"], labels, split)


def _constraint(folder: Path) -> Iterator[CorpusRow]:
    for name in ("train.csv", "val.csv"):
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            for rec in csv.DictReader(handle):
                split = "test" if name == "val.csv" else _train_or_validation(rec["tweet"])
                yield _row(
                    "constraint_covid",
                    rec["tweet"],
                    {"misinformation": rec["label"] == "fake"},
                    split,
                )


def _sms(folder: Path) -> Iterator[CorpusRow]:
    with (folder / "SMSSpamCollection").open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            label, _, text = line.rstrip("\n").partition("\t")
            if text:
                yield _row("sms_spam", text, {"spam": label == "spam"})


def _sdcnl(folder: Path) -> Iterator[CorpusRow]:
    csv.field_size_limit(sys.maxsize)
    for name in ("training-set.csv", "testing-set.csv"):
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            for rec in csv.DictReader(handle):
                text = f"{rec['title']}\n{rec['selftext']}".strip()
                split = "test" if name == "testing-set.csv" else _train_or_validation(text)
                yield _row("sdcnl", text, {"suicidal": rec["is_suicide"] == "1"}, split)


def _druglib(folder: Path) -> Iterator[CorpusRow]:
    csv.field_size_limit(sys.maxsize)
    with (folder / "drugLibTrain_raw.tsv").open(encoding="utf-8", newline="") as handle:
        for rec in csv.DictReader(handle, delimiter="\t"):
            # The three free-text fields are three comments by one patient; each is a row.
            for column in ("benefitsReview", "sideEffectsReview", "commentsReview"):
                text = (rec.get(column) or "").strip()
                if len(text) >= 3:
                    yield _row("druglib", text, {})


_READERS = {
    "davidson": _davidson,
    "olid": _olid,
    "gab_hate": _gab,
    "edos": _edos,
    "constraint_covid": _constraint,
    "sms_spam": _sms,
    "sdcnl": _sdcnl,
    "druglib": _druglib,
}
