"""The one-scan prefilter and the batch API change speed only, never findings.

Three paths must give the same findings, byte for byte, on every comment:
- ``Classifier(prefilter=False).classify_text``: the rules as before the prefilter (``re``
  behind the word gate), the reference;
- ``Classifier().classify_text``: one comment at a time through the Hyperscan prefilter;
- ``Classifier().classify_batch``: a batch through the prefilter, detectors batch-wise.
Checked on every labelled set and on a seeded random sample of the public corpora
(``MODSTREAM_EQUIVALENCE_SAMPLE`` rows; skipped where the corpora are absent).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.codec import dumps
from schemas.comment import Comment
from streams.classify import Classifier, NameRegistry
from streams.classify.document import RUNS, Document, squeeze_runs
from streams.classify.evaluation import as_comment, load_cases
from streams.classify.lexicon import parse_lexicon, squeeze
from streams.classify.prefilter import Prefilter, lexicon_probe_regex
from streams.classify.word_gate import _fold_char, fold
from streams.policy import Policy
from tests.unit.classify.conftest import ROOT
from tests.unit.classify.corpus_sample import corpus_sample

LABELLED = sorted((ROOT / "tests" / "data" / "labelled").glob("*.jsonl"))
# Tests read the environment directly for their own knobs; the worker's settings are not involved.
SAMPLE = int(os.environ.get("MODSTREAM_EQUIVALENCE_SAMPLE", "2000"))


@pytest.fixture(scope="module")
def reference(policy: Policy, registry: NameRegistry) -> Classifier:
    return Classifier(policy, registry, prefilter=False)


def serialised(findings: tuple[object, ...]) -> bytes:
    return dumps(findings)


def assert_same(reference: Classifier, classifier: Classifier, comments: list[Comment]) -> int:
    expected = [serialised(reference.classify(c)) for c in comments]
    one_by_one = [serialised(classifier.classify(c)) for c in comments]
    batched = [serialised(f) for f in classifier.classify_batch(comments)]
    for index, comment in enumerate(comments):
        assert one_by_one[index] == expected[index], ("one at a time", comment.text)
        assert batched[index] == expected[index], ("batch", comment.text)
    return sum(e != b"[]" for e in expected)


@pytest.mark.parametrize("path", LABELLED, ids=lambda p: p.name)
def test_every_labelled_set_gets_the_same_findings(
    path: Path, reference: Classifier, classifier: Classifier
) -> None:
    comments = [as_comment(case, i) for i, case in enumerate(load_cases(path))]
    flagged = assert_same(reference, classifier, comments)
    assert flagged > len(comments) // 5  # the sets exercise the rules, not just their absence


def test_a_random_sample_of_the_corpora_gets_the_same_findings(
    reference: Classifier, classifier: Classifier
) -> None:
    texts = corpus_sample(SAMPLE)
    if not texts:
        pytest.skip("public corpora not present (../shared/data/corpora)")
    flagged = assert_same(reference, classifier, [_comment(t, i) for i, t in enumerate(texts)])
    assert flagged > len(texts) // 20


def test_batches_of_bare_texts_equal_one_at_a_time(classifier: Classifier) -> None:
    texts = ["fuck off", "", "Thank you to the nurses 💐", "I know where you live nurse"]
    assert classifier.classify_batch(texts) == [classifier.classify_text(t) for t in texts]
    assert classifier.classify_batch([]) == []


def test_a_comment_the_scan_cannot_read_exactly_falls_back_to_every_rule(
    classifier: Classifier,
) -> None:
    doc = Document.build("I’ll find you 😡 and you’ll regret it")
    classifier._prefilter.scan(doc)  # type: ignore[union-attr]
    assert "original" in doc.unscanned  # emoji and a curly apostrophe
    assert "tokens" not in doc.unscanned  # the word surface is plain ASCII
    assert {f.clause for f in classifier.classify_text(doc.original)} == {"intimidation"}


def test_rules_with_python_only_meaning_are_always_run() -> None:
    prefilter = Prefilter()
    curly = prefilter.rule("tokens", re.compile(r"a{,3}b"))
    kelvin = prefilter.rule("tokens", re.compile("\u212a\\b", re.IGNORECASE))
    plain = prefilter.rule("tokens", re.compile(r"\bplain\b", re.IGNORECASE))
    prefilter.compile()
    assert prefilter.always == {curly.id, kelvin.id}
    doc = Document.build("nothing here")
    prefilter.scan(doc)
    assert doc.may_match(curly) and doc.may_match(kelvin) and not doc.may_match(plain)


def test_a_word_list_probe_accepts_every_token_the_list_can_start_on() -> None:
    lexicon = parse_lexicon("t", "book\nfuck*\nass*\ngo back home\n")
    probe = re.compile(lexicon_probe_regex(lexicon))  # it reads the squeezed token surface
    for text in ("a booook", "fuuucking hell", "asses", "go back home", "bok"):
        assert probe.search(squeeze(text)), text
    assert not probe.search(squeeze("a bookish fellow"))  # "book" is a whole word


# Words that trip rules, with characters only ``re`` can read (non-ASCII, emoji, Kelvin sign).
SALAD = (  # noqa: SIM905 (a sentence reads better than fifty quoted words)
    "you i will regret know where live nurse doctor vaccines cause autism fuck kill myself "
    "tablets swallowed all my mum hit me dm for prices www.x.com 07123 456789 £5 a day 20% off "
    "block the entrance Dr Jones is a liar ! ? , . ß é ŵ 😡 ’ \u212a"
).split()


@settings(max_examples=300, deadline=None)
@given(words=st.lists(st.sampled_from(SALAD), max_size=25))
def test_random_word_salad_gets_the_same_findings(
    words: list[str], reference: Classifier, classifier: Classifier
) -> None:
    text = " ".join(words)
    assert classifier.classify_text(text) == reference.classify_text(text)
    assert classifier.classify_batch([text]) == [reference.classify_text(text)]


def _comment(text: str, index: int) -> Comment:
    return Comment(
        comment_id=f"sample:{index}",
        platform="facebook",
        author_key="sample",
        author_name="",
        author_handle="",
        post_id="",
        post_text="",
        event_time_ms=0,
        text=text,
        normalised="",
        lang="en",
        source="sample",
    )


@settings(max_examples=500, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("ab \n.ſKİ\u212aß😡"), max_size=40) | st.text())
def test_the_fast_squeeze_and_fold_equal_their_plain_definitions(text: str) -> None:
    assert squeeze_runs(text) == RUNS.sub(r"\1", text)
    assert fold(text) == "".join(_fold_char(c) for c in text)
