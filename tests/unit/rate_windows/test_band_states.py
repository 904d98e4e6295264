import orjson

from streams.rate_windows.band_states import BandStates
from streams.rate_windows.cross_author import BandPost, BandState


def state(*ids: str) -> BandState:
    posts = tuple(BandPost(1_000 + i, c, f"a{i}", i, i, f"raw[0]@{i}") for i, c in enumerate(ids))
    return BandState(1_000, posts)


def test_a_missing_key_is_an_empty_state() -> None:
    assert BandStates({}).get(b"3:7") == BandState()


def test_the_index_holds_states_and_encodes_them_as_json() -> None:
    table: dict[bytes, BandState] = {}
    BandStates(table).put(b"3:7", state("x:1", "x:2"))
    assert table[b"3:7"] == state("x:1", "x:2")
    assert BandStates(table).get(b"3:7") == state("x:1", "x:2")
    encoded = BandStates(table).encoded()
    assert BandState.from_dict(orjson.loads(encoded[b"3:7"])) == state("x:1", "x:2")


def test_an_emptied_key_is_dropped() -> None:
    table: dict[bytes, BandState] = {}
    states = BandStates(table)
    states.put(b"3:7", state("x:1"))
    states.put(b"3:7", BandState(2_000, ()))
    assert b"3:7" not in table
