"""Phrasing that transfers to how people write on social media (issue 16).

Each list is written in-house, in the shapes the issue names (short suicidal posts,
self-promotion under videos, health claims…); none is copied from a corpus. A figure that
holds only on these cases is not a result: `docs/quality.md` measures the corpora.
"""

from __future__ import annotations

import pytest

from streams.classify import Classifier

ROUTES = {"personal_care"}


def _clauses(classifier: Classifier, text: str) -> set[str]:
    return {f.clause for f in classifier.classify_text(text)}


SUICIDAL_SHORT_POSTS = [
    "I hate my life so much",
    "no one would even notice if i was gone",
    "i wish i could just go to sleep and never wake up",
    "i'm a burden to everyone around me",
    "Everyone would be happier if I was dead",
    "i've written my note",
    "wish i was never born",
    "i wanna kms",
    "i have nothing left to live for",
    "i dont see a future for myself anymore",
    # issue 16, second round of rules: wishes, thinking about it, a last post, a plan ready
    "i'm a failure and i should just die",
    "i hope i die in my sleep",
    "please just let me die",
    "every day i think about dying",
    "why am i even alive",
    "this is my last tweet",
    "i have the pills ready",
    "i relapsed and cut again",
    "what's the point of living",
    "why can't i just die",
    "death would be a relief",
    "i wish i could disappear",
    "honestly i'd rather be dead",
    "i give up on life",
    "no reason to keep going",
    "life isnt worth it",
    "i deserve to die",
]

NOT_AN_EMERGENCY = [
    # complaints in the first person, which a model trained on Reddit reads as despair
    "I'm done waiting on hold, I'll ring back tomorrow",
    "SIX MONTHS waiting for a mental health assessment for my 15 year old. Six months.",
    # medicine reviews and histories
    "This medication made me feel suicidal so I stopped it",
    "The worst side effect was the suicidal thoughts",
    "I took it for 10 days, 500 mg tablets three times daily with food.",
    "I thought I was going to die from the withdrawal",
    "I'm done with everything this hospital says, nobody listens",
    "I hope I die laughing at this, the queue is a joke",
    "My hours got cut again so I can't afford the bus to the clinic",
    "I'd rather die than wait another 6 hours in that waiting room",
    "Helps with chest pain and has a calming effect",
    "Do not overdose on it or your skin peels",
    "The prednisone was prescribed after an anaphylactic reaction",
]


SELF_PROMOTION = [
    "Check this out: https://youtu.be/dQw4w9WgXcQ",
    "Please help me reach 1000 subscribers!",
    "Free robux at robuxfree.site",
    "I just uploaded a new song, would love your feedback, link in my profile",
    "sub to me and i'll sub back",
    "I'm giving away free gift cards, just follow me on instagram",
    "Like this comment so more people can see it",
    "Hello everyone, I'm a young artist from London, search my name on Spotify",
    "Hey, I make beats, go listen on my soundcloud",
    "i have a youtube channel where i do covers, would love if you check it out",
    "Like and subscribe",
    "I'm 13 and I make videos, please check them out",
    "I'm trying to get 1k subs by the end of the year!",
]

NOT_PROMOTION = [
    "My channel for complaints was the PALS team and they were great",
    "See the guidance at www.gov.wales/covid",
    "Check out the out of hours numbers at https://111.wales.nhs.uk",
    "The link in your post doesn't work",
    "Who's still watching in 2024?",
    "@Sian the booking line was closed all morning",
    "Please share this post so people know the walk-in centre is closed Monday",
    "Please support us at the hospital charity fun run",
    "The advice on the NHS YouTube channel was helpful",
    # complaints repeat themselves, which a model trained on SMS spam reads as a sales text
    "Toilets were filthy, absolutely filthy",
    "Filthy ward, filthy toilets",
]


VIOLENCE_CALLED_FOR = [
    "Someone needs to punch her in the face",
    "I'd love to see him get beaten up",
    "She deserves to be shot",
    "Traitors should hang",
    "Off with her head!",
    "Hit her back harder",
]

NOT_VIOLENCE = [
    "Antibiotics kill them all in a week",
    "He was charged with threatening to kill her",
    "Always use sun screen or you will burn 10X faster",
    "Hit her up if you want the number for PALS",
    "Kill the germs by washing your hands",
    "I would never hit a woman",
]


SWEARING_AND_EXPLICIT = [
    ("what an ass", "abusive"),
    ("you absolute knob", "abusive"),
    ("goddamn useless", "abusive"),
    ("a$$hat", "abusive"),
    ("you b1nt", "abusive"),
    ("send me upskirt pics", "obscene"),
    ("bdsm pics", "obscene"),
    # issue 16, coverage: compounds, two-word spellings, masks the normaliser cannot restore
    ("what a load of bullshitting", "abusive"),
    ("shut up you gobsh1te", "abusive"),
    ("you absolute bell end", "abusive"),
    ("f**k off", "abusive"),
    ("you f***ing muppet", "abusive"),
    ("mother fucker", "abusive"),
    ("phuck this place", "abusive"),
    ("send me a footjob vid", "obscene"),
    ("doggy style pics", "obscene"),
    ("you tard", "hate"),
]

NOT_SWEARING = [
    "The door knob on ward 3 is broken",
    "Thanks to all the nurses on ward 6 xxx",
    "The side effects included difficulty reaching orgasm",
    "I was diagnosed with an anal fissure",
    "My CT scan is booked for Friday",
    "Shiitake mushrooms in the canteen soup",
    "The porters were sweeping up the car park",
    # the word lists' innocent phrases, which the tweet-trained models read as slurs
    "We walked Offa's Dyke path for the hospice",
    "Faggots and peas for tea tonight",
]


HEALTH_CLAIMS = [
    "Drinking hot water kills coronavirus",
    "The virus cannot survive in hot weather",
    "Covid was made in a lab as a bioweapon",
    "Masks starve you of oxygen",
    "The vaccine has killed more people than covid ever did",
]

NOT_A_FALSE_CLAIM = [
    # what public health says, which a model trained on Constraint reads as a fake headline
    "Soap kills the virus",
    "Vaccines prevent serious covid",
    "Covid vaccines are safe and effective",
    # asking about a claim, or debunking it
    "Is it true garlic prevents covid?",
    "Myth: drinking hot water kills coronavirus. It does not.",
]


# Each shape and the clause it must be read under.
CAUGHT = [
    *((text, "emergency") for text in SUICIDAL_SHORT_POSTS),
    *((text, "advertising") for text in SELF_PROMOTION),
    *((text, "intimidation") for text in VIOLENCE_CALLED_FOR),
    *SWEARING_AND_EXPLICIT,
    *((text, "misleading") for text in HEALTH_CLAIMS),
]

# Look-alikes, and the clause they must not be read under (None: no clause at all, routes aside).
LEFT_ALONE = [
    *((text, "emergency") for text in NOT_AN_EMERGENCY),
    *((text, None) for text in NOT_PROMOTION),
    *((text, None) for text in NOT_VIOLENCE),
    *((text, None) for text in NOT_SWEARING),
    *((text, "misleading") for text in NOT_A_FALSE_CLAIM),
]


@pytest.mark.parametrize(("text", "clause"), CAUGHT)
def test_each_shape_is_read_under_its_clause(
    classifier: Classifier, text: str, clause: str
) -> None:
    assert clause in _clauses(classifier, text)


@pytest.mark.parametrize(("text", "clause"), LEFT_ALONE)
def test_look_alikes_are_not_read_under_the_clause(
    classifier: Classifier, text: str, clause: str | None
) -> None:
    found = _clauses(classifier, text) - ROUTES
    if clause is None:
        assert not found
    else:
        assert clause not in found


def test_wanting_to_die_oneself_is_an_emergency_and_not_a_threat(classifier: Classifier) -> None:
    clauses = _clauses(classifier, "i deserve to die")
    assert "emergency" in clauses
    assert "intimidation" not in clauses
