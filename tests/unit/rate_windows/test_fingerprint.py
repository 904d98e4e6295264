import itertools

from hypothesis import given
from hypothesis import strategies as st

from streams.rate_windows.config import WindowConfig
from streams.rate_windows.fingerprint import (
    band_values,
    fingerprint,
    first_common_band,
    fold,
    hamming,
)

from .factory import DISTINCT_TEXTS

K = WindowConfig().near_duplicate_max_distance
BASE = "Save our A&E! Sign the petition now and share with everyone you know"


def distance(a: str, b: str) -> int:
    return hamming(fingerprint(a).simhash, fingerprint(b).simhash)


@given(st.text(max_size=400))
def test_a_text_is_at_distance_zero_from_itself(text: str) -> None:
    assert distance(text, text) == 0
    assert fingerprint(text) == fingerprint(text)


@given(st.integers(0, 2**64 - 1), st.integers(0, 2**64 - 1))
def test_hamming_is_a_symmetric_bit_count(a: int, b: int) -> None:
    assert hamming(a, b) == hamming(b, a) == bin(a ^ b).count("1")


def test_fingerprints_are_pinned_so_stored_state_stays_comparable() -> None:
    # Stored states hold these values, and no hash here may depend on the process's hash seed.
    # If this changes on purpose, the tables holding fingerprints need new versioned names.
    fp = fingerprint(BASE)
    assert fp.simhash == 0x7268_C1A4_22A5_4552
    assert fp.exact == 0x485F_D538_D4DD_B536
    assert fp.tokens == 14  # "a&e" folds to two words


def test_case_punctuation_and_emoji_are_folded_away() -> None:
    for variant in (
        "SAVE OUR A&E!!! SIGN THE PETITION NOW AND SHARE WITH EVERYONE YOU KNOW",
        "Save our A&E 😡😡 Sign the petition now and share with everyone you know",
        "Save our A & E! Sign the petition... now, and share with everyone you know!!",
    ):
        assert fold(variant) == fold(BASE)
        assert fingerprint(variant).exact == fingerprint(BASE).exact
        assert distance(BASE, variant) == 0


def test_small_edits_stay_near() -> None:
    for variant in (
        "Save our A&E! Please sign the petition now and share with everyone you know",
        "save our a&e!! sign the petition now & share with everyone you know",
        "Save our A&E! Sign the petition today and share with everyone you know",
    ):
        assert fingerprint(variant).exact != fingerprint(BASE).exact
        assert 0 < distance(BASE, variant) <= K


def test_different_messages_are_not_near() -> None:
    for a, b in itertools.combinations(DISTINCT_TEXTS, 2):
        assert distance(a, b) > K, (a, b)


def test_tokens_count_words_of_the_folded_text() -> None:
    assert fingerprint("Thank you!! 🙏").tokens == 2
    assert fingerprint("").tokens == 0
    assert fingerprint("😡😡").tokens == 0
    assert fingerprint("").simhash == 0


def test_bands_partition_the_64_bits() -> None:
    value = fingerprint(BASE).simhash
    for bands in (1, 3, 4, 7, 16):
        parts = band_values(value, bands)
        widths = [64 // bands + (1 if i < 64 % bands else 0) for i in range(bands)]
        rebuilt, shift = 0, 0
        for part, width in zip(parts, widths, strict=True):
            assert part < 1 << width
            rebuilt |= part << shift
            shift += width
        assert rebuilt == value


@given(
    st.integers(0, 2**64 - 1),
    st.sets(st.integers(0, 63), max_size=3),
)
def test_hashes_closer_than_the_band_count_share_a_band(value: int, flips: set[int]) -> None:
    other = value
    for bit in flips:
        other ^= 1 << bit
    assert first_common_band(value, other, 4) is not None


def test_first_common_band_is_the_lowest_agreeing_slice() -> None:
    value = 0x0123_4567_89AB_CDEF
    assert first_common_band(value, value, 4) == 0
    assert first_common_band(value, value ^ 1, 4) == 1  # bit 0 lives in slice 0
    assert first_common_band(value, value ^ 0xFFFF_FFFF_FFFF, 4) == 3
    assert first_common_band(value, ~value & (2**64 - 1), 4) is None
