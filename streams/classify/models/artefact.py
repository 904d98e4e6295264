"""A trained set of linear text models, as committed in the repo, and how they score a text.

One artefact holds several models (one per target: ``offensive``, ``hate`` …) over one shared
feature vocabulary, so a comment's features are looked up once and every model's score is one
row sum: ``sigmoid(bias + sum(W[features]) / sqrt(n_features))``. The arithmetic is done in
float64 over the features in a fixed (sorted) order and the probability is rounded to four
decimals, so the same comment scores the same on every machine.

The artefact is two files: ``<name>.npz`` (feature strings, weights, biases) and
``<name>.json`` (the model card's machine-readable part: targets, thresholds, figures, sha256
of the npz). Loading checks the sha256, so a card can never describe other weights.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from streams.classify.models.features import features, group_lexicon_sha256, token_span

ARTEFACT_DIR = Path(__file__).resolve().parent / "artefacts"
DEFAULT_ARTEFACT = "text_models"


class ArtefactError(ValueError):
    """A model artefact is missing, altered, or does not match its card."""


@dataclass(frozen=True)
class Contribution:
    """One feature's share of a score, as the tokens it came from."""

    first_token: int
    last_token: int
    weight: float


class TextModels:
    def __init__(
        self,
        name: str,
        vocabulary: Sequence[str],
        weights: npt.NDArray[np.float32],
        bias: npt.NDArray[np.float64],
        card: dict[str, Any],
        sha256: str,
    ) -> None:
        self.name = name
        self.targets: tuple[str, ...] = tuple(card["targets"])
        self.card = card
        self.sha256 = sha256
        self._index = {feature: i for i, feature in enumerate(vocabulary)}
        self._weights = weights
        self._bias = bias
        if weights.shape != (len(vocabulary), len(self.targets)):
            raise ArtefactError(f"{name}: weights shape {weights.shape} does not fit the card")

    def target_index(self, target: str) -> int:
        try:
            return self.targets.index(target)
        except ValueError:
            raise ArtefactError(
                f"{self.name} has no model {target!r}; it has {', '.join(self.targets)}"
            ) from None

    def _ids(self, words: Sequence[str]) -> tuple[dict[str, int], list[int]]:
        found = features(words)
        index = self._index
        ids = sorted(index[f] for f in found if f in index)
        return found, ids

    def scores(self, words: Sequence[str]) -> tuple[float, ...]:
        """Every target's probability for one text's normalised words."""
        found, ids = self._ids(words)
        return self._probabilities(self._weights[ids].sum(axis=0, dtype=np.float64), len(found))

    def scores_batch(self, texts: Sequence[Sequence[str]]) -> list[tuple[float, ...]]:
        """The same numbers as ``scores`` for each text (a test holds them equal)."""
        return [self.scores(words) for words in texts]

    def _probabilities(self, summed: npt.NDArray[np.float64], n: int) -> tuple[float, ...]:
        z = self._bias + summed / np.sqrt(max(1, n))
        p = 1.0 / (1.0 + np.exp(-z))
        return tuple(round(float(v), 4) for v in p)

    def contributions(self, words: Sequence[str], target: str, top: int) -> list[Contribution]:
        """The ``top`` features that pushed ``target``'s score up most, strongest first."""
        column = self.target_index(target)
        found = features(words)
        index = self._index
        scored = [
            (float(self._weights[index[f], column]), f, first)
            for f, first in found.items()
            if f in index
        ]
        scored = [s for s in scored if s[0] > 0]
        scored.sort(key=lambda s: (-s[0], s[1]))
        result = []
        for weight, feature, first in scored[:top]:
            start, last = token_span(feature, first)
            result.append(Contribution(start, last, round(weight, 4)))
        return result


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@cache
def load_models(name: str = DEFAULT_ARTEFACT, directory: Path = ARTEFACT_DIR) -> TextModels:
    """Load and verify one artefact; cached, since a worker builds classifiers per policy."""
    weights_path = directory / f"{name}.npz"
    card_path = directory / f"{name}.json"
    if not weights_path.exists() or not card_path.exists():
        raise ArtefactError(f"model artefact {name!r} not found in {directory}")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    digest = _sha256(weights_path)
    if digest != card.get("sha256"):
        raise ArtefactError(
            f"{weights_path.name}: sha256 {digest} differs from its card's {card.get('sha256')}"
        )
    masking = card.get("features", {}).get("masked_groups_sha256")
    if masking != group_lexicon_sha256():
        raise ArtefactError(
            f"{name}: trained with another protected_groups list than the one installed; "
            "retrain (modstream train) after editing the list"
        )
    with np.load(weights_path, allow_pickle=False) as data:
        vocabulary = [str(v) for v in data["vocabulary"]]
        weights = data["weights"].astype(np.float32)
        bias = data["bias"].astype(np.float64)
    return TextModels(name, vocabulary, weights, bias, card, digest)
