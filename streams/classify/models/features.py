"""The features a text model reads: one function, used by training and at run time alike.

A model reads the normalised word tokens (``Document.token_words()``), never the raw text, so a
disguised word ("f.u.c.k", "ѕһіt", "sh1t") scores as the plain word does. Features are:

- ``w:<word>`` every word;
- ``b:<word> <word>`` every pair of neighbouring words;
- ``c:<gram>`` character 3- and 4-grams inside each word padded with ``<`` and ``>``, so an
  unseen inflection or a misspelling ("hateing", "retarted") still shares most features.

Every mention of a protected group ("women", "muslims", "gay people": the ``protected_groups``
word list) is read as the one token ``GROUP`` before features are taken. Models trained on
tweets learn the group words themselves as signs of abuse ("gay", "women" score high in any
sentence); masked, a score has to come from what is said of the group, and "trans people are
valid" scores like "dogs are valid". Slurs are not group names and stay visible.

Each feature remembers the tokens it came from, so the features that drove a score become
spans of the original text (evidence). A document's features are counted (a feature seen twice
weighs twice) and scaled by 1/sqrt(n), n the number of features taken, so long and short texts
are on one scale. Counting rather than de-duplicating lets run time look each word's features
up once (cached by word) and add them, with no per-comment set of strings; the scale depends on
the features alone, not on any vocabulary, so training and run time compute it the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import cache, lru_cache

from streams.classify.document import Document
from streams.classify.lexicon import LEXICON_DIR, Lexicon, load_lexicon, squeeze

CHAR_SIZES = (3, 4)
GROUP_LEXICON = "protected_groups"
GROUP_TOKEN = "GROUP"  # noqa: S105 (a placeholder word, not a secret)


@cache
def _groups() -> Lexicon:
    return load_lexicon(GROUP_LEXICON)


def group_lexicon_sha256() -> str:
    """The masking list is part of the features: an artefact names the list it was trained
    with, and loading refuses a list that has changed since."""
    return hashlib.sha256((LEXICON_DIR / f"{GROUP_LEXICON}.txt").read_bytes()).hexdigest()


@cache
def _group_first_words() -> frozenset[str]:
    return frozenset(_groups().first_words())


def masked(words: Sequence[str], doc: Document | None = None) -> tuple[list[str], list[int]]:
    """The words with each group mention as ``GROUP``, and each new token's first old index.

    ``doc``: the document these are the words of, whose word sets and views answer the lookup
    in C (the same mentions as from the words alone)."""
    groups = _groups()
    firsts = _group_first_words()
    if doc is not None:
        view = doc.token_view()
        maybe = bool(firsts & view.word_set or firsts & view.squeezed_set)
    else:
        maybe = any(w in firsts or squeeze(w) in firsts for w in words)
    if not maybe:  # the common case
        return list(words), list(range(len(words)))
    # Found once per comment: the group rules (group_attack) read the same mentions.
    mentions = groups.find_once(doc) if doc is not None else groups.find(words)
    out: list[str] = []
    origin: list[int] = []
    index = 0
    for mention in mentions:
        out.extend(words[index : mention.first])
        origin.extend(range(index, mention.first))
        out.append(GROUP_TOKEN)
        origin.append(mention.first)
        index = mention.last + 1
    out.extend(words[index:])
    origin.extend(range(index, len(words)))
    return out, origin


@lru_cache(maxsize=200_000)
def word_features(word: str) -> tuple[str, ...]:
    """A word's own features; words repeat across comments, so this is cached."""
    padded = f"<{word}>"
    grams = {f"c:{padded[i : i + n]}" for n in CHAR_SIZES for i in range(len(padded) - n + 1)}
    return (f"w:{word}", *sorted(grams))


def features(words: Sequence[str]) -> dict[str, int]:
    """Feature -> index (in ``words``) of the first token it came from (a pair: its first)."""
    tokens, origin = masked(words)
    found: dict[str, int] = {}
    for i, word in enumerate(tokens):
        for feature in word_features(word):
            found.setdefault(feature, origin[i])
    for i in range(len(tokens) - 1):
        found.setdefault(f"b:{tokens[i]} {tokens[i + 1]}", origin[i])
    return found


def feature_list(words: Sequence[str]) -> list[str]:
    """Every feature taken from the words, repeats included (training's view of a text)."""
    tokens, _ = masked(words)
    found = [f for word in tokens for f in word_features(word)]
    found.extend(f"b:{tokens[i]} {tokens[i + 1]}" for i in range(len(tokens) - 1))
    return found


def token_span(feature: str, first: int) -> tuple[int, int]:
    """The tokens [first, last] a feature covers."""
    return (first, first + 1) if feature.startswith("b:") else (first, first)
