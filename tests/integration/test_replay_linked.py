"""Replay of a range in which a linked ring was blocked live: every live decision and every
action comes back byte for byte, the linked accounts' blocks and the link evidence they cite
included, and ``audit diff`` finds nothing. Replay runs the linking branch in-process
(workers.offline.offline_pipeline), so the cluster a live block reached is there when replay
decides the same comment; and a linked block cites the chain of links as of the block's event
time, computed from the event times the graph's edges carry, not as far as the graph had got
(docs/replay.md, "Linking in event time")."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.bench_pipeline import wait_quiet
from schemas.action import Action, Decision
from schemas.identity import ClusterMembership
from streams import topics as specs
from tests.integration.envelopes import T0_MS
from tests.integration.test_linking import RING, _round
from workers.dev.local_run import LocalPipeline
from workers.offline import audit
from workers.offline.replay import (
    ACTIONS_FILE,
    DECISIONS_FILE,
    ReplayOptions,
    read_whole_topic,
    replay,
)
from workers.settings import DEFAULT_POLICY

MIN = 60_000
Got = dict[str, list[tuple[bytes | None, bytes]]]


def _ring_linked(got: Got) -> bool:
    return any(
        len(ClusterMembership.from_bytes(v).members) == 3
        for _, v in got[specs.IDENTITY_CLUSTERS.name]
    )


def _ring_blocked(got: Got) -> bool:
    actions = [Action.from_bytes(v) for _, v in got[specs.ACTIONS.name]]
    return len({a.target_author for a in actions if a.kind == "block_account"}) >= 3


async def test_replay_reproduces_a_linked_block_byte_for_byte(
    pipeline: LocalPipeline, tmp_path: Path
) -> None:
    pipeline.start_worker()
    await pipeline.wait_ready()
    await pipeline.produce(specs.RAW.name, _round(1, T0_MS + 2 * MIN, RING))
    await pipeline.produce(specs.RAW.name, _round(2, T0_MS + 10 * MIN, RING))
    await pipeline.collect([specs.IDENTITY_CLUSTERS.name], until=_ring_linked, timeout_s=90)
    # Every link signal folded before the block, live as in replay.
    await wait_quiet([pipeline.processes["worker"].pid], quiet_s=3.0)
    await pipeline.produce(specs.RAW.name, _round(3, T0_MS + 20 * MIN, RING[:1]))
    await pipeline.collect([specs.ACTIONS.name], until=_ring_blocked, timeout_s=90)
    await wait_quiet([pipeline.processes["worker"].pid], quiet_s=3.0)
    bootstrap = pipeline.settings.kafka_bootstrap
    live = {
        v for _, v, _ in await read_whole_topic(bootstrap, pipeline.topic(specs.DECISIONS.name))
    }
    live_actions = {
        v for _, v, _ in await read_whole_topic(bootstrap, pipeline.topic(specs.ACTIONS.name))
    }
    pipeline.stop()

    out = tmp_path / "replay"
    summary = await replay(
        ReplayOptions(
            settings=pipeline.settings, policy_path=DEFAULT_POLICY, out_dir=out, timers_until="none"
        )
    )
    assert summary["inputs"] == 7
    replayed = set((out / DECISIONS_FILE).read_bytes().splitlines())
    replayed_actions = set((out / ACTIONS_FILE).read_bytes().splitlines())
    linked = [a for a in map(Action.from_bytes, replayed_actions) if a.linked_evidence]
    assert len(linked) == 2, "the block reached both linked accounts in replay"
    assert replayed == live
    assert replayed_actions == live_actions
    assert all(" as of 2026-03-03T10:19:59.999Z " in a.linked_evidence[0] for a in linked)

    args = audit.parse_args(
        ["diff", "--recorded", pipeline.namespace, "--replayed", str(out / DECISIONS_FILE)]
    )
    # The command-line tools run their own event loop: call them as a shell would, off ours.
    result, _ = await asyncio.to_thread(audit.run_diff, args, lambda: pipeline.settings)
    assert result.identical == len(live) == len({Decision.from_bytes(v).decision_id for v in live})
    assert not result.differences and not result.only_recorded and not result.only_replayed
