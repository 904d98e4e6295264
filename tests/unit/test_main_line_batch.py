"""The main line in batches (issue 17): ``guarded_batch`` (what the live agent runs on a batch
of ``comments.raw``) gives the records ``on_raw`` gives one input at a time, byte for byte,
leaves the same tables behind, and writes each author's state once per table per batch instead
of once per comment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams import topics as specs
from streams.composition import Composition, Outputs
from streams.normalise.pseudonymise import Pseudonymiser
from streams.policy import load_policy
from streams.registry import input_for
from streams.runtime import guarded_batch
from streams.stage_configs import build_stage_configs
from streams.state_store import ENFORCEMENT_TABLE, WINDOWS_TABLE, Stores, WriteBehind
from workers.dev.sample_feed import sample_envelopes
from workers.settings import Settings

SETTINGS = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
STAGES = build_stage_configs(load_policy(SETTINGS.policy_path))
# 300 sample comments from 108 accounts, some with 14-16 comments: authors repeat in a batch.
INPUTS: list[tuple[bytes, bytes | None, str]] = [
    (raw, key, f"comments.raw[0]@{i}") for i, (key, raw) in enumerate(sample_envelopes(300))
]


class CountingTable(dict[bytes, bytes]):
    """A dict that counts writes and deletions, as a Faust table counts changelog records."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.writes += 1
        super().__setitem__(key, value)

    def pop(self, key: bytes, *default: bytes | None) -> bytes | None:  # type: ignore[override]
        if key in self:
            self.writes += 1
        return super().pop(key, *default)


def composition() -> tuple[Composition, dict[str, CountingTable]]:
    tables: dict[str, CountingTable] = {}

    def table(name: str) -> CountingTable:
        return tables.setdefault(name, CountingTable())

    steps = Composition(
        Stores.create(table),
        lambda: STAGES,
        pseudonymiser=Pseudonymiser(SETTINGS.pseudonym_key),
        max_bytes=SETTINGS.max_payload_bytes,
    )
    return steps, tables


def on_raw_batch(steps: Composition, batch: list[tuple[bytes, bytes | None, str]]) -> list[Outputs]:
    return guarded_batch(steps, input_for(specs.RAW), batch, failed_at_ms=0)


def encoded(outputs: list[Outputs]) -> list[list[tuple[str, bytes, bytes]]]:
    return [[(r.topic.name, r.key, r.encode()) for r in out.records] for out in outputs]


def batches(size: int) -> Iterator[list[tuple[bytes, bytes | None, str]]]:
    for start in range(0, len(INPUTS), size):
        yield INPUTS[start : start + size]


@pytest.fixture(scope="module")
def one_at_a_time() -> tuple[Composition, dict[str, CountingTable], list[Outputs]]:
    steps, tables = composition()
    return steps, tables, [steps.on_raw(raw, key, source) for raw, key, source in INPUTS]


@pytest.mark.parametrize("size", [7, 64])
def test_a_batch_gives_the_records_and_tables_one_at_a_time_gives(
    size: int, one_at_a_time: tuple[Composition, dict[str, CountingTable], list[Outputs]]
) -> None:
    one, one_tables, expected = one_at_a_time
    batched, batch_tables = composition()
    got = [out for batch in batches(size) for out in on_raw_batch(batched, batch)]
    assert encoded(got) == encoded(expected)
    assert sum(len(out.records) for out in got) > len(INPUTS)  # decisions, actions, branches
    for name in (WINDOWS_TABLE, ENFORCEMENT_TABLE):
        assert dict(batch_tables[name]) == dict(one_tables[name])
    assert batched.stores.enforcement.deadlines == one.stores.enforcement.deadlines
    # The tables are the real ones again between batches, not the batch's overlay.
    assert batched.stores.windows.table is batch_tables[WINDOWS_TABLE]
    # One write per author per batch, where one at a time wrote one per comment.
    assert one_tables[WINDOWS_TABLE].writes == len(INPUTS)
    assert batch_tables[WINDOWS_TABLE].writes == sum(
        len({out.comment.author_key for out in outs if out.comment})
        for outs in (got[i : i + size] for i in range(0, len(got), size))
    )
    assert batch_tables[WINDOWS_TABLE].writes < (0.95 if size < 10 else 0.7) * len(INPUTS)


def test_a_batch_left_by_an_exception_keeps_what_it_stored() -> None:
    steps, tables = composition()
    raw, key, source = INPUTS[0]
    with pytest.raises(RuntimeError), steps.stores.batch():
        steps.on_raw(raw, key, source)
        assert not tables[WINDOWS_TABLE]  # not yet: the batch holds it
        raise RuntimeError("a failure after the first input")
    assert len(tables[WINDOWS_TABLE]) == 1
    assert steps.stores.windows.table is tables[WINDOWS_TABLE]


def test_write_behind_reads_its_own_writes_and_flushes_each_key_once() -> None:
    table = CountingTable()
    table[b"kept"] = b"1"
    table[b"gone"] = b"2"
    table.writes = 0
    view = WriteBehind(table)
    view[b"new"] = b"a"
    view[b"new"] = b"b"
    del view[b"gone"]
    assert view.get(b"new") == b"b" and view[b"kept"] == b"1"
    assert view.get(b"gone") is None and b"gone" not in view and b"new" in view
    assert sorted(view) == [b"kept", b"new"] and len(view) == 2
    assert view.pop(b"missing", None) is None
    with pytest.raises(KeyError):
        del view[b"gone"]
    assert table.writes == 0 and b"gone" in table
    assert view.flush() == 2
    assert dict(table) == {b"kept": b"1", b"new": b"b"}
    assert table.writes == 2  # one write for "new", one deletion of "gone"
