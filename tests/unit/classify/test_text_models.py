"""The committed text-model artefact: verified against its card, deterministic, explainable,
and trained reproducibly (CI does not train the real artefact; it trains a tiny one twice)."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

from streams.classify import Classifier
from streams.classify.document import Document
from streams.classify.models import training
from streams.classify.models.artefact import (
    ARTEFACT_DIR,
    DEFAULT_ARTEFACT,
    ArtefactError,
    load_models,
)
from streams.classify.models.corpora import CORPORA, hashed_split, load_all
from streams.classify.models.corpus_eval import evaluate_corpora
from streams.classify.models.features import features
from streams.classify.models.vectors import VECTORS_NAME
from streams.policy import Policy
from tests.unit.classify.stub_encoder import StubEncoder

# Scores of the committed artefact, to four decimals; a retrained artefact changes them, and
# whoever retrains updates them here with the card.
GOLDEN = {
    "You are a f.u.c.k.i.n.g idiot": {"offensive": 0.9999, "spam": 0.0032},
    "WIN a free holiday! Text WIN to 80086 now, T&Cs apply": {"spam": 0.9999},
    "I can't go on any more, tonight I'm going to end it all": {"suicidal": 0.9744},
    "Thank you to the midwives on the ward, they were wonderful": {
        "offensive": 0.0173,
        "hate": 0.1027,
        "spam": 0.0009,
        "suicidal": 0.0024,
    },
    # threat reads the distilled word vectors as well as the n-grams; hate the n-grams alone
    "I hate women.": {"hate": 0.9993, "offensive": 0.8396},
    "Someone should shoot him in the head": {"threat": 0.9853},
}


def _words(text: str) -> tuple[str, ...]:
    return Document.build(text).token_words()


def test_artefact_loads_and_its_sha256_is_the_cards() -> None:
    models = load_models()
    card = json.loads((ARTEFACT_DIR / f"{DEFAULT_ARTEFACT}.json").read_text())
    assert models.sha256 == card["sha256"]
    assert models.targets == tuple(card["targets"])


def test_an_altered_artefact_is_refused(tmp_path: Path) -> None:
    for suffix in (".npz", ".json"):
        shutil.copy(ARTEFACT_DIR / f"{DEFAULT_ARTEFACT}{suffix}", tmp_path)
    if (ARTEFACT_DIR / f"{VECTORS_NAME}.npz").exists():
        shutil.copy(ARTEFACT_DIR / f"{VECTORS_NAME}.npz", tmp_path)
    weights = tmp_path / f"{DEFAULT_ARTEFACT}.npz"
    weights.write_bytes(weights.read_bytes() + b"\0")
    with pytest.raises(ArtefactError, match="sha256"):
        load_models.__wrapped__(DEFAULT_ARTEFACT, tmp_path)


@pytest.mark.parametrize("text", sorted(GOLDEN))
def test_golden_predictions(text: str) -> None:
    models = load_models()
    scores = dict(zip(models.targets, models.scores(_words(text)), strict=True))
    for target, expected in GOLDEN[text].items():
        assert scores[target] == pytest.approx(expected, abs=2e-4), target


def test_a_disguised_word_scores_as_the_plain_word() -> None:
    models = load_models()
    assert models.scores(_words("you sh1t")) == models.scores(_words("you shit"))
    assert models.scores(_words("ѕһіt head")) == models.scores(_words("shit head"))


def test_batch_scores_equal_single_scores() -> None:
    models = load_models()
    texts = [_words(t) for t in GOLDEN]
    assert models.scores_batch(texts) == [models.scores(w) for w in texts]


def test_evidence_points_at_the_words_that_drove_the_score(classifier: Classifier) -> None:
    text = "Honestly you are a complete fucking moron"
    findings = [f for f in classifier.classify_text(text) if f.detector == "model.offensive"]
    assert findings
    shown = {text[f.start : f.end].lower() for f in findings}
    assert shown & {"fucking", "moron"}


def test_policy_thresholds_are_the_ones_the_card_chose(policy: Policy) -> None:
    card = load_models().card["models"]
    seen = set()
    for clause in policy.clauses.values():
        for spec in clause.detectors:
            target = _model_target(spec.params)
            if target:
                seen.add(target)
                assert spec.threshold == card[target]["threshold"], spec.id
    assert {"offensive", "hate", "sexism", "threat", "misinformation", "spam", "suicidal"} <= seen


def _model_target(params: object) -> str | None:
    if isinstance(params, Mapping):
        if "model" in params and isinstance(params["model"], str):
            return params["model"]
        for member in params.get("all_of", ()) or params.get("any_of", ()):
            found = _model_target(member.get("params"))
            if found:
                return found
    return None


def test_rules_digest_pins_the_artefact(classifier: Classifier) -> None:
    assert classifier.model_artefacts == {DEFAULT_ARTEFACT: load_models().sha256}


def test_features_are_words_pairs_and_character_grams() -> None:
    found = features(("go", "away"))
    assert {"w:go", "w:away", "b:go away", "c:<go", "c:<go>", "c:way>"} <= set(found)
    assert found["b:go away"] == 0


def test_split_is_a_function_of_the_text_alone() -> None:
    assert hashed_split("some  text") == hashed_split("some text")
    splits = {hashed_split(f"row {i}") for i in range(200)}
    assert splits == {"train", "validation", "test"}


def _tiny_corpora(root: Path) -> None:
    """The eight corpora's file shapes with a few synthetic rows each."""
    good = [f"thank you for the lovely care number {i}" for i in range(30)]
    bad = [f"you stupid idiot moron number {i}" for i in range(30)]
    (root / "davidson").mkdir(parents=True)
    with (root / "davidson" / "train.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["", "count", "hate_speech", "offensive_language", "neither", "class", "tweet"]
        )
        for i, text in enumerate(good + bad):
            writer.writerow([i, 3, 0, 0, 3, 2 if i < 30 else 1, text])
    (root / "olid").mkdir()
    with (root / "olid" / "olid-training-v1.0.tsv").open("w") as handle:
        handle.write("id\ttweet\tsubtask_a\tsubtask_b\tsubtask_c\n")
        for i, text in enumerate(good + bad):
            handle.write(f"{i}\t{text} olid\t{'NOT' if i < 30 else 'OFF'}\tNULL\tNULL\n")
    (root / "gab_hate").mkdir()
    with (root / "gab_hate" / "dev.jsonl").open("w") as handle:
        for i, text in enumerate(good + bad):
            flag = int(i >= 30)
            handle.write(
                json.dumps({"Text": f"{text} gab", "vo": flag, "hd": flag, "cv": flag}) + "\n"
            )
    (root / "edos").mkdir()
    with (root / "edos" / "edos_labelled_aggregated.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["rewire_id", "text", "label_sexist", "label_category", "label_vector", "split"]
        )
        for i, text in enumerate(good + bad):
            sexist = "sexist" if i >= 30 else "not sexist"
            category = "1. threats" if i >= 30 else "none"
            writer.writerow(
                [i, f"{text} edos", sexist, category, "none", "test" if i % 5 == 0 else "train"]
            )
    (root / "constraint_covid").mkdir()
    for name in ("train.csv", "val.csv"):
        with (root / "constraint_covid" / name).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "tweet", "label"])
            for i, text in enumerate(good + bad):
                writer.writerow([i, f"{text} {name}", "fake" if i >= 30 else "real"])
    (root / "sms_spam").mkdir()
    with (root / "sms_spam" / "SMSSpamCollection").open("w") as handle:
        for i, text in enumerate(good + bad):
            handle.write(f"{'spam' if i >= 30 else 'ham'}\t{text} sms\n")
    (root / "sdcnl").mkdir()
    for name in ("training-set.csv", "testing-set.csv"):
        with (root / "sdcnl" / name).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["", "title", "selftext", "is_suicide"])
            for i, text in enumerate(good + bad):
                writer.writerow([i, name, text, int(i >= 30)])
    (root / "druglib").mkdir()
    with (root / "druglib" / "drugLibTrain_raw.tsv").open("w", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t")
        writer.writerow(["", "benefitsReview", "sideEffectsReview", "commentsReview"])
        for i, text in enumerate(good):
            writer.writerow([i, f"{text} helped", "mild nausea", "took it daily"])


def test_training_is_reproducible_byte_for_byte(tmp_path: Path) -> None:
    corpora = tmp_path / "corpora"
    _tiny_corpora(corpora)
    assert {r.corpus for r in load_all(corpora)} == set(CORPORA)
    first = training.train(corpora, tmp_path / "a", encoder=StubEncoder())
    second = training.train(corpora, tmp_path / "b", encoder=StubEncoder())
    name = DEFAULT_ARTEFACT
    for artefact in (name, VECTORS_NAME):
        assert (tmp_path / "a" / f"{artefact}.npz").read_bytes() == (
            tmp_path / "b" / f"{artefact}.npz"
        ).read_bytes()
    assert first["sha256"] == second["sha256"]
    models = load_models.__wrapped__(name, tmp_path / "a")
    assert models.vectors is not None
    assert first["features"]["word_vectors"]["words"] == len(models.vectors.words)
    texts = [_words("you stupid idiot"), _words("thank you for the lovely care")]
    assert models.scores_batch(texts) == [models.scores(w) for w in texts]
    # The models name their word-vector table by sha256: another table is refused.
    table = tmp_path / "a" / f"{VECTORS_NAME}.npz"
    table.write_bytes(table.read_bytes() + b"\0")
    with pytest.raises(ArtefactError, match="sha256"):
        load_models.__wrapped__(name, tmp_path / "a")
    shutil.copy(tmp_path / "b" / f"{VECTORS_NAME}.npz", table)
    models = load_models.__wrapped__(name, tmp_path / "a")
    offensive = models.target_index("offensive")
    assert (
        models.scores(_words("you stupid idiot"))[offensive]
        > models.scores(_words("thank you for the lovely care"))[offensive]
    )


def test_corpus_evaluation_reads_only_test_rows_and_counts_clean_ones(
    tmp_path: Path, classifier: Classifier
) -> None:
    corpora = tmp_path / "corpora"
    _tiny_corpora(corpora)
    report = evaluate_corpora(classifier, corpora)
    test_rows = [r for r in load_all(corpora) if r.split == "test"]
    davidson = report.per_clause[("abusive", "davidson")]
    assert davidson.tp + davidson.fp + davidson.fn + davidson.tn == sum(
        1 for r in test_rows if r.corpus == "davidson"
    )
    druglib = report.clean["druglib"]
    assert druglib.rows == sum(1 for r in test_rows if r.corpus == "druglib")
    assert druglib.flagged_annotated <= druglib.flagged_any <= druglib.rows
