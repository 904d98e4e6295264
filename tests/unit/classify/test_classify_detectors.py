"""Each detector type on its own, built from small hand-made policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.classify import FACTORIES, Classifier, NameRegistry, RegistryError, parse_registry
from streams.classify.document import Document
from streams.classify.lexicon import parse_lexicon
from streams.classify.names import name_variants
from streams.classify.relevance import cosine, trigrams
from streams.policy import DETECTOR_TYPES, PolicyError, parse_policy


def build(
    dtype: str,
    params: dict[str, Any],
    *,
    registry: NameRegistry | None = None,
    lexicon_dir: Path | None = None,
) -> Classifier:
    doc = {
        "name": "t",
        "clauses": [
            {
                "id": "probe",
                "title": "probe",
                "kind": "violation",
                "severity": "low",
                "procedure": "review",
                "detectors": [{"id": "d", "type": dtype, "threshold": 0.5, "params": params}],
            }
        ],
    }
    policy = parse_policy(yaml.safe_dump(doc).encode())
    if lexicon_dir is None:
        return Classifier(policy, registry)
    return Classifier(policy, registry, lexicon_dir=lexicon_dir)


def evidence(classifier: Classifier, text: str, post_text: str = "") -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.label) for f in classifier.classify_text(text, post_text)]


def test_every_published_detector_type_is_implemented() -> None:
    assert set(FACTORIES) == set(DETECTOR_TYPES)


# --- lexicon -------------------------------------------------------------------------------


def test_lexicon_matches_whole_tokens_phrases_prefixes_and_labels() -> None:
    lexicon = parse_lexicon("t", "ass\nfuck*\ngo back home\tphrase\n# comment\n\nwank\tsexual\n")
    words = Document.build("Class assessment: fuckwits go back home, ass, wankers").token_words()
    found = [(" ".join(words[m.first : m.last + 1]), m.label) for m in lexicon.find(words)]
    assert found == [("fuckwits", "t"), ("go back home", "phrase"), ("ass", "t")]


def test_lexicon_entries_are_normalised_like_comments() -> None:
    lexicon = parse_lexicon("t", "Siân\nf.u.c.k\n")
    words = Document.build("sian said fuck").token_words()
    assert [m.first for m in lexicon.find(words)] == [0, 2]


def test_lexicon_squeezes_stretched_letters_but_not_into_short_words() -> None:
    lexicon = parse_lexicon("t", "shit\nass\n")
    assert len(list(lexicon.find(("shiit",)))) == 1
    assert list(lexicon.find(("as",))) == []


def test_lexicon_detector_allow_list_and_reporting_frame(tmp_path: Path) -> None:
    (tmp_path / "slurs.txt").write_text("dyke\tsexual_orientation\n", encoding="utf-8")
    (tmp_path / "places.txt").write_text("offas dyke\n", encoding="utf-8")
    classifier = build(
        "lexicon",
        {
            "lists": ["slurs"],
            "allow": ["places"],
            "unless_before": [r"\bcalled( me)?( a)?$"],
            "unless_quoted": True,
        },
        lexicon_dir=tmp_path,
    )
    assert evidence(classifier, "you dyke") == [("dyke", "sexual_orientation")]
    assert evidence(classifier, "walked Offa's Dyke today") == []
    assert evidence(classifier, "he called me a dyke") == []
    assert evidence(classifier, 'someone wrote "dyke" on the wall') == []


def test_unknown_word_list_is_a_policy_error_naming_the_detector() -> None:
    with pytest.raises(PolicyError, match=r"clause 'probe' detector 'd': lexicon 'nope'"):
        build("lexicon", {"lists": ["nope"]})


# --- pattern -------------------------------------------------------------------------------


def test_pattern_surfaces_and_rule_labels() -> None:
    tokens = build("pattern", {"rules": {"threat": r"\bi know where you live\b"}})
    assert evidence(tokens, "I KNOW...where you live!!") == [("I KNOW...where you live", "threat")]
    original = build(
        "pattern",
        {"surface": "original", "case_sensitive": True, "rules": {"n": r"\bDr [A-Z][a-z]+"}},
    )
    assert evidence(original, "Dr Jones and dr jones") == [("Dr Jones", "n")]
    labelled = build("pattern", {"rules": {"a": {"regex": r"\bpaki\b", "label": "race"}}})
    assert evidence(labelled, "PAKI") == [("PAKI", "race")]


def test_pattern_question_and_after_context_exemptions() -> None:
    classifier = build(
        "pattern",
        {
            "rules": {"claim": r"\bvaccines cause autism\b"},
            "unless_question": True,
            "unless_after": [r"^is a myth\b"],
        },
    )
    assert evidence(classifier, "Vaccines cause autism.") == [("Vaccines cause autism", "claim")]
    assert evidence(classifier, "Vaccines cause autism? Really?") == []
    assert evidence(classifier, "Vaccines cause autism is a myth") == []


def test_pattern_terms_combine_cue_lists_into_rules() -> None:
    classifier = build(
        "pattern",
        {
            "terms": {
                "med": ["tablets?", "sertraline", "co ?codamol"],
                "qty": [r"\d{2,}", "all", "packets?"],
                "dose": ["{qty}( \\w+){0,2} {med}"],
            },
            "rules": {"overdose": r"\bswallowed (\w+ ){0,2}{dose}\b"},
        },
    )
    text = "I've swallowed a whole packet of sertraline, help"
    assert evidence(classifier, text) == [("swallowed a whole packet of sertraline", "overdose")]
    assert evidence(classifier, "swallowed 40 co-codamol") == [
        ("swallowed 40 co-codamol", "overdose")
    ]
    assert evidence(classifier, "swallowed my tablets as usual") == []  # no quantity
    # Regex repeats such as {0,2} are not terms.
    assert evidence(classifier, "swallowed all my tablets") == [
        ("swallowed all my tablets", "overdose")
    ]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"rules": {"bad": "(unclosed"}}, "regex 'bad' does not compile"),
        ({"rules": {}}, "params.rules must be a non-empty mapping"),
        ({"rules": {"a": "x"}, "surface": "html"}, "params.surface 'html' is unknown"),
        ({"rules": {"a": "x"}, "confidence": 2}, "params.confidence must be a number from 0 to 1"),
        ({"rules": {"a": "x"}, "colour": "red"}, "unknown params colour"),
        ({"rules": {"a": {"regex": "x", "lable": "y"}}}, "rule 'a': unknown field(s) lable"),
        ({"rules": {"a": "{med} x"}}, "rule 'a' uses unknown term {med}"),
        ({"rules": {"a": "x"}, "terms": {"med": []}}, "params.terms.med must be a non-empty list"),
        ({"rules": {"a": "x"}, "terms": ["med"]}, "params.terms must be a mapping"),
        ({"rules": {"a": "x"}, "terms": {"a": ["{b}"], "b": ["{a}"]}}, "uses itself"),
    ],
)
def test_bad_pattern_params_are_policy_errors(params: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError) as raised:
        build("pattern", params)
    assert message in str(raised.value)
    assert "clause 'probe' detector 'd'" in str(raised.value)


# --- composite -----------------------------------------------------------------------------


def test_composite_needs_every_member_near_the_first() -> None:
    classifier = build(
        "composite",
        {
            "within_tokens": 3,
            "all_of": [
                {"type": "pattern", "params": {"rules": {"threat": r"\bwatch out\b"}}},
                {"type": "pattern", "params": {"rules": {"target": r"\b(you|nurse)\b"}}},
            ],
        },
    )
    assert evidence(classifier, "watch out, nurse") == [("watch out", "threat")]
    assert evidence(classifier, "watch out for the new one way system today in the car park") == []
    assert evidence(classifier, "watch out for ice in the car park near the main door, you") == []


def test_composite_any_of_is_the_union_with_an_optional_label() -> None:
    classifier = build(
        "composite",
        {
            "label": "either",
            "any_of": [
                {"type": "pattern", "params": {"rules": {"a": r"\bapple\b"}}},
                {"type": "pattern", "params": {"rules": {"b": r"\bbanana\b"}}},
            ],
        },
    )
    assert evidence(classifier, "apple and banana") == [("apple", "either"), ("banana", "either")]


# --- registry ------------------------------------------------------------------------------


def test_name_variants_cover_full_name_title_surname_and_initial() -> None:
    variants = name_variants("Siân Pritchard")
    assert {("sian", "pritchard"), ("dr", "pritchard"), ("nurse", "pritchard")} <= variants
    assert ("sian", "p") in variants
    assert ("sian",) not in variants and ("pritchard",) not in variants


def test_registry_detector_finds_registered_people_by_role() -> None:
    registry = parse_registry(
        b"staff: [Gareth Price-Davies]\nservice_users: [{name: Ffion Watkins}]\n"
    )
    classifier = build("registry", {"roles": ["staff", "service_user"]}, registry=registry)
    text = "Mr Price-Davies and ffion watkins, not Gareth or Watkins alone"
    assert evidence(classifier, text) == [
        ("Mr Price-Davies", "staff"),
        ("ffion watkins", "service_user"),
    ]
    assert evidence(build("registry", {}), text) == []  # no registry: nothing to find


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"staff: Sian\n", "'staff' must be a list"),
        (b"staff: [{role: nurse}]\n", "'staff' entry #1 has no name"),
        (b"patients: [A B]\n", "unknown section(s) patients"),
        (b"staff: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_registry_files_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(RegistryError) as raised:
        parse_registry(data)
    assert message in str(raised.value)


# --- topic relevance and repetition --------------------------------------------------------


def test_trigram_cosine_relates_word_forms_and_not_unrelated_words() -> None:
    vaccine = trigrams(["vaccination", "clinic"])
    assert cosine(vaccine, trigrams(["vaccine"])) > 0.3
    assert cosine(vaccine, trigrams(["football"])) == 0.0
    assert cosine(vaccine, trigrams([])) == 0.0


def test_topic_relevance_flags_off_topic_comments_with_a_cue(tmp_path: Path) -> None:
    (tmp_path / "cues.txt").write_text("brexit\n", encoding="utf-8")
    (tmp_path / "stop.txt").write_text("the\nis\n", encoding="utf-8")
    classifier = build(
        "topic_relevance",
        {"cues": ["cues"], "stopwords": "stop", "max_similarity": 0.2},
        lexicon_dir=tmp_path,
    )
    post = "The vaccination clinic is open"
    assert evidence(classifier, "Brexit means Brexit", post) == [("Brexit", "cues")]
    assert evidence(classifier, "Is the vaccination clinic open after Brexit?", post) == []
    assert evidence(classifier, "Brexit means Brexit") == []


def test_repetition_counts_non_overlapping_pastes() -> None:
    # Repetition only ever corroborates another signal (test_complaints_stay_clean).
    repetition = {"type": "repetition", "params": {"ngram": 2, "min_repeats": 3}}
    other = {"type": "pattern", "params": {"rules": {"ward": r"\bward\b|\bha\b"}}}
    classifier = build("composite", {"all_of": [repetition, other]})
    text = "save our ward, save our ward, save our ward!"
    assert evidence(classifier, text) == [
        ("save our ward, save our ward, save our", "repeated_text")
    ]
    assert evidence(classifier, "ha ha ha ha") == []


def test_token_surface_match_starting_on_a_space_maps_to_the_next_word() -> None:
    classifier = build("pattern", {"rules": {"r": r" live\b"}})
    assert evidence(classifier, "where you   live") == [("live", "r")]


def test_rules_digest_pins_the_word_lists_as_well_as_the_policy(tmp_path: Path) -> None:
    (tmp_path / "words.txt").write_text("alpha\n", encoding="utf-8")
    before = build("lexicon", {"lists": ["words"]}, lexicon_dir=tmp_path).rules_digest
    assert build("lexicon", {"lists": ["words"]}, lexicon_dir=tmp_path).rules_digest == before
    (tmp_path / "words.txt").write_text("alpha\nbeta\n", encoding="utf-8")
    assert build("lexicon", {"lists": ["words"]}, lexicon_dir=tmp_path).rules_digest != before
