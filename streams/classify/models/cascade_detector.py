"""The ``cascade`` detector type: a linear model's decision, with the encoder's where it is unsure.

Policy file::

    - type: cascade
      params: {model: offensive}      # a target of text_models with a band in cascade_head

Above the target's uncertain band (``cascade_head.json``, chosen on validation) the linear
model decides, as ``model`` does; below it, nothing; inside it, the comment's sentence vector
(all-MiniLM-L6-v2, ``cascade.py``) goes through the target's head, and the head's decision
replaces the linear one. A hit inside the band carries the band's top as its confidence (so
the spec's threshold, at most the band's top, lets the head's decision through) and the
linear model's n-grams that pushed the score up as its evidence: the encoder's own reasons are
not readable, the words that made the comment uncertain are.

The encoder package is a run-time dependency of a policy that declares a cascade: without it,
building the classifier fails (``EncoderMissing``) rather than quietly deciding by the linear
model alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from streams.classify.detectors import BuildContext, Params
from streams.classify.document import Document, Hit
from streams.classify.models.artefact import ArtefactError
from streams.classify.models.cascade import (
    CascadeHeads,
    PieceEncoder,
    checked_encoder,
    encoder_ids,
    load_heads,
    sentence_vectors,
)
from streams.classify.models.detector import ModelDetector
from streams.classify.models.encoder import EncoderMissing
from streams.classify.models.features import masked
from streams.policy.model import PolicyError

VECTOR_KEY = ("encoder-sentence-vector",)


class CascadeDetector(ModelDetector):
    def __init__(self, params: Params, ctx: BuildContext) -> None:
        super().__init__(params, ctx)
        try:
            self.heads: CascadeHeads = load_heads()
            self.band = self.heads.band(self.target)
            self.encoder: PieceEncoder = checked_encoder(self.heads.encoder_sha256)
        except (ArtefactError, EncoderMissing) as exc:
            raise params.error(f"cascade {self.target}: {exc}") from exc
        if self.heads.card.get("linear_artefact_sha256") != self.models.sha256:
            raise params.error(
                f"cascade {self.target}: its bands were chosen on other linear weights than "
                f"{self.models.name}'s; retrain with modstream train --cascade"
            )

    def serve(self, threshold: float) -> None:
        # A threshold above the band's top would drop every decision the head makes.
        if threshold > self.band.high:
            raise PolicyError(
                f"cascade {self.target}: threshold {threshold} is above its band's top "
                f"{self.band.high} (cascade_head.json), so the encoder's decisions could not count"
            )

    def detect_batch(self, docs: Sequence[Document]) -> list[list[Hit]]:
        key = self._memo_key
        todo = [doc for doc in docs if doc.token_words() and not doc.remembers(key)]
        batch = self.models.scores_of([self._features(doc) for doc in todo])
        for doc, scores in zip(todo, batch, strict=True):
            doc.remember(key, scores)
        # Every comment of the batch that reaches the encoder, through it together.
        uncertain = [
            doc
            for doc in docs
            if doc.token_words()
            and not doc.remembers(VECTOR_KEY)
            and self.band.contains(doc.memo(key, lambda: ())[self.column])
        ]
        if uncertain:
            vectors = sentence_vectors(self.encoder, [self._ids(doc) for doc in uncertain])
            for doc, vector in zip(uncertain, vectors, strict=True):
                doc.remember(VECTOR_KEY, vector)
        return [self.detect(doc) for doc in docs]

    def detect(self, doc: Document) -> list[Hit]:
        words = doc.token_words()
        if not words:
            return []
        scores: tuple[float, ...] = doc.memo(
            self._memo_key, lambda: self.models.scores_of([self._features(doc)])[0]
        )
        score = scores[self.column]
        if score >= self.band.high:
            confidence = score
        elif score < self.band.low:
            return []
        else:
            if self.head_probability(doc) < self.band.head_threshold:
                return []
            confidence = self.band.high
        hits = [
            doc.hit_for_tokens(c.first_token, c.last_token, confidence, self.target)
            for c in self.models.evidence(self._features(doc), self.target, self.evidence)
        ]
        return hits or [doc.hit_for_tokens(0, len(words) - 1, confidence, self.target)]

    def head_probability(self, doc: Document) -> float:
        """The target's head on the comment's sentence vector (computed once per comment)."""
        vector = doc.memo(VECTOR_KEY, lambda: sentence_vectors(self.encoder, [self._ids(doc)])[0])
        return self.heads.probability(vector, self.target)

    def _ids(self, doc: Document) -> list[int]:
        return encoder_ids(masked(doc.token_words(), doc)[0], self.encoder)
