"""The band table as ``BandState`` values, without decoding a key's state on every entry.

A band key holds up to ``max_posts_per_band`` posts (most of them sharing the key's bits by
chance), and every entry on the key reads and rewrites them all. Decoding that JSON again on
each entry was the largest part of the stage's cost once keys filled up: the cost per comment
rose with the state (docs/benchmarks.md, "Cost per comment as state accumulates"). So the last
state written per key is kept decoded, and reused while the table still holds the very bytes
object it was encoded to; anything else the table holds (a recovered changelog, another
writer) is decoded afresh. Bytes are immutable, so identity is proof nothing changed.

The table keeps the bytes, as before: its changelog, standby replicas and replay read only
those, and the cache is a copy that can always be dropped.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import MutableMapping

import orjson

from schemas.codec import right_sized
from streams.rate_windows.cross_author import BandState

# Keys are bands × 2^(64/bands): 2,048 with the default 8 slices. A bound still matters for
# configurations with wide slices, where keys are effectively unbounded.
DEFAULT_CAPACITY = 4096


class BandStates:
    """Read and write one band table's states; ``table`` is the Faust table (or a dict)."""

    __slots__ = ("_capacity", "_decoded", "_table")

    def __init__(
        self, table: MutableMapping[bytes, bytes], capacity: int = DEFAULT_CAPACITY
    ) -> None:
        self._table = table
        self._decoded: OrderedDict[bytes, tuple[bytes, BandState]] = OrderedDict()
        self._capacity = capacity

    def get(self, key: bytes) -> BandState:
        stored = self._table.get(key)
        if not stored:
            return BandState()
        cached = self._decoded.get(key)
        if cached is not None and cached[0] is stored:
            self._decoded.move_to_end(key)
            return cached[1]
        state = BandState.from_dict(orjson.loads(stored))
        self._remember(key, stored, state)
        return state

    def put(self, key: bytes, state: BandState) -> None:
        encoded = right_sized(orjson.dumps(state.to_dict()))
        self._table[key] = encoded
        self._remember(key, encoded, state)

    def _remember(self, key: bytes, stored: bytes, state: BandState) -> None:
        self._decoded[key] = (stored, state)
        self._decoded.move_to_end(key)
        if len(self._decoded) > self._capacity:
            self._decoded.popitem(last=False)
