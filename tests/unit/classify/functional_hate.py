"""A functional test set for identity-directed hate, in the shapes HateCheck tests (issue 16).

Written in-house before the issue-16 rules round was tuned, from the *shapes* of the functional
tests the issue names (derogation, dehumanisation, threats, slurs, negation, counter-speech,
quotation, questions, spelling variants, abuse of objects and of groups the law does not
protect). Every sentence is this project's own text; none is copied from HateCheck or any
corpus. Each template is filled with several groups, one per strand the policy protects, so a
rule that works for one group and not another shows up as a hole.

Because the rules were then written against these shapes, the figure on this set is *not* a
result: it finds holes. The corpora's validation splits and the project's sets measure.

``expect`` is what the policy should do:

- ``hate``: a finding of the group's clause (``hate`` for the five hate-crime strands and
  nationality, ``discriminatory`` for sex);
- ``clean``: no violation at all;
- ``no_hate``: no hate or discriminatory finding, though the policy may still call it
  ``abusive`` (swearing, or name-calling aimed at a person or a group the law does not protect).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Group:
    plural: str  # "Muslims"
    one: str  # "a Muslim"
    bare: str  # "Muslim" (after "the next", "any")
    clause: str  # the clause a hateful statement about the group belongs to
    slurs: tuple[str, ...]  # singular slurs for the group, if any


GROUPS = (
    Group("women", "a woman", "woman", "discriminatory", ("bitch", "slut")),
    Group("trans people", "a trans person", "trans person", "hate", ("tranny", "shemale")),
    Group("gay people", "a gay man", "gay man", "hate", ("faggot", "dyke")),
    Group("black people", "a black person", "black person", "hate", ("nigger", "coon")),
    Group("disabled people", "a disabled person", "disabled person", "hate", ("retard", "spaz")),
    Group("Muslims", "a Muslim", "Muslim", "hate", ("raghead", "muzzie")),
    Group("immigrants", "an immigrant", "immigrant", "hate", ()),
    Group("refugees", "a refugee", "refugee", "hate", ()),
    Group("Jews", "a Jew", "Jew", "hate", ("kike",)),
    Group("lesbians", "a lesbian", "lesbian", "hate", ("lesbo",)),
    Group("autistic people", "an autistic person", "autistic person", "hate", ("spastic",)),
    Group("Pakistanis", "a Pakistani", "Pakistani", "hate", ("paki",)),
)

# function -> (expect, templates). {G} plural, {g} one with its article, {b} bare singular.
TEMPLATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "derogation_emotion": (
        "hate",
        (
            "I hate {G}.",
            "I really despise {G}",
            "{G} disgust me.",
            "honestly i cant stand {G}",
            "I absolutely detest {G}, always have",
            "{G} make me sick",
            "I loathe all {G}",
        ),
    ),
    "derogation_attribute": (
        "hate",
        (
            "{G} are disgusting.",
            "{G} are so stupid",
            "All {G} are liars",
            "{G} are pathetic and useless",
            "{G} are repulsive",
            "{G} are dirty, every last one",
            "{G} are all thick as mince",
        ),
    ),
    "dehumanisation": (
        "hate",
        (
            "{G} are scum.",
            "{G} are vermin",
            "{G} are a cancer on society",
            "{G} are nothing more than animals",
            "{G} are like rats",
            "{G} are parasites",
            "{G} are a plague on this country",
            "{G} aren't even human",
        ),
    ),
    "implicit_derogation": (
        "hate",
        (
            "{G} belong in a zoo.",
            "I'd rather die than be treated by {g}",
            "Never trust {g}",
            "{G} should know their place",
            "{G} are a stain on this country",
            "I would never let {g} near my kids",
            "{G} are a waste of NHS money",
        ),
    ),
    "direct_threat": (
        "hate",
        (
            "I am going to shoot the next {b} I see.",
            "I'll stab any {b} who comes near me",
            "I want to kill all {G}",
            "I'm going to hurt every {b} I meet",
            "Any {b} on my street is getting a beating",
            "I will burn down every house with {g} in it",
        ),
    ),
    "normative_threat": (
        "hate",
        (
            "We should get rid of {G} once and for all.",
            "{G} should all be shot",
            "{G} need to be wiped out",
            "{G} deserve to die",
            "All {G} should be hanged",
            "Someone should put {G} down like dogs",
            "Round up the {G} and lock them away",
        ),
    ),
    "profanity_hateful": (
        "hate",
        (
            "I hate fucking {G}",
            "{G} are fucking scum",
            "fuck all {G}",
            "{G} are a bunch of shit stains",
        ),
    ),
    "pronoun_clause": (
        "hate",
        (
            "I have met many {G} and I hate every single one of them",
            "I've worked with {G} and they are all lazy scroungers",
            "{G} think they're special but they are just vermin",
        ),
    ),
    "pronoun_sentence": (
        "hate",
        (
            "Of course they are stupid. They are just {G} after all.",
            "Don't let the {G} in. They are animals.",
            "Another lot of {G} moved in next door. I hate them.",
        ),
    ),
    "negated_positive": (
        "hate",
        (
            "{G} lives do not matter.",
            "{G} are not worth anything",
            "{G} don't deserve to live",
            "{G} are not real people",
            "{G} will never be equal to us",
        ),
    ),
    "question": (
        "hate",
        (
            "Why is it that all {G} are repulsive?",
            "Why are {G} so thick?",
            "Why can't {G} just disappear?",
            "Aren't all {G} just parasites?",
        ),
    ),
    "opinion": (
        "hate",
        (
            "I think that {G} should all be killed.",
            "In my opinion {G} are subhuman",
            "I believe {G} are a disease",
            "I feel like {G} should be locked away",
            "Honestly {G} are worthless",
        ),
    ),
    "spelling": (
        "hate",
        (
            "I haet {G}.",
            "{G} are a cancr",
            "Deathto all {G}.",
            "I want to k i l l all {G}",
            "{G} lives aren't worth sh1t",
            "{G} are scumm",
            "1 h4te {G}",
            "{G} are d1sgusting",
        ),
    ),
    "negated_hateful": (
        "clean",
        (
            "I don't hate {G}.",
            "{G} are not disgusting",
            "I would never say {G} are scum",
            "No {b} deserves to be treated like that",
            "{G} are not a burden on anyone",
            "I have nothing against {G}",
        ),
    ),
    "neutral": (
        "clean",
        (
            "We are a group of {G}.",
            "{G} live all over the valleys",
            "I work with a lot of {G}",
            "Is there a support group for {G} at the hospital?",
            "My neighbour is {g}",
            "How many {G} work for the health board?",
        ),
    ),
    "positive": (
        "clean",
        (
            "I love {G}.",
            "{G} are brilliant",
            "{G} make our NHS stronger",
            "So proud to stand with {G}",
            "{G} deserve the same care as everyone else",
            "The best nurse on the ward is {g}",
        ),
    ),
    "counter_quote": (
        "clean",
        (
            "Statements like '{G} are scum' are deeply hurtful.",
            'He shouted "I hate {G}" in the waiting room and it was disgusting',
            "Someone sprayed '{G} out' on the surgery wall, shameful",
            "If you say {G} are vermin then you are the problem",
        ),
    ),
    "counter_reference": (
        "clean",
        (
            "You have to stop calling {G} disgusting.",
            "Saying {G} are a plague is just hateful",
            "It's wrong to call {G} animals",
            "People who think {G} are inferior need educating",
            "Anyone who says {G} should be deported is a bigot",
        ),
    ),
}

# Cases that name no protected group.
PLAIN: dict[str, tuple[str, tuple[str, ...]]] = {
    "abuse_of_objects": (
        "clean",
        (
            "I really can't stand cauliflower.",
            "I hate waiting rooms",
            "This parking machine is disgusting",
            "Mondays are the worst, I hate them",
            "The new booking system is pathetic",
            "Hospital food is vile",
            "I despise the new one way system",
        ),
    ),
    "abuse_of_unprotected_groups": (
        "no_hate",
        (
            "Artists are parasites on our society",
            "Politicians are all liars",
            "Football fans are animals",
            "Managers should all be sacked",
            "I hate estate agents",
            "Cyclists are a menace",
            "Traffic wardens disgust me",
        ),
    ),
    "abuse_of_individuals": (
        "no_hate",
        (
            "You make me sick.",
            "You are a disgrace",
            "You are a pathetic excuse for a manager",
            "I hate you",
        ),
    ),
    "profanity_not_hateful": (
        "no_hate",
        (
            "Fuck yes, the new clinic is finally open",
            "What the fuck is going on with the parking",
            "I'm so fucking proud of my daughter for qualifying as a nurse",
        ),
    ),
    "slur_homonyms": (
        "clean",
        (
            "Faggots and peas for tea tonight",
            "We walked Offa's Dyke path for the hospice",
            "Our bitch had six puppies last week",
            "I felt a bit queer after the anaesthetic",
            "My husband is on a bender in Cardiff this weekend",
        ),
    ),
    "reclaimed": (
        "clean",
        (
            "As a queer woman I felt welcome at the sexual health clinic",
            "Proud to be queer and working for the NHS",
        ),
    ),
}

SLUR_TEMPLATES = (
    "You are just a {s} to me.",
    "Shut up you stupid {s}",
    "Get that {s} out of our hospital",
    "That {s} should be sacked",
)


@dataclass(frozen=True)
class FunctionalCase:
    function: str
    expect: str  # "hate", "clean" or "no_hate"
    clause: str  # for "hate": the clause the finding belongs to
    text: str


def cases() -> list[FunctionalCase]:
    out: list[FunctionalCase] = []
    for function, (expect, templates) in TEMPLATES.items():
        for template in templates:
            for group in GROUPS:
                text = template.format(G=group.plural, g=group.one, b=group.bare)
                out.append(FunctionalCase(function, expect, group.clause, _capital(text)))
    for group in GROUPS:
        for slur in group.slurs:
            for template in SLUR_TEMPLATES:
                # the slur names the group: hate even when the group is women (a misogynist
                # slur is abuse: abusive is a violation too, so the expectation is "hate")
                clause = "abusive" if group.clause == "discriminatory" else "hate"
                out.append(FunctionalCase("slur", "hate", clause, template.format(s=slur)))
    for function, (expect, texts) in PLAIN.items():
        out.extend(FunctionalCase(function, expect, "", text) for text in texts)
    return out


def _capital(text: str) -> str:
    return text[0].upper() + text[1:] if text[0].islower() and text[:2] != "i " else text
