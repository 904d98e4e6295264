"""Static word vectors distilled from a sentence encoder: a comment's vector at run time.

The table (``artefacts/word_vectors.npz``, built by ``distil.py`` inside ``modstream train``)
holds, for each normalised word the training corpora use often enough, a small vector (the
encoder's view of that word alone, reduced by PCA) and a weight (SIF: a word seen everywhere
weighs little). A comment's vector is the weighted mean of its words' vectors, unit length;
words not in the table are skipped. It is a table lookup and a mean: microseconds, numpy
alone, and the same numbers on every machine (float16 table, float64 sums in token order).

The lookup is by whole normalised word, not by WordPiece: the words the models read are
already the classifier's normalised words, so a dictionary from word to row needs no
tokenizer at run time and cannot disagree with one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import numpy.typing as npt

VECTORS_NAME = "word_vectors"


class VectorHead:
    """The models' weights on a comment's vector, (dims, targets), kept for the targets that
    read the vectors (the others' columns are zeros), transposed once for ``logits``."""

    def __init__(self, head: npt.NDArray[np.float64]) -> None:
        self.targets = int(head.shape[1])
        self.used = np.flatnonzero(head.any(axis=0))
        self.weights = np.ascontiguousarray(head[:, self.used].T)


@dataclass(frozen=True)
class WordVectors:
    words: tuple[str, ...]
    vectors: npt.NDArray[np.float32]  # (words, dims), the float16 table widened once
    weights: npt.NDArray[np.float32]  # (words,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_row", {w: i for i, w in enumerate(self.words)})
        # Each row times its weight, once: a comment's sum is then one gather and one
        # segmented sum, in float32 (half the memory traffic of float64; the sums run in a
        # fixed order, so the bits are the same on every machine all the same).
        object.__setattr__(self, "_weighted", self.vectors * self.weights[:, None])

    @property
    def row_index(self) -> dict[str, int]:
        """Word -> its row in the table."""
        row: dict[str, int] = self._row  # type: ignore[attr-defined]
        return row

    @property
    def dims(self) -> int:
        return int(self.vectors.shape[1])

    def rows(self, tokens: Sequence[str]) -> list[int]:
        """The table rows of a text's tokens, in order, repeats kept."""
        row: dict[str, int] = self._row  # type: ignore[attr-defined]
        return [r for r in map(row.get, tokens) if r is not None]

    def text_vectors(self, texts_rows: Sequence[Sequence[int]]) -> npt.NDArray[np.float32]:
        """Each text's weighted mean of its rows' vectors, unit length (zeros for a text with
        none), one row per text. Sums run over each text's own rows in order (``reduceat``),
        whatever the batch, so a text gets the same bits alone or batched."""
        weighted: npt.NDArray[np.float32] = self._weighted  # type: ignore[attr-defined]
        if len(texts_rows) == 1:  # a comment scored alone: a handful of numpy calls
            one = np.zeros((1, self.dims), dtype=np.float32)
            if texts_rows[0]:
                # The batch's own sum (reduceat), so the bits are the batch's.
                total = np.add.reduceat(weighted[list(texts_rows[0])], [0], axis=0)
                norm = np.sqrt((total * total).sum(axis=1))
                one[:] = total / norm[:, None] if norm[0] > 0 else total
            return one
        lengths = np.fromiter(map(len, texts_rows), np.intp, len(texts_rows))
        flat = np.fromiter(chain.from_iterable(texts_rows), np.intp, int(lengths.sum()))
        return self.flat_vectors(flat, lengths)

    def flat_vectors(
        self, flat: npt.NDArray[np.intp], lengths: npt.NDArray[np.intp]
    ) -> npt.NDArray[np.float32]:
        """``text_vectors`` for the texts' rows given end to end (``flat``) with each text's
        count of rows (``lengths``): the batch path, with no Python list per text."""
        weighted: npt.NDArray[np.float32] = self._weighted  # type: ignore[attr-defined]
        out = np.zeros((len(lengths), self.dims), dtype=np.float32)
        nonempty = np.flatnonzero(lengths)
        if not len(nonempty):
            return out
        # Empty texts add no rows, so every text's rows in order are the non-empty ones'.
        kept = lengths[nonempty]
        starts = np.concatenate(([0], np.cumsum(kept[:-1])))
        # The weighted mean's direction is the weighted sum's: dividing by the weights' total
        # would change nothing once the vector is made unit length.
        sums = np.add.reduceat(weighted[flat], starts, axis=0)
        norms = np.sqrt((sums * sums).sum(axis=1))
        out[nonempty] = sums / np.where(norms > 0, norms, np.float32(1.0))[:, None]
        return out

    def logits(
        self, texts_rows: Sequence[Sequence[int]], head: VectorHead
    ) -> npt.NDArray[np.float64]:
        """Each text's vector times ``head`` (dims, targets), summed over dims in order
        rather than by BLAS, whose summation order can change with the batch's size; only
        the targets whose head is not all zeros are computed."""
        return self.vector_logits(self.text_vectors(texts_rows), head)

    def vector_logits(
        self, vectors32: npt.NDArray[np.float32], head: VectorHead
    ) -> npt.NDArray[np.float64]:
        """``logits`` for the texts' vectors already taken."""
        vectors = vectors32.astype(np.float64)
        out = np.zeros((len(vectors), head.targets))
        if len(head.used):
            # (texts, used targets, dims) products summed along the contiguous last axis:
            # each text's sum has the same length and order whatever the batch (no BLAS,
            # whose kernels differ between one row and many), in a few numpy calls.
            out[:, head.used] = (vectors[:, None, :] * head.weights[None, :, :]).sum(axis=-1)
        return out

    def matrix(self, texts: Sequence[Sequence[str]], chunk: int = 4096) -> npt.NDArray[np.float64]:
        """Each text's vector, one row per text (training's view)."""
        parts = [
            self.text_vectors([self.rows(t) for t in texts[start : start + chunk]])
            for start in range(0, len(texts), chunk)
        ]
        return np.concatenate(parts).astype(np.float64) if parts else np.zeros((0, self.dims))

    @classmethod
    def from_arrays(
        cls,
        words: npt.NDArray[np.str_],
        vectors: npt.NDArray[np.float16],
        weights: npt.NDArray[np.float16],
    ) -> WordVectors:
        return cls(
            tuple(str(w) for w in words),
            vectors.astype(np.float32),
            weights.astype(np.float32),
        )
