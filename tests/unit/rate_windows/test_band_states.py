import orjson

from streams.rate_windows.band_states import BandStates
from streams.rate_windows.cross_author import BandPost, BandState


def state(*ids: str) -> BandState:
    posts = tuple(BandPost(1_000 + i, c, f"a{i}", i, i, f"raw[0]@{i}") for i, c in enumerate(ids))
    return BandState(1_000, posts)


def test_a_missing_key_is_an_empty_state() -> None:
    assert BandStates({}).get(b"3:7") == BandState()


def test_the_table_holds_the_json_bytes_replay_and_the_changelog_read() -> None:
    table: dict[bytes, bytes] = {}
    BandStates(table).put(b"3:7", state("x:1", "x:2"))
    assert BandState.from_dict(orjson.loads(table[b"3:7"])) == state("x:1", "x:2")
    assert BandStates(table).get(b"3:7") == state("x:1", "x:2")


def test_bytes_written_by_another_writer_are_read() -> None:
    table: dict[bytes, bytes] = {}
    states = BandStates(table)
    states.put(b"3:7", state("x:1"))
    # What a changelog recovery does: the same key, other bytes.
    table[b"3:7"] = orjson.dumps(state("x:9").to_dict())
    assert states.get(b"3:7") == state("x:9")
