"""The ``model`` detector type: a trained text model's score as a hit, with its evidence.

Policy file::

    - id: model.offensive
      type: model
      threshold: 0.57          # chosen on validation, written in the model card
      params: {model: offensive, evidence: 3}

``model`` names a target of the committed artefact (``artefact``, default ``text_models``).
The hits are the ``evidence`` features that pushed the score up most, as spans of the original
text, each carrying the comment's score as its confidence: the detector's threshold then
decides, as for every other detector. A score under ``min_score`` (default 0.3), or under the
lowest threshold at which a hit of this detector can count in the policy (``serve``), gives no
hit at all, so the evidence is worked out only for comments that could become findings.
A model reads the normalised words, so a disguised word scores as the plain one does.
Combining with rules is the policy's job (``composite``: ``all_of`` for a gate, ``any_of``
beside rules).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from streams.classify.detectors import BuildContext, Detector, Params
from streams.classify.document import Document, Hit
from streams.classify.models.artefact import (
    DEFAULT_ARTEFACT,
    ArtefactError,
    BatchFeatures,
    TextFeatures,
    load_models,
)


class ModelDetector(Detector):
    def __init__(self, params: Params, ctx: BuildContext) -> None:
        artefact = params.get("artefact", DEFAULT_ARTEFACT)
        target = params.required("model")
        if not isinstance(artefact, str) or not isinstance(target, str):
            raise params.error("params.model and params.artefact must be names")
        try:
            self.models = load_models(artefact)
            self.column = self.models.target_index(target)
        except ArtefactError as exc:
            raise params.error(str(exc)) from exc
        self.target = target
        self._memo_key = ("model-scores", self.models.name)
        self._reads_vectors = self.column in self.models.vector_columns
        self._features_key = ("model-features", self.models.name)
        self._batch_key = ("model-batch", self.models.name)
        self.evidence = params.integer("evidence", 3, low=1) or 3
        self.min_score = params.number("min_score", 0.3)
        # The lowest threshold of the specs this detector serves (Detector.serve), once the
        # classifier has built them all: evidence under it could make no finding anywhere.
        self._floor: float | None = None
        self._bar = self.min_score  # a score under it gives no hit: max(min_score, floor)

    def serve(self, threshold: float) -> None:
        self._floor = threshold if self._floor is None else min(self._floor, threshold)
        self._bar = max(self.min_score, self._floor)

    def detect_batch(self, docs: Sequence[Document]) -> list[list[Hit]]:
        # One gather and one sum for the whole batch; each document keeps its probabilities
        # in its memo, where detect (and every other model detector of the artefact) finds
        # them.
        key = self._memo_key
        todo = [doc for doc in docs if doc.token_words() and not doc.remembers(key)]
        # Scored from the words alone: a comment's features (TextFeatures) are taken only
        # when its evidence is needed (``detect``), which few comments are. The word-vector
        # targets are left out here and scored for the comments that ask for them.
        self._remember(todo, vectors=False)
        if self._reads_vectors:
            self._add_vectors([doc for doc in docs if doc.token_words() and self._unscored(doc)])
        return [self.detect(doc) for doc in docs]

    def _add_vectors(self, docs: Sequence[Document]) -> None:
        """Score the word-vector targets of ``docs``: from their batch's logits where they
        were scored in one, else from their words."""
        by_batch: dict[int, tuple[BatchFeatures, list[int], list[Document]]] = {}
        alone: list[Document] = []
        for doc in docs:
            scored: tuple[BatchFeatures, int] | None = doc.recall(self._batch_key)
            if scored is None or scored[0].logits is None:
                alone.append(doc)
                continue
            batch, index = scored
            entry = by_batch.setdefault(id(batch), (batch, [], []))
            entry[1].append(index)
            entry[2].append(doc)
        for batch, indices, of in by_batch.values():
            full = self.models.with_vectors(batch, indices)
            for doc, probabilities in zip(of, full, strict=True):
                doc.remember(self._memo_key, probabilities)
        self._remember(alone, vectors=True)

    def _remember(self, docs: Sequence[Document], vectors: bool) -> None:
        if docs:
            texts = [(doc.token_words(), doc) for doc in docs]
            scored, batch = self.models.score_texts(texts, vectors)
            for index, (doc, probabilities) in enumerate(zip(docs, scored, strict=True)):
                doc.remember(self._memo_key, probabilities)
                # Where this comment's features are, should its evidence be needed.
                doc.remember(self._batch_key, (batch, index))

    def _unscored(self, doc: Document) -> bool:
        """Whether ``doc``'s remembered probabilities leave this detector's target out."""
        probabilities: list[float] | None = doc.recall(self._memo_key)
        return probabilities is None or math.isnan(probabilities[self.column])

    def detect(self, doc: Document) -> list[Hit]:
        words = doc.token_words()
        if not words:
            return []
        # All targets of one artefact are scored together, once per comment.
        probabilities: list[float] = doc.memo(
            self._memo_key,
            lambda: self.models.probabilities_of([self._features(doc)], vectors=False)[0],
        )
        probability = probabilities[self.column]
        if probability != probability:  # NaN: a word-vector target, not yet scored
            probabilities = self.models.probabilities_of([self._features(doc)])[0]
            doc.remember(self._memo_key, probabilities)
            probability = probabilities[self.column]
        # The score is the probability rounded to four decimals, which moves it by at most
        # 0.00005: far enough under the bar, the rounding cannot lift it over, so most
        # comments skip it.
        if probability < self._bar - 0.0001:
            return []
        score = round(probability, 4)
        if score < self._bar:
            return []
        hits = []
        for c in self.models.evidence(self._features(doc), self.target, self.evidence):
            hits.append(doc.hit_for_tokens(c.first_token, c.last_token, score, self.target))
        if not hits:  # a score with no positive feature: the whole comment is the evidence
            hits.append(doc.hit_for_tokens(0, len(words) - 1, score, self.target))
        return hits

    def _features(self, doc: Document) -> TextFeatures:
        # Taken once per comment and artefact: the scores and every target's evidence read them.
        features: TextFeatures = doc.memo(self._features_key, lambda: self._take_features(doc))
        return features

    def _take_features(self, doc: Document) -> TextFeatures:
        scored: tuple[BatchFeatures, int] | None = doc.recall(self._batch_key)
        if scored is not None:
            batch, index = scored
            return batch.features(index)
        return self.models.text_features(doc.token_words(), doc)
