"""The band fan-out: one record per comment per partition of the band index, each band key
still on the partition its own hash gives, and both record shapes read back."""

from __future__ import annotations

import orjson
from aiokafka.partitioner import DefaultPartitioner

from streams import topics as specs
from streams.composition import Composition
from streams.normalise.pseudonymise import Pseudonymiser
from streams.policy import load_policy
from streams.registry import input_for
from streams.stage_configs import build_stage_configs
from streams.state_store import Stores
from workers.pipeline import partition_of
from workers.sample_feed import sample_envelopes
from workers.settings import Settings

SETTINGS = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
PARTITIONS = 4


def test_the_partition_of_a_key_is_the_default_partitioners() -> None:
    for key in (b"3:17", b"0:123456", b"a", b"band-key-\xff"):
        expected = DefaultPartitioner()(key, list(range(PARTITIONS)), [])
        assert partition_of(key, PARTITIONS) == expected


def test_a_comment_writes_one_band_record_per_partition_with_each_entry_on_its_keys() -> None:
    stages = build_stage_configs(load_policy(SETTINGS.policy_path))
    composition = Composition(
        Stores.in_memory(),
        lambda: stages,
        pseudonymiser=Pseudonymiser(SETTINGS.pseudonym_key),
        max_bytes=SETTINGS.max_payload_bytes,
        band_partition=lambda key: partition_of(key, PARTITIONS),
    )
    entries = records = 0
    last = None
    for i, (_, raw) in enumerate(sample_envelopes(60)):
        out = composition.on_raw(raw, None, f"comments.raw[0]@{i}")
        bands = [r for r in out.records if r.topic is specs.BANDS]
        assert len({r.partition for r in bands}) == len(bands) <= PARTITIONS
        for record in bands:
            assert all(
                partition_of(e.key.encode(), PARTITIONS) == record.partition for e in record.value
            )
            decoded = input_for(specs.BANDS).decode(record.encode())
            assert decoded == record.value
        last = bands[-1] if bands else last
        entries += sum(len(r.value) for r in bands)
        records += len(bands)
    assert records < entries  # fewer records than entries: that is the point
    # Records written before the grouping (one entry, an object) still decode.
    assert last is not None
    single = orjson.dumps(last.value[0].to_dict())
    assert input_for(specs.BANDS).decode(single) == (last.value[0],)
