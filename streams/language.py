"""Which language a comment is written in: Welsh (``cy``), English (``en``) or ``und``.

Shared by two stages, not a stage of its own: classification reads it for Welsh-only rules, and
enforcement for the language a reply is written in (only where it answers, so it is identified
there and not for every comment).

The health board must answer Welsh in Welsh, and a Welsh threat only meets the Welsh word lists
if we know to look, so every verdict carries the comment's language. The detector is lingua
(``lingua-language-detector``), restricted to the two languages the board's pages are written
in, in its low-accuracy mode: on the project's labelled comments of five words or more it is as
accurate as the high-accuracy mode and about 40% cheaper (``docs/quality.md``, "Language").

A comment is *classified under* every language found in it: people here switch language inside
one comment ("Diolch yn fawr to the staff on ward 7"), so a comment is also read in pieces of a
few words, and a piece that is confidently the other language adds it. ``und`` (too short or too
unsure to tell) is classified under both languages; replies to it go out in English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

WELSH = "cy"
ENGLISH = "en"
UNDETERMINED = "und"
LANGUAGES = (WELSH, ENGLISH)

_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
# Pieces a comment is split into to find a second language: sentences, then runs of words.
_SENTENCE = re.compile(r"[.!?;:\n]+|\s[-–—]\s")
PIECE_WORDS = 6
MIN_PIECE_WORDS = 3
# How sure the detector must be, by how many words it had to go on. One or two words are often
# both languages ("ward", "ok"); five or more words are decided by the best score.
_MIN_CONFIDENCE = ((2, 0.9), (4, 0.7))
PIECE_CONFIDENCE = 0.85


@dataclass(frozen=True, slots=True)
class LanguageReading:
    language: str  # "cy" | "en" | "und": what the comment is mostly written in
    languages: tuple[str, ...]  # every language it is classified under, sorted


def build_detector(*, low_accuracy: bool = True) -> LanguageDetector:
    """Welsh and English only, both models preloaded (0.3 s). ``low_accuracy=False`` is kept
    for the benchmark that chose the low-accuracy mode (bench/bench_language.py)."""
    from lingua import Language, LanguageDetectorBuilder

    builder = LanguageDetectorBuilder.from_languages(Language.WELSH, Language.ENGLISH)
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.with_preloaded_language_models().build()


def language_detector_version() -> str:
    return version("lingua-language-detector")


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    # Built on first use, once per process: tools that never classify do not pay for it.
    return build_detector()


def _best(text: str, detector: LanguageDetector) -> tuple[str, float]:
    values = detector.compute_language_confidence_values(text)
    if not values:
        return UNDETERMINED, 0.0
    top = values[0]
    return top.language.iso_code_639_1.name.lower(), top.value


def identify(text: str, detector: LanguageDetector | None = None) -> LanguageReading:
    """The comment's language and the languages it is classified under; deterministic."""
    detector = detector or _detector()
    words = _WORD.findall(text)
    if not words:
        return LanguageReading(UNDETERMINED, LANGUAGES)
    language, confidence = _best(" ".join(words), detector)
    for max_words, needed in _MIN_CONFIDENCE:
        if len(words) <= max_words and confidence < needed:
            return LanguageReading(UNDETERMINED, LANGUAGES)
    found = {language}
    for piece in _pieces(text):
        piece_language, piece_confidence = _best(piece, detector)
        if piece_confidence >= PIECE_CONFIDENCE:
            found.add(piece_language)
    return LanguageReading(language, tuple(sorted(found)))


def _pieces(text: str) -> list[str]:
    pieces: list[str] = []
    for sentence in _SENTENCE.split(text):
        words = _WORD.findall(sentence)
        for start in range(0, len(words), PIECE_WORDS):
            chunk = words[start : start + PIECE_WORDS]
            if len(chunk) < MIN_PIECE_WORDS and start:
                chunk = words[max(0, len(words) - PIECE_WORDS) :]  # a short tail joins its run
            if len(chunk) >= MIN_PIECE_WORDS:
                pieces.append(" ".join(chunk))
    # A one-piece comment was read whole already.
    return pieces if len(pieces) > 1 else []
