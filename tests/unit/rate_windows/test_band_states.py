import orjson

from streams.rate_windows.band_states import BandStates
from streams.rate_windows.cross_author import BandPost, BandState


def state(*ids: str) -> BandState:
    return BandState(
        1_000,
        tuple(BandPost(1_000 + i, c, f"a{i}", i, i, f"raw[0]@{i}") for i, c in enumerate(ids)),
    )


def test_a_missing_key_is_an_empty_state() -> None:
    assert BandStates({}).get(b"3:7") == BandState()


def test_the_table_holds_the_json_bytes_replay_and_the_changelog_read() -> None:
    table: dict[bytes, bytes] = {}
    BandStates(table).put(b"3:7", state("x:1", "x:2"))
    assert BandState.from_dict(orjson.loads(table[b"3:7"])) == state("x:1", "x:2")
    # A second reader with no cache of its own sees the same state from the bytes alone.
    assert BandStates(table).get(b"3:7") == state("x:1", "x:2")


def test_the_state_written_is_reused_while_the_table_holds_its_bytes() -> None:
    table: dict[bytes, bytes] = {}
    states = BandStates(table)
    written = state("x:1")
    states.put(b"3:7", written)
    assert states.get(b"3:7") is written


def test_bytes_the_cache_did_not_write_are_decoded_afresh() -> None:
    table: dict[bytes, bytes] = {}
    states = BandStates(table)
    states.put(b"3:7", state("x:1"))
    # What a changelog recovery does: the same key, different bytes.
    table[b"3:7"] = orjson.dumps(state("x:9").to_dict())
    assert states.get(b"3:7") == state("x:9")


def test_the_cache_is_bounded_and_still_correct_past_its_bound() -> None:
    table: dict[bytes, bytes] = {}
    states = BandStates(table, capacity=2)
    for i in range(5):
        states.put(f"0:{i}".encode(), state(f"x:{i}"))
    assert len(states._decoded) == 2
    assert [states.get(f"0:{i}".encode()) for i in range(5)] == [state(f"x:{i}") for i in range(5)]
