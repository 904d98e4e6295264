"""Identity-directed hate phrased without slurs, and what must stay clean around it."""

from __future__ import annotations

import pytest

from streams.classify import Classifier
from streams.classify.composite import CompositeDetector
from streams.classify.detectors import BuildContext, Params
from streams.classify.document import Document
from streams.classify.group_attack import GroupAttackDetector, rule_words, slips
from streams.classify.lexicon import load_lexicon
from streams.classify.matchers import PatternDetector
from streams.policy.model import PolicyError


def _detector(rules: dict[str, str], **extra: object) -> GroupAttackDetector:
    def build(dtype: str, params: object, where: str) -> GroupAttackDetector:
        raise AssertionError("no members here")

    ctx = BuildContext(lexicon=lambda name, p: load_lexicon(name), build=build, names=None)
    return GroupAttackDetector(
        Params({"groups": "protected_groups", "rules": rules, **extra}, "test"), ctx
    )


def test_the_hit_is_labelled_with_the_strand_of_the_group_it_names() -> None:
    detector = _detector({"r": r"\bi hate GROUP\b"})
    text = "Honestly I hate disabled people."
    hits = detector.hits(Document.build(text))
    assert [(text[h.start : h.end], h.label) for h in hits] == [
        ("I hate disabled people", "disability")
    ]


def test_rules_see_the_group_as_one_token_and_nothing_without_a_group() -> None:
    detector = _detector({"r": r"\bGROUP are scum\b"})
    assert detector.hits(Document.build("Asylum seekers are scum"))
    assert not detector.hits(Document.build("Managers are scum"))
    assert not detector.hits(Document.build("group are scum"))  # the word, not a mention


def test_a_rule_that_does_not_compile_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match=r"rules\.broken"):
        _detector({"broken": "(GROUP"})


HATEFUL = [
    ("I really can't stand black people", "race"),
    ("Muslims are a plague on this country", "religion"),
    ("Disabled people should be locked away", "disability"),
    ("Gay people are disgusting", "sexual_orientation"),
    ("Trans people are mentally ill freaks", "transgender"),
    ("Immigrants should all be deported", "nationality"),
    ("I'm going to shoot the next gay person I see", "sexual_orientation"),
    ("No refugees allowed in this hospital", "nationality"),
    ("The world would be better without muslims", "religion"),
    # implied derogation, reference across a clause, a derogatory question
    ("Immigrants belong in a zoo", "nationality"),
    ("I would rather die than be treated by a black person", "race"),
    ("I will never trust a gay man", "sexual_orientation"),
    ("I have met many muslims and I hate every single one of them", "religion"),
    ("Why are disabled people so lazy?", "disability"),
    ("Refugees need to be wiped off the face of the earth", "nationality"),
    ("I think that gay people should all be locked up", "sexual_orientation"),
    ("Immigrants are ruining this country", "nationality"),
    ("Black people are violent", "race"),
    # more shapes: superlatives, swarms, camps, throats, "better if … were dead", "never be …"
    ("There is nothing worse than a Muslim.", "religion"),
    ("Swarms of immigrants are infesting our government.", "nationality"),
    ("Immigrants are the dumbest people", "nationality"),
    ("Gay people are lesser beings", "sexual_orientation"),
    ("I want to cut the throats of all trans people.", "transgender"),
    ("Put all disabled people in concentration camps.", "disability"),
    ("Wouldn't it be better if all black people were dead?", "race"),
    ("No Muslim can ever be successful.", "religion"),
    ("I'll never stop hating Muslims", "religion"),
    ("We should deport every last immigrant", "nationality"),
    ("Trans people are not normal", "transgender"),
]

NOT_HATEFUL = [
    "I don't hate women",
    "I never said I hate gay people",
    "Saying women are scum is disgusting",
    "If you think disabled people are a burden you need help",
    "Trans people are valid and deserve respect",
    "Are immigrants really a drain? No, the figures say otherwise",
    "The women's ward was lovely, thank you",
    "I hate waiting on the phone for an hour",
    "We welcome refugees and asylum seekers at our clinics",
    "No Muslim deserves to die",
    "Disabled people are not a burden",
    "We are a group of disabled people",
    'Statements like "immigrants are scum" are deeply hurtful',
    "You have to stop calling trans people disgusting",
    "Why are immigrants paid less than other nurses?",
    # neutral and supportive mentions, which the tweet-trained hate model alone scores high
    "Immigrants work in the NHS",
    "Disabled people need better access to the hospital",
    "Muslims are so generous",
    "Gay people are just people",
    "I am a trans woman",
    "Refugees deserve our support",
    "I don't think gay people are scum.",
    "I lost all respect for you when you said immigrants are parasites.",
    "Immigrants are the kindest people",
    "Wouldn't it be better if the clinic opened earlier?",
]


@pytest.mark.parametrize(
    "text",
    [
        "No Muslim deserves to die",
        'Statements like "immigrants are scum" are deeply hurtful',
        "You have to stop calling trans people disgusting",
        "We are a group of disabled people",
    ],
)
def test_defending_or_quoting_a_group_is_no_violation_at_all(
    classifier: Classifier, text: str
) -> None:
    violations = {f.clause for f in classifier.classify_text(text)}
    assert not violations - {"personal_care", "emergency", "safeguarding"}, violations


@pytest.mark.parametrize(("text", "strand"), HATEFUL)
def test_hateful_statements_about_a_group_are_hate(
    classifier: Classifier, text: str, strand: str
) -> None:
    findings = [f for f in classifier.classify_text(text) if f.clause == "hate"]
    assert strand in {f.label for f in findings}


def test_attacks_on_women_or_men_are_discriminatory_not_hate(classifier: Classifier) -> None:
    findings = classifier.classify_text("I hate women.")
    assert "sex" in {f.label for f in findings if f.clause == "discriminatory"}
    assert not [f for f in findings if f.clause == "hate"]


@pytest.mark.parametrize("text", NOT_HATEFUL)
def test_negation_quotation_counter_speech_and_support_stay_clean_of_hate(
    classifier: Classifier, text: str
) -> None:
    assert not [f for f in classifier.classify_text(text) if f.clause == "hate"]


def test_a_veto_drops_hits_near_it() -> None:
    members = {
        "pattern-hit": {"rules": {"bad": r"\bbad\b"}},
        "pattern-veto": {"rules": {"not": r"\bnot\b"}},
    }

    def build(dtype: str, params: dict[str, object], where: str) -> PatternDetector:
        return PatternDetector(Params(params, where), ctx)

    ctx = BuildContext(lexicon=lambda name, p: load_lexicon(name), build=build, names=None)
    composite = CompositeDetector(
        Params(
            {
                "all_of": [{"type": "pattern", "params": members["pattern-hit"]}],
                "none_of": [{"type": "pattern", "params": members["pattern-veto"]}],
                "within_tokens": 2,
            },
            "test",
        ),
        ctx,
    )
    assert composite.hits(Document.build("that was bad"))
    assert not composite.hits(Document.build("that was not bad"))
    assert composite.hits(Document.build("not that it matters but it was really very bad"))


def test_a_slip_is_read_as_the_word_it_misses_and_an_ambiguous_one_is_left() -> None:
    table = slips(frozenset({"hate", "cancer", "scum", "death", "rats", "arts"}))
    assert table["haet"] == ("hate",)  # two letters swapped
    assert table["cancr"] == ("cancer",)  # a letter missing from a long word
    assert table["scumm"] == ("scum",)  # the last letter doubled
    assert table["deathto"] == ("death", "to")  # a word run on
    assert "arts" not in table and "rats" not in table  # words of the list are never slips
    assert "hat" not in table  # short words lose no letter


def test_rule_words_are_the_literal_words_of_the_rules_not_their_escapes() -> None:
    assert rule_words([r"\bi (hate|despise) GROUP\b", r"\bwhy (are|r) GROUP so \w+"]) == {
        "hate",
        "despise",
    }


def test_a_misspelt_cue_still_reads_as_the_rule_and_points_at_the_typed_word() -> None:
    detector = _detector({"r": r"\bi hate GROUP\b"}, spelling="hate_cues")
    text = "I haet refugees"
    assert [text[h.start : h.end] for h in detector.hits(Document.build(text))] == [text]
    assert not _detector({"r": r"\bi hate GROUP\b"}).hits(Document.build(text))


STRAND_INSULTS = [
    ("jewish scum", "religion"),
    ("the quran is evil", "religion"),
    ("ban the burka", "religion"),
    ("sikhs stink", "religion"),
    ("send all the muslims back", "religion"),
    ("wheelchair bound parasite", "disability"),
    ("are you autistic or something?", "disability"),
    ("He's clearly special needs", "disability"),
    ("typical autistic behaviour", "disability"),
    ("being gay is a sin", "sexual_orientation"),
    ("transgenderism is a mental illness", "transgender"),
    ("Immigrants are taking our jobs", "nationality"),
]

NOT_STRAND_INSULTS = [
    "If you are autistic you can ask for a quiet room",
    "My daughter looks like she has autism traits and we are waiting for an assessment",
    "Is he autistic? The nurse asked me",
    "The black bin bags were left in the corridor",
    "Being trans is not a phase",
    "Homosexuality was classed as a mental illness until 1990",
]


@pytest.mark.parametrize(("text", "strand"), STRAND_INSULTS)
def test_a_group_word_as_the_insult_is_hate_of_its_strand(
    classifier: Classifier, text: str, strand: str
) -> None:
    findings = [f for f in classifier.classify_text(text) if f.clause == "hate"]
    assert strand in {f.label for f in findings}


@pytest.mark.parametrize("text", NOT_STRAND_INSULTS)
def test_a_disability_named_plainly_is_not_an_insult(classifier: Classifier, text: str) -> None:
    assert not [f for f in classifier.classify_text(text) if f.clause == "hate"]
