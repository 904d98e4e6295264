"""The state every stage keeps, behind one small interface: load, store, deadlines due.

A stage's state lives as the bytes a Faust table holds (its changelog, standby replicas and
replay read only those). Live, the mappings are Faust tables; offline (replay, audit, explain,
benchmarks) they are dicts. Both are ``MutableMapping[bytes, bytes]``, so one class reads and
writes either, and the steps never know which they run on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson

from schemas.codec import right_sized
from streams.enforce.state import AuthorState
from streams.linking.signals import KeyState
from streams.rate_windows.band_states import BandStates
from streams.rate_windows.cross_author import BandState
from streams.rate_windows.logic import AuthorWindows

S = TypeVar("S")
Mapping = MutableMapping[bytes, bytes]
# Makes one named table: a Faust table live, a dict offline.
TableFactory = Callable[[str], Mapping]


class WriteBehind(MutableMapping[bytes, bytes]):
    """A table seen through one batch's writes: reads see the batch's own writes at once, and
    each written key reaches the table once, at ``flush``. Live, every write to a Faust table is
    a changelog record; an author with several comments in one batch costs one record per
    table, not one per comment. ``None`` in ``pending`` is a deletion."""

    __slots__ = ("pending", "table")

    def __init__(self, table: Mapping) -> None:
        self.table = table
        self.pending: dict[bytes, bytes | None] = {}

    def __getitem__(self, key: bytes) -> bytes:
        if key in self.pending:
            value = self.pending[key]
            if value is None:
                raise KeyError(key)
            return value
        return self.table[key]

    def get(self, key: bytes, default: bytes | None = None) -> bytes | None:  # type: ignore[override]
        if key in self.pending:
            value = self.pending[key]
            return default if value is None else value
        return self.table.get(key, default)

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.pending[key] = value

    def __delitem__(self, key: bytes) -> None:
        if key not in self:
            raise KeyError(key)
        self.pending[key] = None

    def __contains__(self, key: object) -> bool:
        if key in self.pending:
            return self.pending[key] is not None
        return key in self.table

    def __iter__(self) -> Iterator[bytes]:
        for key in self.table:
            if key not in self.pending:
                yield key
        yield from (k for k, v in self.pending.items() if v is not None)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def flush(self) -> int:
        """Write every pending key to the table, in the order first written; how many."""
        for key, value in self.pending.items():
            if value is None:
                self.table.pop(key, None)
            else:
                self.table[key] = value
        written = len(self.pending)
        self.pending.clear()
        return written


class StateStore(Generic[S]):
    """One table's states, decoded on load and right-sized on store; an idle state is deleted."""

    __slots__ = ("_decode", "_encode", "_idle", "table")

    def __init__(
        self,
        table: Mapping,
        decode: Callable[[bytes], S],
        encode: Callable[[S], bytes],
        idle: Callable[[S], bool] = lambda _: False,
    ) -> None:
        self.table = table
        self._decode = decode
        self._encode = encode
        self._idle = idle

    def load(self, key: bytes) -> S | None:
        stored = self.table.get(key)
        return self._decode(stored) if stored else None

    def store(self, key: bytes, state: S) -> None:
        if self._idle(state):
            self.table.pop(key, None)
        else:
            self.table[key] = right_sized(self._encode(state))


class EnforcementStore(StateStore[AuthorState]):
    """Authors' enforcement states, with an index of each author's next deadline (event time).

    The index is derived from the table, never stored: after a rebalance or a restart
    ``rescan`` rebuilds it from whatever partitions the table now holds.
    """

    __slots__ = ("deadlines",)

    def __init__(self, table: Mapping) -> None:
        super().__init__(
            table,
            lambda b: AuthorState.from_dict(orjson.loads(b)),
            AuthorState.to_bytes,
            lambda s: s.is_idle,
        )
        self.deadlines: dict[str, int] = {}

    def store(self, key: bytes, state: AuthorState) -> None:
        super().store(key, state)
        due = state.next_deadline_ms()
        if due is None:
            self.deadlines.pop(state.author_key, None)
        else:
            self.deadlines[state.author_key] = due

    def due(self, now_ms: int) -> list[str]:
        """Authors with a deadline at or before ``now_ms``, in (deadline, author) order so
        whoever fires them does it the same way every run."""
        return [a for _, a in sorted((d, a) for a, d in self.deadlines.items() if d <= now_ms)]

    def rescan(self, items: Iterable[tuple[bytes, bytes]] | None = None) -> None:
        self.deadlines.clear()
        for key, stored in items if items is not None else list(self.table.items()):
            due = self._decode(stored).next_deadline_ms()
            if due is not None:
                self.deadlines[key.decode()] = due


@dataclass(frozen=True)
class Stores:
    """Every table the composed stages read and write. Table names are frozen once deployed:
    each changelog topic is named after its table.

    The side branches' indexes (``bands``, ``index``) are plain dicts live too: their input
    topic has one partition and is their log (``streams.topics.SIDE``), so a worker
    rebuilds them by re-reading that topic instead of writing a changelog record per key."""

    windows: StateStore[AuthorWindows]
    bands: BandStates
    band_table: dict[bytes, BandState]  # the band index, in memory (no changelog)
    enforcement: EnforcementStore
    index: StateStore[KeyState]
    clusters: Mapping  # author key -> ClusterMembership bytes, every partition's (global)

    @classmethod
    def create(cls, table: TableFactory, global_table: TableFactory | None = None) -> Stores:
        band_table: dict[bytes, BandState] = {}
        return cls(
            windows=StateStore(
                table(WINDOWS_TABLE),
                lambda b: AuthorWindows.from_dict(orjson.loads(b)),
                lambda s: orjson.dumps(s.to_dict()),
            ),
            bands=BandStates(band_table),
            band_table=band_table,
            enforcement=EnforcementStore(table(ENFORCEMENT_TABLE)),
            index=StateStore(
                {},
                lambda b: KeyState.from_dict(orjson.loads(b)),
                lambda s: orjson.dumps(s.to_dict()),
            ),
            clusters=(global_table or table)(CLUSTERS_TABLE),
        )

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Coalesce the author-keyed tables' writes (rate windows, enforcement) over a batch of
        inputs: each key is written once when the block ends, with its last state. Live, the
        block must end while Faust's current event is one of the batch's partition (the
        changelog record goes to that partition), so a batch holds one partition's inputs.
        A block left by an exception writes what it stored too, as one input at a time would
        have: a state ahead of the committed offset is what redelivery already handles."""
        stores: tuple[StateStore[Any], ...] = (self.windows, self.enforcement)
        overlays = [WriteBehind(store.table) for store in stores]
        for store, overlay in zip(stores, overlays, strict=True):
            store.table = overlay
        try:
            yield
        finally:
            for store, overlay in zip(stores, overlays, strict=True):
                store.table = overlay.table
                overlay.flush()

    @classmethod
    def in_memory(cls) -> Stores:
        return cls.create(lambda _name: {})


WINDOWS_TABLE = "rate-windows"
ENFORCEMENT_TABLE = "enforcement"
# No longer Faust tables (no changelog): names for memory reports only.
BANDS_TABLE = "rate-window-bands"
INDEX_TABLE = "linking-index"
CLUSTERS_TABLE = "identity-clusters"
