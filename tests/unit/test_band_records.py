"""The side branches' fan-out: at most one record per comment for both branches (all its band
keys and, with index keys, the comment, in one record), and the in-memory indexes rebuilt from
their topic give the state the live steps built."""

from __future__ import annotations

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


def test_the_side_branches_share_one_topic_of_one_partition() -> None:
    assert specs.SIDE.partitions == 1
    # The linking index folds 90 days of it; the band index only the last day.
    assert specs.SIDE.retention_ms is not None and specs.SIDE.retention_ms > 90 * 86_400_000
    assert specs.SIDE.retention_ms > specs.BAND_REBUILD_HORIZON_MS


def test_a_comment_writes_at_most_one_side_record() -> None:
    steps = composition()
    entries = side_records = with_bands = with_comment = 0
    for i, (_, raw) in enumerate(sample_envelopes(80)):
        out = steps.on_raw(raw, None, f"comments.raw[0]@{i}")
        side = [r for r in out.records if r.topic is specs.SIDE]
        assert len(side) <= 1
        for record in side:
            assert record.partition is None
            assert input_for(specs.SIDE).decode(record.encode()) == record.value
            assert record.value.bands or record.value.comment is not None
            entries += len(record.value.bands)
            with_bands += bool(record.value.bands)
            with_comment += record.value.comment is not None
        side_records += len(side)
    assert with_bands and with_comment
    assert side_records < entries  # every band key of a comment rides in one record
    assert side_records < with_bands + with_comment  # and both branches in one record


def test_rebuilding_from_the_side_topic_gives_the_state_the_steps_built() -> None:
    """What a worker that takes the side partition rebuilds (``rebuild_side_branches`` over the
    topic's records) is byte for byte the two indexes the live steps held."""
    live = OfflinePipeline(STAGES, Pseudonymiser(SETTINGS.pseudonym_key), 1 << 20)
    logged: list[tuple[bytes, int]] = []
    original_step = live.run_step

    def logging_step(item, record):  # type: ignore[no-untyped-def]
        if record.topic is specs.SIDE:
            logged.append((record.encode(), 0))
        return original_step(item, record)

    live.run_step = logging_step  # type: ignore[method-assign]
    for i, (_, raw) in enumerate(sample_envelopes(300)):
        live.process(raw, f"comments.raw[0]@{i}")
    assert live.stores.band_table and live.stores.index.table

    rebuilt = composition()
    assert rebuilt.rebuild_side_branches(logged) == len(logged) > 0
    assert rebuilt.stores.band_table == live.stores.band_table
    assert rebuilt.stores.index.table == live.stores.index.table
    # A second rebuild starts from nothing: the same bytes, not doubled.
    rebuilt.rebuild_side_branches(logged)
    assert rebuilt.stores.band_table == live.stores.band_table
    assert rebuilt.stores.index.table == live.stores.index.table


def test_a_rebuild_folds_band_entries_of_the_last_horizon_only() -> None:
    """The topic keeps 90 days for the linking index; the band index needs minutes, so band
    entries older than ``BAND_REBUILD_HORIZON_MS`` before the newest record are not folded
    (as the band topic's one-day retention dropped them), and the linking index still is."""
    steps = composition()
    records = [
        r.encode()
        for i, (_, raw) in enumerate(sample_envelopes(120))
        for r in steps.on_raw(raw, None, f"comments.raw[0]@{i}").records
        if r.topic is specs.SIDE
    ]
    old, recent = records[:60], records[60:]
    newest = 100 * specs.BAND_REBUILD_HORIZON_MS
    stale_ms = newest - specs.BAND_REBUILD_HORIZON_MS - 1
    history = [(v, stale_ms) for v in old] + [(v, newest) for v in recent]
    rebuilt = composition()
    assert rebuilt.rebuild_side_branches(history) == len(history)
    only_recent = composition()
    only_recent.rebuild_side_branches([(v, newest) for v in recent])
    everything = composition()
    everything.rebuild_side_branches([(v, newest) for v in records])
    assert rebuilt.stores.band_table == only_recent.stores.band_table
    assert rebuilt.stores.band_table != everything.stores.band_table
    assert rebuilt.stores.index.table == everything.stores.index.table


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
            if record.topic is specs.SIDE:
                history.append((record.encode(), clock["now"]))
                running.on_side(record.value, record.key, "comments.side[0]")
    assert history
    clock["now"] += 3_600_000  # restarted an hour later: the fold must not read this clock
    rebuilt = live()
    rebuilt.rebuild_side_branches(history)
    assert rebuilt.stores.band_table == running.stores.band_table
    assert any(p.seen_ms for s in rebuilt.stores.band_table.values() for p in s.posts)
