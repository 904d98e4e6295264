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

import bisect
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate, chain, compress, pairwise, repeat
from operator import is_not, itemgetter
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from streams.classify.document import Document
from streams.classify.models.features import (
    group_lexicon_sha256,
    masked,
    token_span,
    word_features,
)
from streams.classify.models.vectors import VECTORS_NAME, VectorHead, WordVectors

_FIRST = itemgetter(0)
_SECOND = itemgetter(1)
_ID_ARRAY = itemgetter(2)
_PAIR_WORD = itemgetter(3)
_VECTOR_ROW = itemgetter(4)
_FIRST_ROW = np.zeros(1, dtype=np.intp)  # reduceat's one segment, from row 0
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
        vectors: WordVectors | None = None,
        vector_head: npt.NDArray[np.float64] | None = None,
    ) -> None:
        self.name = name
        self.targets: tuple[str, ...] = tuple(card["targets"])
        self.card = card
        self.sha256 = sha256
        self._vocabulary = list(vocabulary)
        self._index = {feature: i for i, feature in enumerate(vocabulary)}
        self._pair_index = _pair_index(self._index)
        self._pair_table = _PairTable.of(self._pair_index)
        self._word_cache: dict[str, _WordEntry] = {}
        self._weights = weights
        self._bias = bias
        if weights.shape != (len(vocabulary), len(self.targets)):
            raise ArtefactError(f"{name}: weights shape {weights.shape} does not fit the card")
        # The distilled word vectors' block (vectors.py): z += the comment's vector @ head.
        self.vectors = vectors
        self._vector_head = vector_head
        self._head = VectorHead(vector_head) if vector_head is not None else None
        # The targets that read the word vectors (the others' head columns are zeros).
        self._vector_used = self._head.used if self._head is not None else np.zeros(0, np.intp)
        self.vector_columns = frozenset(int(c) for c in self._vector_used)
        if vectors is not None and (
            vector_head is None or vector_head.shape != (vectors.dims, len(self.targets))
        ):
            raise ArtefactError(f"{name}: the word-vector head does not fit the table")

    def target_index(self, target: str) -> int:
        try:
            return self.targets.index(target)
        except ValueError:
            raise ArtefactError(
                f"{self.name} has no model {target!r}; it has {', '.join(self.targets)}"
            ) from None

    def _word_ids(self, word: str) -> _WordEntry:
        """A word's in-vocabulary feature ids and how many features it has (and, for the
        batch path, the ids as an array, its index among the pair words and its word-vector
        row); cached per word, as the same words come back comment after comment."""
        cached = self._word_cache.get(word)
        if cached is None:
            own = word_features(word)
            index = self._index
            ids = tuple(index[f] for f in own if f in index)
            cached = _WordEntry(
                ids,
                len(own),
                np.array(ids, dtype=np.intp),
                -1 if self._pair_table is None else self._pair_table.word_index.get(word, -1),
                -1 if self.vectors is None else self.vectors.row_index.get(word, -1),
            )
            if len(self._word_cache) < 500_000:
                self._word_cache[word] = cached
        return cached

    def text_features(self, words: Sequence[str], doc: Document | None = None) -> TextFeatures:
        """One text's features as the models read them; ``doc`` (the document ``words`` are
        the words of, when there is one) lets the group-mention lookup use its word sets."""
        tokens, origin = masked(words, doc)
        # Per-token work in C (map, chain, accumulate): a Python loop over the words was most of
        # a short comment's feature cost. The ids come out in the same order as before.
        cached = list(map(self._word_cache.get, tokens))
        known: list[_WordEntry] = (
            [k if k is not None else self._word_ids(w) for k, w in zip(cached, tokens, strict=True)]
            if None in cached
            else cached  # type: ignore[assignment]
        )
        own: list[tuple[int, ...]] = list(map(_FIRST, known))
        ids: list[int] = list(chain.from_iterable(own))
        ends = list(accumulate(map(len, own)))  # after each token, how many ids so far
        n = sum(map(_SECOND, known))
        pairs: list[int] = []  # the first token of each pair in the vocabulary, in order
        if len(tokens) > 1:
            # Looked up by the pair of words, not by the formatted "b:<a> <b>" string: no new
            # string per pair, and a tuple of two strings hashes from their cached hashes.
            found = list(map(self._pair_index.get, pairwise(tokens)))
            if found.count(None) != len(found):
                present = list(map(is_not, found, repeat(None)))
                pairs = list(compress(range(len(found)), present))
                ids.extend(compress(found, present))  # type: ignore[arg-type]
        features_ = TextFeatures(ids, n + max(0, len(tokens) - 1), origin, ends, pairs)
        if self.vectors is not None:  # the rows the words' entries hold, in order
            features_.vector_rows = [row for row in map(_VECTOR_ROW, known) if row >= 0]
        return features_

    def scores(self, words: Sequence[str]) -> tuple[float, ...]:
        """Every target's probability for one text's normalised words."""
        return self.scores_batch([words])[0]

    def scores_batch(self, texts: Sequence[Sequence[str]]) -> list[tuple[float, ...]]:
        """Every target's probability for each text (``scores`` is this with one text)."""
        return self.scores_of([self.text_features(words) for words in texts])

    def scores_of(self, batch: Sequence[TextFeatures]) -> list[tuple[float, ...]]:
        """Every target's probability for each text, rounded to four decimals."""
        return [tuple(map(round, row, repeat(4))) for row in self.probabilities_of(batch)]

    def probabilities_of(
        self, batch: Sequence[TextFeatures], vectors: bool = True
    ) -> list[list[float]]:
        """Every target's probability for each text, unrounded (a detector rounds the one
        target it reads): one gather, one segmented sum and one sigmoid for the whole batch.
        Each text's sum runs over its own features in their order whatever the batch, so a
        text scores to the bit the same alone or batched.

        ``vectors=False`` leaves out the word-vector block: the targets that read it
        (``vector_columns``) are NaN, to be scored with it where they are asked for; every
        other target's probability is the same to the bit (its vector logit is 0.0, and
        ``z + 0.0`` is ``z``)."""
        if len(batch) == 1 and batch[0].ids:
            return [self._one_probabilities(batch[0], vectors)]
        lengths = [len(f.ids) for f in batch]
        total = sum(lengths)
        targets = len(self.targets)
        sums = np.zeros((len(batch), targets))
        if total:
            ids = np.fromiter(chain.from_iterable(f.ids for f in batch), np.intp, total)
            rows = self._weights[ids].astype(np.float64)
            nonempty = [i for i, n in enumerate(lengths) if n]
            starts = list(accumulate(lengths, initial=0))
            # reduceat sums each segment start..next start; empty segments are left at zero.
            sums[nonempty] = np.add.reduceat(rows, [starts[i] for i in nonempty], axis=0)
        counts = np.sqrt(np.maximum(1, [f.count for f in batch])).reshape(-1, 1)
        z = self._bias + sums / counts
        if vectors:
            z = z + self._vector_logits(batch)
        return self._sigmoid(z, vectors)

    def _sigmoid(self, z: npt.NDArray[np.float64], vectors: bool) -> list[list[float]]:
        probabilities = 1.0 / (1.0 + np.exp(-z))
        if not vectors and self.vector_columns:
            probabilities[..., self._vector_used] = math.nan
        listed: list[list[float]] = probabilities.tolist()
        return listed

    def probabilities_of_texts(
        self, texts: Sequence[tuple[Sequence[str], Document | None]], vectors: bool = True
    ) -> list[list[float]]:
        """``probabilities_of`` for texts given as (words, document or None), each with at
        least one word, for a whole batch at once: the batch's tokens are looked up in one
        pass and the per-text bookkeeping (which ids, in which order, how many) is done in
        numpy, with no ``TextFeatures`` per text (evidence takes those, for the few texts
        that need it). Each text's ids are gathered in ``text_features``' order (its words'
        features, then its pairs), so every sum, and so every bit, is the same."""
        return self.score_texts(texts, vectors)[0]

    def score_texts(
        self, texts: Sequence[tuple[Sequence[str], Document | None]], vectors: bool = True
    ) -> tuple[list[list[float]], BatchFeatures]:
        """``probabilities_of_texts``, and the batch's arrays, from which any one text's
        ``TextFeatures`` (for its evidence) is sliced rather than taken again."""
        masked_texts = [masked(words, doc) for words, doc in texts]
        tokens_of = [tokens for tokens, _ in masked_texts]
        texts_n = len(tokens_of)
        token_counts = np.fromiter(map(len, tokens_of), np.intp, texts_n)
        tokens = list(chain.from_iterable(tokens_of))
        cached = list(map(self._word_cache.get, tokens))
        known: list[_WordEntry] = (
            [k if k is not None else self._word_ids(w) for k, w in zip(cached, tokens, strict=True)]
            if None in cached
            else cached  # type: ignore[assignment]
        )
        own_counts = np.fromiter(map(len, map(_FIRST, known)), np.intp, len(known))
        token_ends = np.cumsum(token_counts)
        token_starts = token_ends - token_counts
        # Per text: how many word-feature ids, and how many features taken in all (the scale).
        word_ids_of = np.add.reduceat(own_counts, token_starts)
        taken = np.add.reduceat(np.fromiter(map(_SECOND, known), np.intp, len(known)), token_starts)
        taken += token_counts - 1  # every text has a word: its pairs are its words less one
        word_ids = np.concatenate(list(map(_ID_ARRAY, known)))
        # Pairs over the whole batch: those across two texts (at each text's last token) are
        # not pairs; the rest belong to the text of their first token.
        if self._pair_table is not None:
            found = self._pair_table.ids(np.fromiter(map(_PAIR_WORD, known), np.intp, len(known)))
        else:
            found = np.fromiter(
                map(self._pair_index.get, pairwise(tokens), repeat(-1)), np.intp, len(tokens) - 1
            )
        found[token_ends[:-1] - 1] = -1
        kept = np.flatnonzero(found >= 0)
        pair_ids = found[kept]
        text_of_token = np.repeat(np.arange(texts_n), token_counts)
        pair_ids_of = np.bincount(text_of_token[kept], minlength=texts_n)
        # Where each id goes in the gather: text by text, its word ids, then its pair ids.
        ids_of = word_ids_of + pair_ids_of
        starts = np.cumsum(ids_of) - ids_of
        order = np.empty(int(ids_of.sum()), dtype=np.intp)
        word_starts = np.cumsum(word_ids_of) - word_ids_of
        order[np.arange(len(word_ids)) + np.repeat(starts - word_starts, word_ids_of)] = word_ids
        pair_starts = np.cumsum(pair_ids_of) - pair_ids_of
        order[
            np.arange(len(pair_ids)) + np.repeat(starts + word_ids_of - pair_starts, pair_ids_of)
        ] = pair_ids
        sums = np.zeros((texts_n, len(self.targets)))
        nonempty = np.flatnonzero(ids_of)
        if len(nonempty):
            rows = self._weights[order].astype(np.float64)
            # reduceat sums each segment start..next start; empty segments are left at zero.
            sums[nonempty] = np.add.reduceat(rows, starts[nonempty], axis=0)
        counts = np.sqrt(np.maximum(1, taken)).reshape(-1, 1)
        z = self._bias + sums / counts
        if vectors and self.vectors is not None and self._head is not None:
            rows_found = np.fromiter(map(_VECTOR_ROW, known), np.intp, len(known))
            present = rows_found >= 0
            text_vectors = self.vectors.flat_vectors(
                rows_found[present], np.bincount(text_of_token[present], minlength=texts_n)
            )
            z = z + self.vectors.vector_logits(text_vectors, self._head)
        batch = BatchFeatures(
            masked_texts, known, order, starts, ids_of, taken, own_counts, token_starts, kept
        )
        if not vectors:
            batch.logits = z  # the word-vector block is added for the texts that ask
        return self._sigmoid(z, vectors), batch

    def with_vectors(self, batch: BatchFeatures, indices: Sequence[int]) -> list[list[float]]:
        """Every target's probability, the word-vector block included, for the texts at
        ``indices`` of a batch scored without it: its logits plus each text's vector logits,
        the same arithmetic as ``score_texts`` with ``vectors=True`` (a text's vector is its
        own rows' sum, whatever the batch), so the same bits."""
        assert batch.logits is not None
        z = batch.logits[np.asarray(indices, dtype=np.intp)]
        if self.vectors is not None and self._head is not None:
            rows = [batch.features(i).vector_rows for i in indices]
            z = z + self.vectors.logits(rows, self._head)
        return self._sigmoid(z, True)

    def _one_probabilities(self, text: TextFeatures, vectors: bool = True) -> list[float]:
        # ``probabilities_of``'s arithmetic for one text with features, without the batch's
        # bookkeeping (a dozen fewer numpy calls: most of a single text's cost).
        ids = np.fromiter(text.ids, np.intp, len(text.ids))
        # ``take`` and a ready index array: the same rows and sum, fewer conversions.
        rows = self._weights.take(ids, axis=0).astype(np.float64)
        summed = np.add.reduceat(rows, _FIRST_ROW, axis=0)[0]
        # One row, and the scale as a Python float: math.sqrt and np.sqrt are both the IEEE
        # square root, so this is the same arithmetic with fewer numpy calls on tiny arrays.
        z = self._bias + summed / math.sqrt(max(1, text.count))
        if vectors:
            vector = self._vector_logits([text])
            if not isinstance(vector, float):
                z = z + vector[0]
        probabilities: list[float] = self._sigmoid(z, vectors)  # type: ignore[assignment]
        return probabilities

    def _vector_logits(self, batch: Sequence[TextFeatures]) -> npt.NDArray[np.float64] | float:
        if self.vectors is None or self._head is None:
            return 0.0
        return self.vectors.logits([f.vector_rows for f in batch], self._head)

    def contributions(self, words: Sequence[str], target: str, top: int) -> list[Contribution]:
        """The ``top`` features that pushed ``target``'s score up most, strongest first."""
        return self.evidence(self.text_features(words), target, top)

    def evidence(self, text: TextFeatures, target: str, top: int) -> list[Contribution]:
        """``contributions`` for features already taken: each distinct feature once, at the
        first token it came from, ranked by weight then by feature string."""
        column = self.target_index(target)
        distinct = text.distinct()
        weights = self._weights[distinct, column]
        positive = np.flatnonzero(weights > 0)
        if len(positive) > top:
            # Only features weighing at least the top-th largest can rank in the top; the
            # tie-break by feature string is done on those few in Python.
            cut = np.partition(weights[positive], len(positive) - top)[len(positive) - top]
            positive = positive[weights[positive] >= cut]
        vocabulary = self._vocabulary
        ranked = sorted(
            (-float(weights[k]), vocabulary[feature_id], feature_id)
            for k, feature_id in zip(positive.tolist(), distinct[positive].tolist(), strict=True)
        )
        result = []
        for negative, feature, feature_id in ranked[:top]:
            start, last = token_span(feature, text.first_token(feature_id))
            result.append(Contribution(start, last, round(-negative, 4)))
        return result


class BatchFeatures:
    """A scored batch's arrays (``TextModels.score_texts``), kept so that one text's
    ``TextFeatures`` is a few slices of them: the same ids, count, origins, ends, pairs and
    word-vector rows as ``text_features`` gives (a test holds them equal)."""

    __slots__ = (
        "_ids_of",
        "_kept",
        "_known",
        "_masked",
        "_order",
        "_own_counts",
        "_starts",
        "_taken",
        "_token_starts",
        "logits",
    )

    def __init__(
        self,
        masked_texts: list[tuple[list[str], list[int]]],
        known: list[_WordEntry],
        order: npt.NDArray[np.intp],
        starts: npt.NDArray[np.intp],
        ids_of: npt.NDArray[np.intp],
        taken: npt.NDArray[np.intp],
        own_counts: npt.NDArray[np.intp],
        token_starts: npt.NDArray[np.intp],
        kept: npt.NDArray[np.intp],
    ) -> None:
        self._masked = masked_texts
        self._known = known
        self._order = order
        self._starts = starts
        self._ids_of = ids_of
        self._taken = taken
        self._own_counts = own_counts
        self._token_starts = token_starts
        self._kept = kept  # each pair's first token, in the batch's tokens
        # Each text's logits without the word-vector block, when scored without it.
        self.logits: npt.NDArray[np.float64] | None = None

    def features(self, index: int) -> TextFeatures:
        tokens, origin = self._masked[index]
        start, first = int(self._starts[index]), int(self._token_starts[index])
        end = first + len(tokens)
        ids = self._order[start : start + int(self._ids_of[index])].tolist()
        ends = list(accumulate(self._own_counts[first:end].tolist()))
        low, high = np.searchsorted(self._kept, [first, end - 1])
        pairs = (self._kept[low:high] - first).tolist()
        text = TextFeatures(ids, int(self._taken[index]), origin, ends, pairs)
        rows = map(_VECTOR_ROW, self._known[first:end])
        text.vector_rows = [row for row in rows if row >= 0]
        return text


class TextFeatures:
    """One text's in-vocabulary feature ids, repeats kept, in the order they are taken (each
    token's words' features, then the pairs; the score sums them in that order), the count of
    every feature taken (the 1/sqrt(n) scale), and where each id came from, for evidence."""

    __slots__ = ("_distinct", "count", "ends", "ids", "origin", "pairs", "vector_rows")

    def __init__(
        self, ids: list[int], count: int, origin: list[int], ends: list[int], pairs: list[int]
    ) -> None:
        self.ids = ids
        self.count = count
        self.origin = origin  # masked token -> index of its first word in the text
        self.ends = ends
        self.pairs = pairs
        self.vector_rows: list[int] = []  # the tokens' rows in the word-vector table
        self._distinct: npt.NDArray[np.intp] | None = None

    def distinct(self) -> npt.NDArray[np.intp]:
        """Each id once, in no particular order (evidence ranks them by weight, then by
        feature string, so the order it reads them in cannot matter), for the targets that
        need evidence. A set in C, not ``np.unique``'s sort: a third of a long comment's
        evidence cost went to it."""
        if self._distinct is None:
            once = set(self.ids)
            self._distinct = np.fromiter(once, np.intp, len(once))
        return self._distinct

    def first_token(self, feature_id: int) -> int:
        """The index (in the text's words) of the first token ``feature_id`` came from, a
        pair's first word for a pair: the token whose features hold its first occurrence."""
        position = self.ids.index(feature_id)
        words = self.ends[-1] if self.ends else 0
        if position >= words:
            return self.origin[self.pairs[position - words]]
        return self.origin[bisect.bisect_right(self.ends, position)]


class _WordEntry(NamedTuple):
    """What the models need of one (masked) word, worked out once per word."""

    ids: tuple[int, ...]  # its own features' ids in the vocabulary, in feature order
    features: int  # how many features it has, in the vocabulary or not (the 1/sqrt(n) scale)
    id_array: npt.NDArray[np.intp]  # ids, for the batch path's concatenation
    pair_word: int  # its index among the pair features' words, -1 when in none
    vector_row: int  # its row in the word-vector table, -1 when it has none


class _PairTable:
    """The pair features as numbers, so a whole batch's neighbouring words are looked up in
    numpy: each pair feature ``"b:<a> <b>"`` is the key ``index(a) * words + index(b)``, the
    keys sorted, and a batch's pairs found with one ``searchsorted``. Built only when every
    pair feature holds exactly one space (it splits one way); otherwise the batch path looks
    pairs up in the dict, as ``text_features`` does."""

    def __init__(
        self, word_index: dict[str, int], keys: npt.NDArray[np.int64], ids: npt.NDArray[np.intp]
    ) -> None:
        self.word_index = word_index
        self._words = len(word_index)
        self._keys = keys
        self._ids = ids

    @classmethod
    def of(cls, pairs: dict[tuple[str, str], int]) -> _PairTable | None:
        if not pairs:
            return None
        seen: set[int] = set()
        for feature_id in pairs.values():
            if feature_id in seen:  # entered under two splits: a pair word holds a space
                return None
            seen.add(feature_id)
        words = sorted({w for pair in pairs for w in pair})
        word_index = {w: i for i, w in enumerate(words)}
        keys = np.array(
            [word_index[a] * len(words) + word_index[b] for a, b in pairs], dtype=np.int64
        )
        order = np.argsort(keys, kind="stable")
        ids = np.fromiter(pairs.values(), np.intp, len(pairs))
        return cls(word_index, keys[order], ids[order])

    def ids(self, pair_words: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """For each neighbouring two of ``pair_words`` (tokens' ``pair_word``), the pair
        feature's id, or -1 where the two are no pair feature."""
        first, second = pair_words[:-1], pair_words[1:]
        keys = first * self._words + second
        at = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        hit = (first >= 0) & (second >= 0) & (self._keys[at] == keys)
        return np.where(hit, self._ids[at], -1)


def _pair_index(index: dict[str, int]) -> dict[tuple[str, str], int]:
    """Every pair feature's id by its two words: ``(a, b)`` -> the id of ``"b:<a> <b>"``.

    A pair feature whose words hold spaces could be split more than one way, so it is entered
    under every split: a lookup by ``(a, b)`` then finds exactly what the formatted string
    would (the two agree whenever ``"b:{a} {b}"`` equals the feature)."""
    pairs: dict[tuple[str, str], int] = {}
    for feature, feature_id in index.items():
        if feature.startswith("b:"):
            words = feature[2:]
            at = words.find(" ")
            while at >= 0:
                pairs[(words[:at], words[at + 1 :])] = feature_id
                at = words.find(" ", at + 1)
    return pairs


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
        head = data["vector_head"].astype(np.float64) if "vector_head" in data else None
        table_sha = str(data["word_vectors_sha256"]) if "word_vectors_sha256" in data else None
    vectors = load_vectors(directory, table_sha) if table_sha else None
    return TextModels(name, vocabulary, weights, bias, card, digest, vectors, head)


def load_vectors(directory: Path, sha256: str) -> WordVectors:
    """The word-vector table the weights name by sha256 (so the models' own hash, which joins
    the rules digest, pins the table too)."""
    path = directory / f"{VECTORS_NAME}.npz"
    if not path.exists():
        raise ArtefactError(f"word-vector table {path.name} not found in {directory}")
    digest = _sha256(path)
    if digest != sha256:
        raise ArtefactError(f"{path.name}: sha256 {digest} differs from the models' {sha256}")
    with np.load(path, allow_pickle=False) as data:
        return WordVectors.from_arrays(data["words"], data["vectors"], data["weights"])
