"""A tiny stand-in for the sentence encoder, for tests of distillation and training.

CI does not install the encoder package (it is in the ``train`` extra: training only), so the
tests that train a tiny artefact give ``training.train`` this instead: every word piece a
fixed pseudo-random vector (seeded by its id), a sequence's vector their mean, as the real
encoder's mean pooling gives one vector per sequence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

HIDDEN = 384


class StubEncoder:
    cls = 0
    sep = 1

    def pieces(self, word: str) -> list[int]:
        return [2 + int(hashlib.sha256(word.encode()).hexdigest()[:6], 16) % 5000]

    def embed(self, sequences: Sequence[Sequence[int]]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(sequences), HIDDEN), dtype=np.float32)
        for i, seq in enumerate(sequences):
            out[i] = np.mean(
                [np.random.default_rng(piece).standard_normal(HIDDEN) for piece in seq], axis=0
            )
        return out

    def weights_sha256(self) -> str:
        return "stub"
