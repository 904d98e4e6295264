"""A trained set of linear text models, as committed in the repo, and how they score a text.

One artefact holds several models (one per target: ``offensive``, ``hate`` …) over one shared
feature vocabulary, so a comment's features are looked up once and every model's score is one
row sum: ``sigmoid(bias + sum(W[features]) / sqrt(n_features))``, features counted with repeats
(``features.py``). The arithmetic is done in
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

from streams.classify.models.features import (
    features,
    group_lexicon_sha256,
    masked,
    token_span,
    word_features,
)

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
        self._word_cache: dict[str, tuple[tuple[int, ...], int]] = {}
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

    def _word_ids(self, word: str) -> tuple[tuple[int, ...], int]:
        """A word's in-vocabulary feature ids and how many features it has; cached per word,
        as the same words come back comment after comment."""
        cached = self._word_cache.get(word)
        if cached is None:
            own = word_features(word)
            index = self._index
            cached = (tuple(index[f] for f in own if f in index), len(own))
            if len(self._word_cache) < 500_000:
                self._word_cache[word] = cached
        return cached

    def _ids(self, words: Sequence[str]) -> tuple[list[int], int]:
        """The ids of a text's in-vocabulary features (repeats kept) and its feature count."""
        tokens, _ = masked(words)
        ids: list[int] = []
        n = 0
        for word in tokens:
            own, count = self._word_ids(word)
            ids.extend(own)
            n += count
        index = self._index
        for i in range(len(tokens) - 1):
            pair = index.get(f"b:{tokens[i]} {tokens[i + 1]}")
            if pair is not None:
                ids.append(pair)
        return ids, n + max(0, len(tokens) - 1)

    def scores(self, words: Sequence[str]) -> tuple[float, ...]:
        """Every target's probability for one text's normalised words."""
        return self.scores_batch([words])[0]

    def scores_batch(self, texts: Sequence[Sequence[str]]) -> list[tuple[float, ...]]:
        """Every target's probability for each text: one gather and one segmented sum for the
        whole batch (``scores`` is this with one text, so the two agree to the bit)."""
        ids: list[int] = []
        starts: list[int] = []
        sizes: list[int] = []
        for words in texts:
            own, n = self._ids(words)
            starts.append(len(ids))
            ids.extend(own)
            sizes.append(n)
        result: list[tuple[float, ...]] = []
        if ids:
            rows = self._weights[np.asarray(ids, dtype=np.intp)].astype(np.float64)
            # reduceat needs a valid start for empty segments; they are zeroed below.
            safe = [min(s, len(ids) - 1) for s in starts]
            sums = np.add.reduceat(rows, safe, axis=0)
        else:
            sums = np.zeros((len(texts), len(self.targets)))
        ends = [*starts[1:], len(ids)]
        for i, n in enumerate(sizes):
            summed = sums[i] if ends[i] > starts[i] else np.zeros(len(self.targets))
            result.append(self._probabilities(summed, n))
        return result

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
