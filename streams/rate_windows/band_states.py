"""The band table as ``BandState`` values: one place that decodes and encodes them.

The table keeps the JSON bytes: its changelog, standby replicas and replay read only those.
Each value written is a right-sized copy (``schemas.codec.right_sized``): a full key holds 256
posts, and 2,048 keys are held for the life of the worker.

Why no cache of decoded states: it was tried (commit f7cda77). Keeping every key's last
decoded state saved the JSON decode per entry, but ``bench/bench_state_growth.py --bands-ab``
gave the same gain with it as without it, and it held every key's posts decoded as well;
decoding with orjson is not where a band entry's time goes.
"""

from __future__ import annotations

from collections.abc import MutableMapping

import orjson

from schemas.codec import right_sized
from streams.rate_windows.cross_author import BandState


class BandStates:
    """Read and write one band table's states; ``table`` is the Faust table (or a dict)."""

    __slots__ = ("_table",)

    def __init__(self, table: MutableMapping[bytes, bytes]) -> None:
        self._table = table

    def get(self, key: bytes) -> BandState:
        stored = self._table.get(key)
        return BandState.from_dict(orjson.loads(stored)) if stored else BandState()

    def put(self, key: bytes, state: BandState) -> None:
        self._table[key] = right_sized(orjson.dumps(state.to_dict()))
