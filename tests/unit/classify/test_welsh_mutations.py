"""One Welsh word list entry or rule word matches every mutated form of the word."""

from __future__ import annotations

import re

import pytest

from streams.classify.lexicon import parse_lexicon
from streams.classify.welsh_mutations import expand_macros, mutations


@pytest.mark.parametrize(
    ("word", "forms"),
    [
        ("poen", ("poen", "boen", "mhoen", "phoen")),  # soft, nasal, aspirate
        ("lladd", ("lladd", "ladd")),
        ("rhybuddio", ("rhybuddio", "rybuddio")),
        ("tad", ("tad", "dad", "nhad", "thad")),
        ("cyfeirio", ("cyfeirio", "gyfeirio", "nghyfeirio", "chyfeirio")),
        ("gwaed", ("gwaed", "waed", "ngwaed")),  # soft g disappears
        ("brest", ("brest", "frest", "mrest")),
        ("marw", ("marw", "farw")),
        ("wyneb", ("wyneb", "hwyneb")),  # "ei hwyneb": h before a vowel
        ("ffycin", ("ffycin",)),  # ff, s, n ... do not mutate
    ],
)
def test_every_form_of_a_word(word: str, forms: tuple[str, ...]) -> None:
    assert mutations(word) == forms


def test_forms_too_short_to_be_safe_are_left_out() -> None:
    assert mutations("gwn") == ("gwn", "ngwn")  # not "wn"


def test_a_welsh_list_matches_mutated_forms_of_its_first_words() -> None:
    lexicon = parse_lexicon("t", "#! welsh_mutations\ncont\npen pidyn\n")
    words = ["mae", "r", "derbynnydd", "na", "n", "gont", "a", "ben", "pidyn"]
    assert [(m.first, m.label) for m in lexicon.find(words)] == [(5, "t"), (7, "t")]
    plain = parse_lexicon("t", "cont\n")
    assert list(plain.find(["gont"])) == []


def test_a_rule_macro_takes_several_words_and_a_joined_n_or_r() -> None:
    regex = re.compile(r"\b{}\b".format(expand_macros("{mut:poen|anadlu}")))
    for text in ("poen", "mhoen", "phoen", "boen", "anadlu", "hanadlu", "anadlun"):
        assert regex.fullmatch(text), text
    assert not regex.fullmatch("oen")
    assert expand_macros(r"\b(\w+ ){0,3}x") == r"\b(\w+ ){0,3}x"  # regex repeats untouched
