"""The band index: each band key's ``BandState``, held decoded in memory.

Since issue 17 the index has no changelog: its input topic (``comments.side``, one
partition) is its log, and a worker rebuilds it from that topic
(``Composition.rebuild_side_branches``). Nothing reads the index as bytes any more, so it keeps
the states as they are: a band entry no longer decodes and re-encodes its key's whole recent
post list (up to 256 posts) as JSON on every read and write, which was most of the band step's
time (docs/benchmarks.md, *Side branches on one partition*). ``encoded`` gives the JSON bytes
for byte counts and comparisons.

An emptied key is dropped, so the index holds only keys with posts in their window.
"""

from __future__ import annotations

from collections.abc import MutableMapping

import orjson

from streams.rate_windows.cross_author import BandState

_EMPTY = BandState()


class BandStates:
    """Read and write the band index; ``table`` maps band key bytes to its state."""

    __slots__ = ("_table",)

    def __init__(self, table: MutableMapping[bytes, BandState]) -> None:
        self._table = table

    def get(self, key: bytes) -> BandState:
        return self._table.get(key, _EMPTY)

    def put(self, key: bytes, state: BandState) -> None:
        if state.is_empty():
            self._table.pop(key, None)
        else:
            self._table[key] = state

    def encoded(self) -> dict[bytes, bytes]:
        """Every key's state as the JSON bytes the band table used to hold."""
        return {k: orjson.dumps(s.to_dict()) for k, s in self._table.items()}
