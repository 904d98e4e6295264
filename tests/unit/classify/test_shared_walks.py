"""A comment's group mentions are found once, however many readers ask (issue 16, item 7): the
models mask them and every group rule reads them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.classify import Classifier
from streams.classify.document import Document
from streams.classify.lexicon import Lexicon, Match, load_lexicon, parse_lexicon
from streams.classify.models.features import GROUP_LEXICON, masked


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = Lexicon.find_in

    def counted(self: Lexicon, doc: Document) -> Iterator[Match]:
        seen.append(self.name)
        return real(self, doc)

    monkeypatch.setattr(Lexicon, "find_in", counted)
    return seen


@pytest.mark.parametrize("text", ["I hate women.", "the gay people on the ward were lovely"])
def test_the_group_list_is_walked_once_per_comment(
    classifier: Classifier, walks: list[str], text: str
) -> None:
    one = classifier.classify_one(text)
    assert walks.count(GROUP_LEXICON) == 1
    walks.clear()
    assert classifier.classify_batch([text]) == [one]
    assert walks.count(GROUP_LEXICON) == 1


def test_lists_share_a_walk_only_when_their_source_is_the_same() -> None:
    installed = load_lexicon(GROUP_LEXICON)
    assert installed.identity == load_lexicon(GROUP_LEXICON).identity
    other = parse_lexicon(GROUP_LEXICON, "women\n")
    assert other.identity != installed.identity
    doc = Document.build("the women and the gay people")
    assert [m.first for m in other.find_once(doc)] == [1]
    # The models' masking finds the installed list's mentions, not the other list's.
    assert masked(doc.token_words(), doc)[0] == ["the", "GROUP", "and", "the", "GROUP"]
