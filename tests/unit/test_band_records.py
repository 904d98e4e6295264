"""The side branches' fan-out: at most one record per comment per branch (all its band keys in
one record, all its index keys under one comment), both band record shapes read back, and the
in-memory indexes rebuilt from their topics give the state the live steps built."""

from __future__ import annotations

import orjson

from streams import topics as specs
from streams.composition import Composition
from streams.normalise.pseudonymise import Pseudonymiser
from streams.policy import load_policy
from streams.registry import input_for
from streams.stage_configs import build_stage_configs
from streams.state_store import Stores
from workers.dev.sample_feed import sample_envelopes
from workers.offline.offline_pipeline import OfflinePipeline
from workers.settings import Settings

SETTINGS = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
STAGES = build_stage_configs(load_policy(SETTINGS.policy_path))


def composition(stores: Stores | None = None) -> Composition:
    return Composition(
        stores or Stores.in_memory(),
        lambda: STAGES,
        pseudonymiser=Pseudonymiser(SETTINGS.pseudonym_key),
        max_bytes=SETTINGS.max_payload_bytes,
    )


def test_side_branch_topics_have_one_partition() -> None:
    assert specs.BANDS.partitions == specs.IDENTITY_INDEX.partitions == 1
    assert specs.BANDS.retention_ms is not None and specs.IDENTITY_INDEX.retention_ms is not None


def test_a_comment_writes_at_most_one_record_per_side_branch() -> None:
    steps = composition()
    entries = band_records = index_records = 0
    last = None
    for i, (_, raw) in enumerate(sample_envelopes(80)):
        out = steps.on_raw(raw, None, f"comments.raw[0]@{i}")
        bands = [r for r in out.records if r.topic is specs.BANDS]
        index = [r for r in out.records if r.topic is specs.IDENTITY_INDEX]
        assert len(bands) <= 1 and len(index) <= 1
        for record in bands:
            assert record.partition is None
            assert input_for(specs.BANDS).decode(record.encode()) == record.value
            entries += len(record.value)
            last = record
        band_records += len(bands)
        index_records += len(index)
    assert band_records and index_records
    assert band_records < entries  # every band key of a comment rides in one record
    # Records written before the grouping (one entry, an object) still decode.
    assert last is not None
    single = orjson.dumps(last.value[0].to_dict())
    assert input_for(specs.BANDS).decode(single) == (last.value[0],)


def test_rebuilding_from_the_side_topics_gives_the_state_the_steps_built() -> None:
    """What a worker that takes the side partitions rebuilds (``rebuild_side_branch`` over the
    topics' records) is byte for byte the index the live steps held."""
    live = OfflinePipeline(STAGES, Pseudonymiser(SETTINGS.pseudonym_key), 1 << 20)
    logged: dict[specs.TopicSpec, list[tuple[bytes, int]]] = {
        specs.BANDS: [],
        specs.IDENTITY_INDEX: [],
    }
    original_step = live.run_step

    def logging_step(item, record):  # type: ignore[no-untyped-def]
        if record.topic in logged:
            logged[record.topic].append((record.encode(), 0))
        return original_step(item, record)

    live.run_step = logging_step  # type: ignore[method-assign]
    for i, (_, raw) in enumerate(sample_envelopes(300)):
        live.process(raw, f"comments.raw[0]@{i}")
    assert live.stores.band_table and live.stores.index.table

    rebuilt = composition()
    for topic, history in logged.items():
        assert rebuilt.rebuild_side_branch(topic, history) == len(history) > 0
    assert rebuilt.stores.band_table == live.stores.band_table
    assert rebuilt.stores.index.table == live.stores.index.table
    # A second rebuild starts from nothing: the same bytes, not doubled.
    rebuilt.rebuild_side_branch(specs.BANDS, logged[specs.BANDS])
    assert rebuilt.stores.band_table == live.stores.band_table


def test_a_live_rebuild_uses_each_records_timestamp_as_the_wall_clock_it_saw() -> None:
    """Live, a band post is also kept for lateness + window in wall-clock time after it
    arrived: the rebuild folds each record with its timestamp, so it keeps the same posts."""
    clock = {"now": 1_800_000_000_000}

    def live() -> Composition:
        return Composition(
            Stores.in_memory(),
            lambda: STAGES,
            pseudonymiser=Pseudonymiser(SETTINGS.pseudonym_key),
            max_bytes=SETTINGS.max_payload_bytes,
            wall_clock=lambda: clock["now"],
        )

    running = live()
    history: list[tuple[bytes, int]] = []
    for i, (_, raw) in enumerate(sample_envelopes(200)):
        clock["now"] += 7_000  # the worker's clock moves on between records
        for record in running.on_raw(raw, None, f"comments.raw[0]@{i}").records:
            if record.topic is specs.BANDS:
                history.append((record.encode(), clock["now"]))
                running.on_band(record.value, record.key, "rate_windows.bands.v2[0]")
    assert history
    clock["now"] += 3_600_000  # restarted an hour later: the fold must not read this clock
    rebuilt = live()
    rebuilt.rebuild_side_branch(specs.BANDS, history)
    assert rebuilt.stores.band_table == running.stores.band_table
    assert any(p.seen_ms for s in rebuilt.stores.band_table.values() for p in s.posts)
