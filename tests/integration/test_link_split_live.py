"""A moderator splits two linked accounts from the console: the review on ``reviews`` reaches
enforcement, which writes the pair's override on ``identity.overrides``; the live worker's
linking step applies it, and the clusters it publishes no longer hold the pair together."""

from __future__ import annotations

from bench.bench_pipeline import wait_quiet
from schemas.identity import ClusterMembership, LinkOverride
from streams import topics as specs
from tests.integration.envelopes import T0_MS
from tests.integration.test_linking import RING, _round
from tests.unit.workers.test_link_split_review import splitting
from workers.console.kafka_io import KafkaReviewSink
from workers.dev.local_run import LocalPipeline

MIN = 60_000
Got = dict[str, list[tuple[bytes | None, bytes]]]


def _latest(got: Got) -> dict[str, tuple[str, ...]]:
    """Each author's members as the last membership published for it says."""
    latest: dict[str, tuple[str, ...]] = {}
    for _, v in got.get(specs.IDENTITY_CLUSTERS.name, []):
        membership = ClusterMembership.from_bytes(v)
        latest[membership.author_key] = membership.members
    return latest


async def test_a_split_from_the_console_unlinks_the_pair_in_the_live_graph(
    pipeline: LocalPipeline,
) -> None:
    pipeline.start_worker()
    await pipeline.wait_ready()
    await pipeline.produce(specs.RAW.name, _round(1, T0_MS + 2 * MIN, RING))
    await pipeline.produce(specs.RAW.name, _round(2, T0_MS + 10 * MIN, RING))
    got = await pipeline.collect(
        [specs.IDENTITY_CLUSTERS.name],
        until=lambda g: any(len(m) == 3 for m in _latest(g).values()),
        timeout_s=90,
    )
    ring = next(m for m in _latest(got).values() if len(m) == 3)
    a, b = ring[0], ring[1]

    sink = KafkaReviewSink(pipeline.settings)  # the console's own writer
    await sink.start()
    try:
        await sink.send(splitting(a, b))
    finally:
        await sink.stop()

    got = await pipeline.collect(
        [specs.IDENTITY_OVERRIDES.name, specs.IDENTITY_CLUSTERS.name],
        until=lambda g: b not in _latest(g).get(a, (b,)) and a not in _latest(g).get(b, (a,)),
        timeout_s=90,
    )
    await wait_quiet([pipeline.processes["worker"].pid], quiet_s=2.0)
    [(key, value)] = got[specs.IDENTITY_OVERRIDES.name]
    override = LinkOverride.from_bytes(value)
    assert (override.author_a, override.author_b) == tuple(sorted((a, b)))
    assert override.action == "split" and key == f"{override.author_a}|{override.author_b}".encode()
    latest = _latest(got)
    assert b not in latest[a] and a not in latest[b]
