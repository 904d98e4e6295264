"""Values a table keeps are right-sized copies: equal bytes, and resident memory near their
length, not the ~4 KB buffer orjson hands back (docs/benchmarks.md, memory per author)."""

import gc

import orjson

from schemas.codec import right_sized

STATE = {"wm": 1767290000000, "r": [[1767290000000, "facebook:1032847561928374_1187", 1, 0]]}


def resident_bytes() -> int:
    gc.collect()
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


def test_a_right_sized_value_is_the_same_bytes() -> None:
    encoded = orjson.dumps(STATE)
    kept = right_sized(encoded)
    assert kept == encoded and type(kept) is bytes
    assert orjson.loads(kept) == STATE


def test_kept_values_cost_about_their_length_in_resident_memory() -> None:
    count = 20_000
    before = resident_bytes()
    kept = [right_sized(orjson.dumps({**STATE, "i": i})) for i in range(count)]
    per_value = (resident_bytes() - before) / count
    length = len(kept[0])
    # Object header and allocator rounding on top of the bytes themselves; a 4 KB buffer per
    # value would be several times this bound.
    assert per_value < length + 512, f"{per_value:.0f} B resident per {length}-byte value"
