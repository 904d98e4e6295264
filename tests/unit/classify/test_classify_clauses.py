"""Each clause of the policy, with positives and the hard negatives the policy implies."""

from __future__ import annotations

import pytest

from streams.classify import Classifier

VACCINE_POST = "Flu vaccination clinics are open this week at Keir Hardie Health Park."


def clauses(classifier: Classifier, text: str, post_text: str = "") -> set[str]:
    return {f.clause for f in classifier.classify_text(text, post_text)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The MMR jab causes autism, wake up", {"misleading"}),
        ("You are a useless bunch of wankers", {"abusive"}),
        ("Watch your back, receptionist", {"intimidation"}),
        ("Nurse Bethan Morgan should be sacked, name and shame", {"naming_to_harass"}),
        ("Everyone go down there and block the entrance", {"obstructing_staff"}),
        ("The nurse on ward 6 stole my nan's purse", {"allegation"}),
        ("Go back to your own country", {"hate"}),
        ("Send nudes nurse", {"obscene"}),
        ("I don't want a foreign doctor treating me", {"discriminatory"}),
        ("Selling xanax cheap, dm me", {"illegal_activity"}),
        ("Use code SAVE20 at my shop, link in bio", {"advertising"}),
        ("Copy and paste this to your wall", {"spamming"}),
        ("My dad's operation was cancelled again", {"personal_care"}),
        ("I've taken all my tablets and feel strange", {"emergency"}),
        ("My stepdad hits me when mum is out", {"safeguarding"}),
    ],
)
def test_each_clause_has_a_detector_that_fires(
    classifier: Classifier, text: str, expected: set[str]
) -> None:
    assert clauses(classifier, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Wording the first rules missed: cue lists combined, not sentences listed.
        ("I've swallowed a whole packet of sertraline, what do I do", {"emergency"}),
        ("Took 40 co-codamol an hour ago", {"emergency"}),
        ("My dad is clutching his chest and sweating", {"emergency"}),
        ("Mum's face has dropped on one side and her words are slurred", {"emergency"}),
        ("My toddler swallowed a button battery", {"emergency"}),
        ("He's been fitting for ten minutes and won't stop", {"emergency"}),
        ("I don't see the point in living any more", {"emergency"}),
        ("I won't be here tomorrow, goodbye everyone", {"emergency"}),
        ("I know what car the receptionist drives. Just so she knows.", {"intimidation"}),
        ("We'll follow that nurse home one night", {"intimidation"}),
        ("I'll be waiting for her when she finishes her shift", {"intimidation"}),
        ("Everyone park across the ambulance bay tomorrow", {"obstructing_staff"}),
        ("Film every nurse who comes out and put their faces online", {"obstructing_staff"}),
        (
            "Get everyone to stand in the corridor so the porters can't get through",
            {"obstructing_staff"},
        ),
        ("My mam's new boyfriend hits my little brother", {"safeguarding"}),
        ("Little girl next door is always outside late at night with no coat", {"safeguarding"}),
    ],
)
def test_new_wording_of_the_route_and_threat_clauses(
    classifier: Classifier, text: str, expected: set[str]
) -> None:
    assert clauses(classifier, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Chest x-ray waits at Prince Charles are much better now",
        "The overdose clinic in Merthyr saved my brother's life",
        "I'd kill for a coffee after that night shift",
        "The traffic on the A470 is murder this morning",
        "I take 20 tablets a day for my heart and the pharmacy is brilliant",
        "Goodbye everyone, I'm retiring after 30 years on ward 7",
        "We know who you are, you're the midwife who delivered my son! Thank you",
        "Someone keeps parking across the ambulance bay at Royal Glam",
        "No point going on the website, it never works",
        "My son had a seizure two years ago and the team were brilliant",
        "Thank you to all the nurses on ward 6 xxx",
    ],
)
def test_new_hard_negatives_stay_clean(classifier: Classifier, text: str) -> None:
    assert clauses(classifier, text) == set()


def test_hate_finding_labels_the_strand(classifier: Classifier) -> None:
    strands = {
        text: {f.label for f in classifier.classify_text(text) if f.clause == "hate"}
        for text in ("you paki", "you retard", "bunch of faggots", "some tranny", "gas the jews")
    }
    assert strands == {
        "you paki": {"race"},
        "you retard": {"disability"},
        "bunch of faggots": {"sexual_orientation"},
        "some tranny": {"transgender"},
        "gas the jews": {"religion"},
    }


@pytest.mark.parametrize(
    "text",
    [
        # Quoting a slur to report it is a complaint, not hate.
        "Someone called me a paki in your waiting room",
        "My son was called a retard by another patient",
        "A man shouted faggot at my partner outside A&E",
        "The word 'tranny' was written on the toilet wall",
        # Medical words that look sexual.
        "Breast screening van is at Aberdare Tesco this week",
        "Is the testicular cancer clinic at Prince Charles?",
        "Vaginal mesh survivors deserve answers",
        "Erectile dysfunction clinic referral took 9 months",
        "Sexual health clinic in Pontypridd has moved",
        # Innocent words that contain or resemble listed ones.
        "We walked Offa's Dyke for the hospital charity",
        "Faggots and peas in the canteen today",
        "Spotted dick and custard made grandad's day",
        "Blue tits nesting outside ward 12",
        "The finger prick test was painless",
        "Scunthorpe? No, Merthyr. Wrong hospital on the letter",
        "What a cock-up with the car park barriers",
        "Smokers having a fag by the doors every day",
        # Talking about a claim or a service is not making the claim or having the emergency.
        "Is it true the MMR causes autism?",
        "Vaccines don't cause autism, get your MMR",
        "The rapid access chest pain clinic is brilliant",
        "World Suicide Prevention Day: thank you to the crisis team",
        "Domestic abuse helpline number should be on every ward",
        # Hyperbole and friendly usage.
        "You'll regret not getting your flu jab!",
        "I could kill for a cuppa after that wait",
        "You're dead right about the parking",
        "I felt like an idiot asking, but the nurse was lovely",
        "Bloody brilliant service at minor injuries today",
        "Don't let them fob you off, ask for PALS",
        "Everyone go down there and get your booster",
    ],
)
def test_hard_negatives_stay_clean(classifier: Classifier, text: str) -> None:
    assert clauses(classifier, text) == set()


@pytest.mark.parametrize(
    "text",
    [
        "Four hours on hold to get a GP appointment. This is not acceptable.",
        "The parking at Prince Charles is an absolute joke, £4 an hour and no spaces",
        "Rude receptionist, useless booking system, nobody answers emails. Sort it out.",
        "Waiting times in A&E at Royal Glam are a disgrace",
        "Health board management should be ashamed of the state of A&E",
    ],
)
def test_angry_but_legitimate_criticism_is_not_a_violation(
    classifier: Classifier, text: str
) -> None:
    assert clauses(classifier, text) == set()


def test_cancelled_operation_complaint_is_routed_not_punished(classifier: Classifier) -> None:
    text = "My operation has been cancelled for the third time. Absolute shambles."
    assert clauses(classifier, text) == {"personal_care"}


def test_trolling_needs_the_post_an_off_topic_comment_and_a_cue(classifier: Classifier) -> None:
    off_topic = "Woke nonsense, stop the boats first"
    assert clauses(classifier, off_topic, VACCINE_POST) == {"trolling"}
    assert clauses(classifier, off_topic) == set()  # no post: relevance cannot be judged
    on_topic = "Is the flu jab clinic at Keir Hardie walk-in? lol"
    assert clauses(classifier, on_topic, VACCINE_POST) == set()
    no_cue = "Lovely weather for it"
    assert clauses(classifier, no_cue, VACCINE_POST) == set()


def test_names_alone_are_not_harassment(classifier: Classifier) -> None:
    assert clauses(classifier, "Huge thanks to Nurse Bethan Morgan, an absolute star") == set()
    assert clauses(classifier, "Siân Pritchard on reception went above and beyond") == set()
    assert clauses(classifier, "Dr Llewellyn was not useless at all, very clear") == set()
    assert clauses(classifier, "Siân P on reception is vile, report her") == {"naming_to_harass"}
