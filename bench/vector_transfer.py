"""Do distilled word vectors help the text models transfer? n-gram-only against n-gram+vectors.

    python bench/vector_transfer.py --corpora ../shared/data/corpora [--cache /tmp/vt.pkl]

Measures transfer, not fit, on rows no threshold or model saw, never on a test split:

- leave one corpus out: for the targets two corpora define (offensive, hate, threat), train
  without one corpus, threshold on the others' validation rows, score the left-out corpus's
  *validation* rows;
- every target on the validation split: own corpora's F-score at the threshold chosen there,
  and the worst rate of clean validation rows flagged in any other corpus, and on druglib.

Variants: ``ngram`` (the committed design), ``append`` (the comment's vector as extra scaled
columns of the same logistic regression), ``head`` (a separate logistic regression on the
vector, logits averaged with the n-gram model's), each vector masked (group words as GROUP) or
not. Prints one markdown table; docs/quality.md carries it.
"""

from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.classify.document import Document
from streams.classify.models import distil, training
from streams.classify.models.corpora import TARGETS, load_all
from streams.classify.models.features import masked


def _load(corpora: Path, cache: Path | None) -> dict[str, Any]:
    if cache and cache.exists():
        cached: dict[str, Any] = pickle.loads(cache.read_bytes())
        return cached
    rows_in = load_all(corpora)
    texts = [r.text for r in rows_in]
    rows = [training._corpus_row(r) for r in rows_in]
    project_texts, project = training.project_rows(training.PROJECT_TRAIN_SET)
    texts += project_texts
    rows += project
    words = [Document.build(t).token_words() for t in texts]
    data = {"rows": rows, "words": words}
    if cache:
        cache.write_bytes(pickle.dumps(data))
    return data


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpora", type=Path, default=training.DEFAULT_CORPORA)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--variants", default="ngram,head-masked,head-plain,append-masked")
    args = parser.parse_args()
    t0 = time.perf_counter()
    data = _load(args.corpora, args.cache)
    rows, words = data["rows"], data["words"]
    split = np.array([r.split for r in rows])
    source = np.array([r.source for r in rows])
    group = np.array([r.group for r in rows])
    weight = np.where(source == "project", training.PROJECT_WEIGHT, 1.0)
    train_mask = split == "train"
    tokens_masked = [masked(w)[0] for w in words]
    sys.stderr.write(f"loaded {len(rows)} rows in {time.perf_counter() - t0:.0f} s\n")

    train_texts = [t for t, s in zip(tokens_masked, split, strict=True) if s == "train"]
    t1 = time.perf_counter()
    arrays, card = distil.distil(train_texts)
    table = distil.table(arrays)
    sys.stderr.write(f"distilled {card['words']} words in {time.perf_counter() - t1:.0f} s\n")
    vec = {
        "masked": table.matrix(tokens_masked),
        "plain": table.matrix([list(w) for w in words]),
    }
    vocabulary = training.build_vocabulary(
        [w for w, s in zip(words, split, strict=True) if s == "train"]
    )
    x = training.vectorise(words, {f: i for i, f in enumerate(vocabulary)})
    sys.stderr.write(f"features in {time.perf_counter() - t0:.0f} s\n")

    def labels(target: str) -> Any:
        return np.array([{True: 1, False: 0, None: -1}[r.label(target)] for r in rows], np.int8)

    def ngram_logit(fit_mask: np.ndarray, y: np.ndarray) -> Any:
        model = training.fit(x[fit_mask], y[fit_mask], weight[fit_mask])
        return model.intercept_[0] + x @ model.coef_[0].astype(np.float32).astype(np.float64)

    def head_logit(v: np.ndarray, fit_mask: np.ndarray, y: np.ndarray) -> Any:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000)
        model.fit(v[fit_mask], y[fit_mask], sample_weight=weight[fit_mask])
        return model.intercept_[0] + v @ model.coef_[0]

    def append_logit(v: np.ndarray, fit_mask: np.ndarray, y: np.ndarray) -> Any:
        xa = sp.hstack([x, sp.csr_matrix(v * args.scale)], format="csr")
        model = training.fit(xa[fit_mask], y[fit_mask], weight[fit_mask])
        return model.intercept_[0] + xa @ model.coef_[0]

    cache_ngram: dict[tuple[str, str], np.ndarray] = {}

    def logit(variant: str, target: str, held_out: str, y: np.ndarray) -> Any:
        fit_mask = train_mask & (y >= 0) & (source != held_out)
        key = (target, held_out)
        if variant == "ngram" or variant.startswith("head"):
            if key not in cache_ngram:
                cache_ngram[key] = ngram_logit(fit_mask, y)
            base = cache_ngram[key]
            if variant == "ngram":
                return base
            v = vec[variant.split("-")[1]]
            return (base + head_logit(v, fit_mask, y)) / 2
        return append_logit(vec[variant.split("-")[1]], fit_mask, y)

    def probability(z: np.ndarray) -> Any:
        return np.round(1.0 / (1.0 + np.exp(-z)), 4)

    results: dict[str, dict[str, str]] = {}
    for variant in args.variants.split(","):
        out = results.setdefault(variant, {})
        for target in TARGETS:
            y = labels(target)
            p = probability(logit(variant, target, "", y))
            valid = (split == "validation") | (source == "project")
            threshold, _ = training.choose_threshold(
                target, p[valid], y[valid], source[valid], group[valid]
            )
            flagged = p >= threshold
            vmask = split == "validation"
            own = np.isin(source, training.OWN_CORPORA[target]) & vmask & (y >= 0)
            c = training.counts(y[own], flagged[own])
            clean_rates = {
                name: float(flagged[vmask & (source == name) & (y == 0)].mean())
                for name in sorted(set(source) - {"project"})
                if name not in training.OWN_CORPORA[target]
                and (vmask & (source == name) & (y == 0)).any()
            }
            worst = max(clean_rates.items(), key=lambda kv: kv[1])
            out[f"val {target}"] = (
                f"{c.precision:.2f}/{c.recall:.2f}/{c.f():.3f} t{threshold:.2f} "
                f"worst {worst[0]} {worst[1]:.2%}, druglib {clean_rates.get('druglib', 0):.2%}"
            )
            sys.stderr.write(f"{variant} {target}: {out[f'val {target}']}\n")
        for target, own_corpora in training.OWN_CORPORA.items():
            if len(own_corpora) < 2:
                continue
            y = labels(target)
            for held_out in own_corpora:
                p = probability(logit(variant, target, held_out, y))
                valid = (split == "validation") & (source != held_out)
                threshold, _ = training.choose_threshold(
                    target, p[valid], y[valid], source[valid], np.array([""] * int(valid.sum()))
                )
                test = (split == "validation") & (source == held_out) & (y >= 0)
                c = training.counts(y[test], p[test] >= threshold)
                out[f"loco {target} -{held_out}"] = (
                    f"{c.precision:.2f}/{c.recall:.2f}/{c.f():.3f} t{threshold:.2f}"
                )
                sys.stderr.write(
                    f"{variant} loco {target} -{held_out}: {out[f'loco {target} -{held_out}']}\n"
                )
    variants = list(results)
    print("| measure | " + " | ".join(variants) + " |")
    print("|---|" + "---|" * len(variants))
    for key in results[variants[0]]:
        print(f"| {key} | " + " | ".join(results[v][key] for v in variants) + " |")
    sys.stderr.write(f"total {time.perf_counter() - t0:.0f} s\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
