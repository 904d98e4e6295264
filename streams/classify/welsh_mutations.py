"""Welsh initial mutations, so that a word list or a rule names a word once.

Welsh changes the first sound of a word after certain words: "lladd" (kill) is "ladd" in
"am ladd fy hun", "poen" (pain) is "boen", "mhoen" or "phoen" after "ei", "fy", "a". A list that
held only the dictionary form would miss most real uses, and one that spelt every form out by
hand would miss the ones its author forgot. Expansion happens once, when a list or a rule is
loaded; matching a comment costs nothing more.

- ``mutations("poen")`` -> every form: poen, boen (soft), mhoen (nasal), phoen (aspirate).
- word lists: a ``#! welsh_mutations`` line at the top of the file expands the first word of
  every entry (``streams.classify.lexicon``);
- rules: ``{mut:poen}`` in a pattern is ``(?:mhoen|phoen|poen|boen)(?:n|r)?``, and
  ``{mut:poen|brest}`` takes several words (``streams.classify.matchers``). The optional ``n``
  or ``r`` is a joined "'n" or "'r": rules read words with their apostrophes dropped, so
  "anadlu'n" and "llosgi'r" reach them as "anadlun" and "llosgir".

Forms shorter than three letters are left out ("gwn" -> "wn"): they would match ordinary words.
"""

from __future__ import annotations

import re

# First letters (longest first) -> their mutated forms. Soft, nasal and aspirate mutations, and
# the "h" Welsh puts before a vowel after "ei" (her), "ein", "eu" ("ei hwyneb", her face).
_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ll", ("l",)),
    ("rh", ("r",)),
    ("p", ("b", "mh", "ph")),
    ("t", ("d", "nh", "th")),
    ("c", ("g", "ngh", "ch")),
    ("b", ("f", "m")),
    ("d", ("dd", "n")),
    ("g", ("", "ng")),
    ("m", ("f",)),
)
_VOWELS = frozenset("aeiouwyâêîôûŵŷ")
MIN_FORM = 3
DIRECTIVE = "#! welsh_mutations"
_MACRO = re.compile(r"\{mut:([^{}]+)\}")


def mutations(word: str) -> tuple[str, ...]:
    """The word and each mutated form of it, the word first, without repeats."""
    word = word.lower()
    forms = [word]
    for start, replacements in _RULES:
        if word.startswith(start):
            forms.extend(r + word[len(start) :] for r in replacements)
            break
    else:
        if word[:1] in _VOWELS:
            forms.append("h" + word)
    return tuple(dict.fromkeys(f for f in forms if f == word or len(f) >= MIN_FORM))


def expand_macros(regex: str) -> str:
    """``{mut:lladd|poen}`` -> ``(?:lladd|mhoen|...|ladd)(?:n|r)?``; the rest unchanged."""

    def replace(m: re.Match[str]) -> str:
        words = [w.strip() for w in m.group(1).split("|") if w.strip()]
        forms = dict.fromkeys(f for w in words for f in mutations(w))
        return "(?:" + "|".join(sorted(forms, key=len, reverse=True)) + ")(?:n|r)?"

    return _MACRO.sub(replace, regex)
