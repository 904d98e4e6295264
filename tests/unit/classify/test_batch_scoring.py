"""The models' batch path (``probabilities_of_texts``, numpy over the whole batch) gives every
text the same probabilities, to the bit, as scoring its ``TextFeatures`` alone or batched; the
pair table finds exactly the pair features the dict does (issue 16 item 7). That whole
classifications agree batched and one at a time is ``test_classify_batch.py``'s.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np

from streams.classify.document import Document
from streams.classify.evaluation import load_cases
from streams.classify.models.artefact import _pair_index, _PairTable, load_models

ROOT = Path(__file__).resolve().parents[3]

# Texts whose neighbouring words make pair features, a group mention (masked as GROUP), words
# out of the vocabulary and of the word-vector table, one word alone, and repeats.
EDGES = [
    "you stupid idiot",
    "I hate women",
    "muslims are a plague and should be deported",
    "zzqxv",
    "ok",
    "thank you thank you thank you to the nurses",
    "qqqq wwww eeee rrrr",
    "WIN a free holiday! Text WIN to 80086 now",
]


def _texts() -> list[str]:
    labelled = [
        case.text
        for name in ("dev", "holdout2")
        for case in load_cases(ROOT / f"tests/data/labelled/{name}.jsonl")
    ]
    return EDGES + labelled[:300]


def test_batch_probabilities_equal_each_text_alone_to_the_bit() -> None:
    models = load_models()
    docs = [d for d in (Document.build(t) for t in _texts()) if d.token_words()]
    for size in (1, 2, 7, 128):
        for start in range(0, len(docs), size):
            chunk = docs[start : start + size]
            batch = models.probabilities_of_texts([(d.token_words(), d) for d in chunk])
            features = [models.text_features(d.token_words(), d) for d in chunk]
            alone = [models.probabilities_of([f])[0] for f in features]
            assert batch == alone
            assert batch == models.probabilities_of(features)


def test_pair_table_finds_what_the_dict_finds() -> None:
    models = load_models()
    table = models._pair_table
    assert table is not None
    pairs = models._pair_index
    words = [*sorted(table.word_index)[:200], "not-a-pair-word", "GROUP"]
    rng = np.random.default_rng(16)
    sequence = [words[i] for i in rng.integers(0, len(words), 5000)]
    # Real neighbours too, so that most keys are pair features.
    for a, b in list(pairs)[:2000]:
        sequence += [a, b]
    index = np.array([table.word_index.get(w, -1) for w in sequence], dtype=np.intp)
    expected = [pairs.get((a, b), -1) for a, b in itertools.pairwise(sequence)]
    assert table.ids(index).tolist() == expected


def test_a_pair_word_with_a_space_falls_back_to_the_dict() -> None:
    # "b:a b c" splits two ways: no numbered table, the dict answers both splits.
    pairs = _pair_index({"b:a b c": 0, "b:x y": 1, "w:a": 2})
    assert pairs == {("a", "b c"): 0, ("a b", "c"): 0, ("x", "y"): 1}
    assert _PairTable.of(pairs) is None


def test_without_vectors_only_the_vector_targets_are_left_out() -> None:
    models = load_models()
    assert models.vector_columns  # the committed artefact's threat reads the word vectors
    docs = [d for d in (Document.build(t) for t in _texts()) if d.token_words()]
    texts = [(d.token_words(), d) for d in docs]
    features = [models.text_features(d.token_words(), d) for d in docs]
    full = models.probabilities_of_texts(texts)
    for lazy in (
        models.probabilities_of_texts(texts, vectors=False),
        models.probabilities_of(features, vectors=False),
        [models.probabilities_of([f], vectors=False)[0] for f in features],
    ):
        for whole, partial in zip(full, lazy, strict=True):
            for column, (a, b) in enumerate(zip(whole, partial, strict=True)):
                assert math.isnan(b) if column in models.vector_columns else a == b


def test_a_text_sliced_from_its_batch_has_the_features_taken_alone() -> None:
    models = load_models()
    docs = [d for d in (Document.build(t) for t in _texts()) if d.token_words()]
    for size in (1, 5, 128):
        for start in range(0, len(docs), size):
            chunk = docs[start : start + size]
            _, batch = models.score_texts([(d.token_words(), d) for d in chunk], vectors=False)
            for index, doc in enumerate(chunk):
                sliced = batch.features(index)
                alone = models.text_features(doc.token_words(), doc)
                assert (sliced.ids, sliced.count, sliced.origin) == (
                    alone.ids,
                    alone.count,
                    alone.origin,
                )
                assert (sliced.ends, sliced.pairs, sliced.vector_rows) == (
                    alone.ends,
                    alone.pairs,
                    alone.vector_rows,
                )


def test_the_vector_block_added_later_gives_the_full_scores() -> None:
    models = load_models()
    docs = [d for d in (Document.build(t) for t in _texts()) if d.token_words()]
    texts = [(d.token_words(), d) for d in docs]
    full = models.probabilities_of_texts(texts)
    _, batch = models.score_texts(texts, vectors=False)
    for indices in ([0], [1, 5, 7], list(range(len(docs)))):
        assert models.with_vectors(batch, indices) == [full[i] for i in indices]
