"""The matching form of a comment, with a map from every matching-form character back to
the characters of the original that produced it.

Abuse is disguised by people who know a word list is watching: "ѕһіt" in Cyrillic, "f.u.c.k",
"sh1t", "fuuuck", zero-width spaces, fullwidth or mathematical letters. ``normalise`` folds
those onto plain lower-case Latin so a word list written in plain spelling meets them, and
keeps offsets so that whatever matches can be shown as the exact characters the person typed.

Steps, in order (see docs/normalisation.md for the reasons and measured figures):

1. per character: confusable/homoglyph folding, NFKC, casefold, diacritics stripped,
   invisible characters and lone surrogates dropped, emoji and pictographs to a space,
   every whitespace and control character to a space;
2. whitespace runs collapsed, ends stripped;
3. repeated until nothing changes (each rule shortens the text or turns a symbol into a
   letter, so this ends): single characters split by separators glued back together,
   leetspeak decoded inside words, runs of 3+ identical letters shortened.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from dataclasses import dataclass, field
from typing import TypeAlias

__all__ = ["NormalisedText", "normalise"]


@dataclass(frozen=True, slots=True)
class NormalisedText:
    original: str
    text: str  # the matching form
    # offsets[i] == (_offsets[2 * i], _offsets[2 * i + 1]); None when text[i] came from
    # original[i] for every i, which is the common case and costs nothing to store.
    _offsets: array[int] | None = field(default=None, repr=False, compare=False)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of `text` to the smallest [start, end) span of `original`
        covering it. An empty span maps to an empty span at the matching position."""
        n = len(self.text)
        if not 0 <= start <= end <= n:
            raise ValueError(f"span [{start}, {end}) is outside the text (length {n})")
        offsets = self._offsets
        if offsets is None:
            return start, end
        if start < end:
            # Starts and ends are both non-decreasing, so the first and last characters
            # bound the span.
            return offsets[2 * start], offsets[2 * end - 1]
        pos = offsets[2 * start] if start < n else (offsets[2 * n - 1] if n else 0)
        return pos, pos

    @property
    def offsets(self) -> list[tuple[int, int]]:
        """offsets[i] = (start, end) in `original` of the characters that produced text[i]."""
        if self._offsets is None:
            return [(i, i + 1) for i in range(len(self.text))]
        flat = self._offsets
        return list(zip(flat[0::2], flat[1::2], strict=True))


# --- step 1: per-character folding --------------------------------------------------------

_LOOKALIKES: dict[str, str] = {}


def _pairs(spec: str) -> None:
    # "ab cd" means a -> b, c -> d; the target may be several characters.
    for item in spec.split():
        _LOOKALIKES[item[0]] = item[1:]


# Cyrillic and Greek capitals are listed separately from their lower case where the capital
# imitates a different Latin letter (Greek Η looks like H, η like n), because casefolding
# first would lose that.
_pairs("Аa Вb Еe Кk Мm Нh Оo Рp Сc Тt Уy Хx Ѕs Іi Јj Һh Ԁd Ԛq Ԝw Үy Ӏi Ьb")
_pairs("аa бb вb гr еe кk мm нh оo пn рp сc тt уy хx шw щw ъb ьb цu яr ѕs іi јj һh ԁd")
_pairs("ԛq ԝw ӏl үy")
_pairs("Αa Βb Εe Ζz Ηh Ιi Κk Μm Νn Οo Ρp Τt Υy Χx Ϲc ϲc ϳj ϒy")
_pairs("αa βb γy δd εe ηn ιi κk μu νv οo πn ρp σo ςs τt υu χx ωw")
# Latin look-alikes and letters NFKD does not decompose; small capitals.
_pairs("ıi ȷj ɑa ɡg ɩi ɨi ʉu ǀl ɛe æae œoe øo đd łl ħh ŧt ƀb ðd")
_pairs("ᴀa ʙb ᴄc ᴅd ᴇe ꜰf ɢg ʜh ɪi ᴊj ᴋk ʟl ᴍm ɴn ᴏo ᴘp ʀr ꜱs ᴛt ᴜu ᴠv ᴡw ʏy ᴢz")
# Armenian letters that pass for Latin ones.
_pairs("օo սu հh ոn ցg զq")
# Typographic punctuation onto its ASCII form, so separators and apostrophes are one thing.
_pairs("‘' ’' ‚' ‛' ′' ‵' “\" ”\" „\" ‟\" ″\" ‐- ‑- ‒- –- —- ―- −- ⁃-")
for _i in range(26):
    _letter = chr(ord("a") + _i)
    # Regional indicators (flag halves), negative circled/squared and parenthesised letters
    # have no compatibility decomposition to a letter, but are used to spell words.
    for _base in (0x1F1E6, 0x1F150, 0x1F170):
        _LOOKALIKES[chr(_base + _i)] = _letter
    _LOOKALIKES[chr(0x249C + _i)] = _letter
# Blank "letters" that render as nothing.
for _cp in (0x115F, 0x1160, 0x3164, 0xFFA0):
    _LOOKALIKES[chr(_cp)] = ""

_MARKS = frozenset({"Mn", "Me"})


def _fold_step(ch: str) -> str:
    """One rewriting step for one character; `_fold_char` repeats it to a fixed point."""
    direct = _LOOKALIKES.get(ch)
    if direct is not None:
        return direct
    cat = unicodedata.category(ch)
    if cat == "Cs":
        return ""  # a lone surrogate cannot be encoded and means nothing
    compat = unicodedata.normalize("NFKC", ch)
    if compat != ch:
        return compat
    if ch.isspace() or cat in ("Zs", "Zl", "Zp", "Cc"):
        return " "
    if cat == "Cf" or cat in _MARKS:
        return ""  # zero-width, bidi controls, soft hyphen, tags, variation selectors
    cp = ord(ch)
    if cat == "So" or (0x1F000 <= cp <= 0x1FAFF and cat in ("Sk", "Cn")):
        return " "  # emoji and pictographs carry no letters; a space keeps words apart
    folded = ch.casefold()
    if folded != ch:
        return folded
    decomposed = unicodedata.normalize("NFKD", ch)
    bare = "".join(c for c in decomposed if unicodedata.category(c) not in _MARKS)
    if bare != decomposed:
        # NFC puts back together what NFKD split but did not strip (Hangul syllables).
        return unicodedata.normalize("NFC", bare)
    return ch


def _fold_char(ch: str) -> str:
    # Iterating to a fixed point makes every output character map to itself, which is what
    # makes normalise() idempotent.
    current = ch
    for _ in range(8):
        step = "".join(_fold_step(c) for c in current)
        if step == current:
            return current
        current = step
    return current


class _FoldTable(dict[int, str]):
    """str.translate table, filled lazily: only characters actually seen are folded."""

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        folded = _fold_char(ch)
        if len(folded) != 1:
            _NOT_ONE_TO_ONE.add(ch)
            if folded == "" and unicodedata.category(ch) in _MARKS:
                _MARK_CHARS.add(ch)
        if len(self) < _TABLE_LIMIT:  # bounded: adversarial input must not grow it forever
            self[cp] = folded
        return folded


_TABLE_LIMIT = 200_000
_NOT_ONE_TO_ONE: set[str] = set()
_MARK_CHARS: set[str] = set()
_TABLE = _FoldTable()
for _cp in range(128):
    _TABLE[_cp] = chr(_cp).lower() if 32 <= _cp < 127 else " "

_ASCII_CONTROL_TO_SPACE = {cp: " " for cp in [*range(32), 127]}
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_SPACE_FIX = re.compile(r" {2,}|^ +| +$")


Offsets: TypeAlias = tuple[list[int], list[int]] | None


def _fold(s: str) -> tuple[str, Offsets]:
    if s.isascii():
        t = s.lower()
        if not t.isprintable():  # for ASCII: holds a control character
            t = t.translate(_ASCII_CONTROL_TO_SPACE)
        return t, None
    t = s.translate(_TABLE)
    if _NOT_ONE_TO_ONE.isdisjoint(s):
        return t, None
    table = _TABLE
    starts: list[int] = []
    ends: list[int] = []
    prev = 0
    for m in _NON_ASCII_RUN.finditer(s):
        a = m.start()
        starts.extend(range(prev, a))
        ends.extend(range(prev + 1, a + 1))
        for i in range(a, m.end()):
            ch = s[i]
            n = len(table[ord(ch)])
            if n == 1:
                starts.append(i)
                ends.append(i + 1)
            elif n == 0:
                # A dropped accent stays with its letter, so a highlight never splits them.
                if ends and ends[-1] == i and ch in _MARK_CHARS:
                    ends[-1] = i + 1
            else:
                starts.extend([i] * n)
                ends.extend([i + 1] * n)
        prev = m.end()
    starts.extend(range(prev, len(s)))
    ends.extend(range(prev + 1, len(s) + 1))
    return t, (starts, ends)


# --- editing text and offsets together --------------------------------------------------

# (start, end, replacement, replacement starts, replacement ends), sorted, non-overlapping
Edit: TypeAlias = tuple[int, int, str, list[int], list[int]]


def _splice(t: str, offsets: Offsets, edits: list[Edit]) -> tuple[str, Offsets]:
    if offsets is None:
        starts, ends = list(range(len(t))), list(range(1, len(t) + 1))
    else:
        starts, ends = offsets
    out: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    prev = 0
    for a, b, rep, rep_starts, rep_ends in edits:
        out.append(t[prev:a])
        out.append(rep)
        new_starts += starts[prev:a]
        new_starts += rep_starts
        new_ends += ends[prev:a]
        new_ends += rep_ends
        prev = b
    out.append(t[prev:])
    new_starts += starts[prev:]
    new_ends += ends[prev:]
    return "".join(out), (new_starts, new_ends)


def _start_of(offsets: Offsets, i: int) -> int:
    return i if offsets is None else offsets[0][i]


def _end_of(offsets: Offsets, i: int) -> int:
    return i + 1 if offsets is None else offsets[1][i]


def _fix_spaces(t: str, offsets: Offsets) -> tuple[str, Offsets]:
    if not ("  " in t or t.startswith(" ") or t.endswith(" ")):
        return t, offsets
    edits: list[Edit] = []
    n = len(t)
    for m in _SPACE_FIX.finditer(t):
        a, b = m.span()
        if a == 0 or b == n:
            edits.append((a, b, "", [], []))
        else:
            edits.append((a, b, " ", [_start_of(offsets, a)], [_end_of(offsets, b - 1)]))
    return _splice(t, offsets, edits)


# --- step 3a: letters split by separators ----------------------------------------------

_WORD_CHARS = "a-z0-9@$€"
# "!", "(", "+" and "|" are leet letters as well as punctuation: a piece, but not a word edge.
_PIECE_CHARS = "a-z0-9@$€!(+|"
_SEPARATORS = r".\-_*~,/\\:;'\"`^=#|+<>·•‧∙"


def _piece(group: int) -> str:
    # One character, or one character stretched to 3+ ("f.uuuu.c.k"); never a pair, so
    # "aa bb cc dd" is not glued. Possessive, so a long run is not re-tried a character at a
    # time.
    return rf"([{_PIECE_CHARS}])(?:\{group}{{2,}}+)?"


# Where a run may start: not inside a word, nor inside a run of one punctuation piece
# ("((((("), which would make the search quadratic.
_RUN_START = rf"(?<![{_WORD_CHARS}])(?!(?<=!)!|(?<=\()\(|(?<=\+)\+|(?<=\|)\|)"
# "f.u.c.k", "f - u - c - k", "f_u_c_k": 3+ pieces with the same separator (1-3 separator
# characters, a space either side allowed) in every gap. "e.g." is only two pieces, and
# "e.g. a.m." changes separator, so neither is glued. A piece never starts with the separator,
# so "+" or "|" (both) cannot be read two ways.
_SEPARATED = re.compile(
    rf"{_RUN_START}{_piece(1)}( ?[{_SEPARATORS}]{{1,3}} ?)(?!\2){_piece(3)}"
    rf"(?:\2(?!\2){_piece(4)})+(?![{_WORD_CHARS}])"
)
# "f u c k": spaces alone need 4+ pieces, because "I", "a" and "u" are words in their own right.
_SPACED = re.compile(rf"{_RUN_START}{_piece(1)}(?: {_piece(2)}){{3,}}(?![{_WORD_CHARS}])")
# Cheap tests that must match before the searches above can: each starts with a narrow
# character class, which the regex engine skips to without trying every position. A middle
# piece between two separators; two middle pieces between spaces.
_MAY_BE_SEPARATED = re.compile(
    rf"[{_SEPARATORS}] ?([{_PIECE_CHARS}])(?:\1{{2,}}+)? ?[{_SEPARATORS}]"
)
_MAY_BE_SPACED = re.compile(rf" ([{_PIECE_CHARS}])(?:\1{{2,}}+)? ([{_PIECE_CHARS}])(?:\2{{2,}}+)? ")
_LETTER = re.compile("[a-z]")
_ARTICLE = frozenset("ai")
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def _join_separated(t: str, offsets: Offsets) -> tuple[str, Offsets, bool]:
    changed = False
    # One after the other: their matches can overlap.
    for rx, may in ((_SEPARATED, _MAY_BE_SEPARATED), (_SPACED, _MAY_BE_SPACED)):
        if may.search(t) and rx.search(t):
            t, offsets, joined = _join(rx, t, offsets)
            changed = changed or joined
    return t, offsets, changed


def _join(rx: re.Pattern[str], t: str, offsets: Offsets) -> tuple[str, Offsets, bool]:
    edits: list[Edit] = []
    for m in rx.finditer(t):
        run = m.group()
        if not _LETTER.search(run):
            continue  # "1.2.3", "1 2 3 4": numbers, not a hidden word
        sep = " " if rx is _SPACED else m.group(2)
        pieces = run.split(sep)
        if not all(p and p == p[0] * len(p) for p in pieces):
            continue  # a separator character doubling as a piece ("a+++b"): leave it
        a = m.start()
        if (
            rx is _SPACED
            and pieces[0] in _ARTICLE
            and len(pieces) >= 5
            and a >= 2
            and t[a - 2] in _ALNUM
        ):
            # "what a f u c k", "you are a i d i o t": after a word, a lone a or i is the
            # article or the pronoun, not the first letter of the spelt-out word.
            pieces = pieces[1:]
            a += 2
        pos: list[int] = []
        at = a
        for p in pieces:
            pos.extend(range(at, at + len(p)))
            at += len(p) + len(sep)
        rep_starts = [_start_of(offsets, i) for i in pos]
        rep_ends = [_end_of(offsets, i) for i in pos]
        edits.append((a, m.end(), "".join(pieces), rep_starts, rep_ends))
    if not edits:
        return t, offsets, False
    t, offsets = _splice(t, offsets, edits)
    return t, offsets, True


# --- step 3b: leetspeak ------------------------------------------------------------------

_WORDISH = "a-z0-9@$€|+(!"
_LEET_CHARS = "0134-57-9@$€|+(!"
# A token holding a letter next to a leet character. The look-behind anchors each attempt at
# a token start, which keeps the scan linear.
_LEET_TOKEN = re.compile(
    rf"(?<![{_WORDISH}])[{_WORDISH}]*"
    rf"(?:[a-z][{_LEET_CHARS}]|[{_LEET_CHARS}][a-z])[{_WORDISH}]*"
)
# Needed for any decoding: a letter next to a leet character, where "!" after a letter counts
# only with more leet after it ("sh!+"; "thanks!" is not leet). Bare numbers do not match.
_MAY_BE_LEET = re.compile(
    rf"[{_LEET_CHARS}](?:(?<=[a-z][013-57-9@$€|+(])|[a-z]|(?<=[a-z]!)[{_LEET_CHARS}])"
)
_LEET = {
    "0": "o",
    "3": "e",
    "4": "a",
    "5": "s",
    "7": "t",
    "8": "b",
    "9": "g",
    "@": "a",
    "$": "s",
    "€": "e",
    "|": "l",
    "+": "t",
    "!": "i",
    "(": "c",
}
_VOWELS = frozenset("aeiouy")
_PLAIN_LEET = str.maketrans({k: v for k, v in _LEET.items() if k not in "!(+"})
_INNER_RUN = re.compile("[!(+]+")
_ONES = re.compile("1+")
_L_BEFORE_VOWEL = frozenset("bcfgps")  # "s1ut", "c1it", "b1ow": 1 is the l of a cluster
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
# Symbols that are punctuation at a word's edge ("thanks!", "(see", "C++") and leet only inside
# one with a short stretch of word on one side ("sh!t", "di(k"), so "great!thanks" stays.
_INNER_ONLY = "!(+"
_INNER_REACH = {"!": 2, "(": 3, "+": 3}  # the shorter side may be at most this long
_DIGITS_OTHER_THAN_LEET = re.compile(r"[^\D013-57-9]")
# Quantities and times read as numbers, not as leet ("10am", "5mg", "3x", flat "12b").
_NUMBER = re.compile(
    r"[$€@]?\d+(?:am|pm|s|ish|x|k|m|bn|p|mg|mcg|ug|ml|l|cl|cm|mm|km|kg|g|lbs?|oz|ft|in|mph|bpm"
    r"|iu|[gmkt]b|yo|mos?|wks?|weeks?|days?|months?|yrs?|years?|hrs?|hours?|mins?|minutes?"
    r"|secs?|[a-f])?"
)
_ORDINAL = re.compile(r"\d*(?:1[123]th|1st|2nd|3rd|[04-9]th)")  # "1st", "13th"; not "83113nd"
# Letters then digits: roads and vitamins ("a55", "m4", "d3"), postcode districts ("cf14",
# "ll57") and, after a district, the inward half of a postcode ("4xw").
_CODE = re.compile(
    r"(?:[a-z]|a[bl]|b[abdhlnrst]|c[abfhmortvw]|d[adeghlnty]|e[chnx]|f[ky]|g[lu]|h[adgprsux]"
    r"|i[gpv]|k[atwy]|l[adelnsu]|m[eklt]|n[egnprw]|o[lx]|p[aehlor]|r[ghm]|s[aegklmnoprstwy]"
    r"|t[adfnqrsw]|ub|w[acdfnrsv]|yo|ze)\d+"
)
_INWARD = re.compile(r"\d[abd-hjlnp-uw-z]{2}")
_AFTER_DISTRICT = re.compile(r"(?:^|[^a-z0-9])[a-z]{1,2}\d{1,2}[a-z]? $")
_KNOWN_CODES = frozenset({"covid19", "nhs111", "h1n1", "h5n1"})
# A bracketed ending ("appointment(s)", "child(ren)"), where "(" is not a c.
_ENDING = re.compile(r"\((?:s|es|ies|ren|er|ers|ed|ing)$")


def _decode_token(tok: str, before: str, before_paren: bool, unclosed: bool) -> str | None:
    """The token with its leet characters read as letters, or None to leave it alone.
    `before`: a few characters before it; `before_paren`: a ")" comes straight after it;
    `unclosed`: no ")" anywhere after it."""
    b = len(tok)
    start = a = b - len(tok.lstrip("@"))  # "@nhswales" is a mention, not "anhswales"
    while a < b and tok[a] in _INNER_ONLY:
        a += 1
    while b > a and tok[b - 1] in _INNER_ONLY:
        b -= 1
    # One "!" or "+" before a letter is leet ("!diot", "+wat"); a run ("!!!wow") is not, and
    # "(" only when nothing closes it ("(unt").
    opener = tok[start] if a == start + 1 and b > a and tok[a] in _LETTERS else ""
    if opener in ("!", "+") or (opener == "(" and unclosed):
        a = start
    # A "+" or "(" ending a word of three or more ("shi+", "g!+", "spasti(!"), not "A+" or
    # "C++"; "!" after it is an exclamation mark.
    tail = tok[b:].rstrip("!")
    if (
        tail
        and tail[-1] in "+("
        and b + len(tail) >= 3
        and _LETTER.search(tok[:b])
        and ((len(tail) <= 2 and tail.count("+") <= 1) or (b >= 3 and len(set(tail)) == 1))
    ):
        b += len(tail)  # a stretched one too ("cun+++"), after a word of three
    core = tok[a:b]
    if not _LETTER.search(core) or _DIGITS_OTHER_THAN_LEET.search(core):
        return None  # "b12", "cf24", "6ft": a 2 or 6 is never leet here, so it is a code
    if _NUMBER.fullmatch(core) or _ORDINAL.fullmatch(core):
        return None
    if _CODE.fullmatch(core) or core in _KNOWN_CODES:
        return None
    if _INWARD.fullmatch(core) and _AFTER_DISTRICT.search(before):
        return None
    # "appointment(s)", "child(ren)": a bracket round an ending, not a c.
    bracket = core.rfind("(") if before_paren and _ENDING.search(core) else -1
    chars = list(core.translate(_PLAIN_LEET))
    n = len(chars)
    for run in _INNER_RUN.finditer(core):
        i, j = run.span()
        shorter_side = min(i, n - j)  # only "sh!t", not "great!thanks"
        for k in range(i, j):
            c = core[k]
            if k != bracket and shorter_side <= _INNER_REACH[c]:
                chars[k] = _LEET[c]
    if "1" in core:
        decoded = "".join(chars)
        for run in _ONES.finditer(decoded):
            i, j = run.span()
            chars[i:j] = _ones(decoded, i, j) * (j - i)
    return tok[:a] + "".join(chars) + tok[b:]


def _ones(s: str, i: int, j: int) -> str:
    # "1" stands for both i and l; i is the commoner substitution ("sh1t", "b1tch", "1diot").
    # It is l as "11" ("bo11ocks"), as the other half of a single l after it, or after a vowel
    # before it ("bul1shit", "bo1locks"; not "p1llock", "imbec1le"), between vowels ("ho1e")
    # and after a consonant that clusters with l before a vowel ("s1ut", "c1it").
    if j - i == 2:
        return "l"
    if j - i > 2:
        return "i"  # a stretched i ("sh111t")
    before = s[i - 1] if i else ""
    after = s[j] if j < len(s) else ""
    if before == "l" and after != "l" and not (i >= 2 and s[i - 2] == "l"):
        return "l"
    if after == "l" and before != "l" and before in _VOWELS and s[j + 1 : j + 2] != "l":
        return "l"
    if after in _VOWELS and (before in _VOWELS or before in _L_BEFORE_VOWEL):
        return "l"
    return "i"


def _decode_leet(t: str, offsets: Offsets) -> tuple[str, Offsets, bool]:
    if not _MAY_BE_LEET.search(t):
        return t, offsets, False
    parts: list[str] = []
    prev = 0
    last_close = t.rfind(")")
    for m in _LEET_TOKEN.finditer(t):
        a, b = m.span()
        decoded = _decode_token(
            m.group(), t[max(0, a - 6) : a], t[b : b + 1] == ")", last_close < b
        )
        if decoded is not None and decoded != m.group():
            parts.append(t[prev : m.start()])
            parts.append(decoded)
            prev = m.end()
    if not parts:
        return t, offsets, False
    parts.append(t[prev:])
    # One character for one character: the offsets do not move.
    return "".join(parts), offsets, True


# --- step 3c: stretched letters --------------------------------------------------------

_STRETCHED = re.compile(r"([a-z])\1{2,}")
_FLOSS = frozenset("flsz")
_PLAIN_VOWELS = frozenset("aeiou")


def _may_have_triple(t: str) -> bool:
    if not t.isascii():
        return _STRETCHED.search(t) is not None
    # Three equal characters in a row are two zero bytes in a row once each byte is XORed
    # with the one before it; big-integer XOR does that at C speed, where the regex costs
    # about ten times as much on a typical comment. (The first byte is XORed with nothing and
    # stays non-zero: the text has no NUL by now.)
    value = int.from_bytes(t.encode(), "big")
    return b"\0\0" in (value ^ (value >> 8)).to_bytes(len(t), "big")


def _shorten_runs(t: str, offsets: Offsets) -> tuple[str, Offsets, bool]:
    # 3+ identical letters become one ("fuuuck", "shiiit", "fuckkk"): English never triples a
    # letter, and stretching falls mostly on single letters. The exception follows English
    # spelling's "floss" rule: f, l, s and z after a single vowel at the end of a word are
    # doubled ("asssss" -> "ass", "pisssss" -> "piss", "helllll" -> "hell"), while
    # "thanksss" and "ideasss" keep one.
    if not _may_have_triple(t):
        return t, offsets, False
    edits: list[Edit] = []
    n = len(t)
    for r in _STRETCHED.finditer(t):
        a, b = r.span()
        letter = t[a]
        floss = False
        if (
            letter in _FLOSS
            and a
            and t[a - 1] in _PLAIN_VOWELS
            and (b == n or not "a" <= t[b] <= "z")
        ):
            v = a - 1  # the vowel, itself perhaps stretched ("dumbaaasss")
            while v and t[v - 1] == t[a - 1]:
                v -= 1
            floss = v == 0 or t[v - 1] not in _PLAIN_VOWELS
        if floss:
            rep_starts = [_start_of(offsets, a), _start_of(offsets, b - 1)]
            rep_ends = [_end_of(offsets, b - 2), _end_of(offsets, b - 1)]
            edits.append((a, b, letter * 2, rep_starts, rep_ends))
        else:
            edits.append((a, b, letter, [_start_of(offsets, a)], [_end_of(offsets, b - 1)]))
    if not edits:
        return t, offsets, False  # the triple was "...", "!!!" or "000"
    t, offsets = _splice(t, offsets, edits)
    return t, offsets, True


# --- the whole thing ---------------------------------------------------------------------


def normalise(text: str) -> NormalisedText:
    """The matching form of `text`; never raises on a str. Idempotent on `.text`."""
    if text.isascii():
        # Fast path, most comments: plain ASCII with nothing for the later steps to do.
        t = text.lower()
        if (
            t.isprintable()
            and not ("  " in t or t.startswith(" ") or t.endswith(" "))
            and not _MAY_BE_LEET.search(t)
            and not _MAY_BE_SEPARATED.search(t)
            and not _MAY_BE_SPACED.search(t)
            and not (_may_have_triple(t) and _STRETCHED.search(t))
        ):
            return NormalisedText(text, t)
    return _normalise_all_steps(text)


def _normalise_all_steps(text: str) -> NormalisedText:
    t, offsets = _fold(text)
    t, offsets = _fix_spaces(t, offsets)
    changed = True
    while changed:
        t, offsets, joined = _join_separated(t, offsets)
        t, offsets, decoded = _decode_leet(t, offsets)
        t, offsets, shortened = _shorten_runs(t, offsets)
        changed = joined or decoded or shortened
    if offsets is None:
        return NormalisedText(text, t)
    starts, ends = offsets
    flat = array("i", bytes(8 * len(starts)))  # 4-byte ints, interleaved start, end
    flat[0::2] = array("i", starts)
    flat[1::2] = array("i", ends)
    return NormalisedText(text, t, flat)
