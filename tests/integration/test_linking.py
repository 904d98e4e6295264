"""Sock-puppet linking through the real broker: a ring of three accounts that post near-copies
of inflammatory comments from one device is linked, and the immediate block of one reaches all
three with the link evidence; ordinary accounts that merely share a name stay unlinked."""

from __future__ import annotations

from bench.bench_pipeline import wait_quiet
from schemas.action import Action
from schemas.identity import ClusterMembership
from streams import topics as specs
from tests.integration.envelopes import T0_MS, facebook
from workers.dev.local_run import LocalPipeline

MIN = 60_000
DEVICE = "sha256:5f2a9c0d7e11b4a6"
RING = [("3001", "Cwm Truth"), ("3002", "Valleys Truth"), ("3003", "Rhondda Truth")]
RANT = "you lying idiots at this hospital should all be sacked, useless {}"


def _round(
    number: int, start_ms: int, accounts: list[tuple[str, str]]
) -> list[tuple[bytes, bytes]]:
    return [
        facebook(
            acc,
            name,
            number * 100 + i,
            RANT.format("x" * (i + 1)),
            start_ms + i * 20_000,
            signals=(DEVICE,),
        )
        for i, (acc, name) in enumerate(accounts)
    ]


async def test_a_ring_is_linked_and_blocked_together(pipeline: LocalPipeline) -> None:
    pipeline.start_worker()
    await pipeline.wait_ready()
    namesakes = [
        facebook("4001", "Sarah Jones", 1, "When is the flu clinic open in Merthyr please?", T0_MS),
        facebook(
            "4002",
            "Sarah Jones",
            2,
            "Thank you to the nurses on ward 7, so kind to dad",
            T0_MS + MIN,
        ),
        facebook(
            "4001", "Sarah Jones", 3, "Is there parking at the new health park?", T0_MS + 30 * MIN
        ),
        facebook("4002", "Sarah Jones", 4, "Do I need a referral for physio?", T0_MS + 31 * MIN),
    ]
    await pipeline.produce(specs.RAW.name, namesakes + _round(1, T0_MS + 2 * MIN, RING))
    await pipeline.produce(specs.RAW.name, _round(2, T0_MS + 10 * MIN, RING))

    def ring_linked(got: dict[str, list[tuple[bytes | None, bytes]]]) -> bool:
        return any(
            len(ClusterMembership.from_bytes(v).members) == 3
            for _, v in got[specs.IDENTITY_CLUSTERS.name]
        )

    got = await pipeline.collect([specs.IDENTITY_CLUSTERS.name], until=ring_linked, timeout_s=90)
    memberships = [ClusterMembership.from_bytes(v) for _, v in got[specs.IDENTITY_CLUSTERS.name]]
    ring_cluster = next(m for m in memberships if len(m.members) == 3)
    assert {e for edge in ring_cluster.edges for e in edge.kinds} >= {
        "near_duplicate",
        "shared_signal",
    }

    # A block reaches the accounts linked when it is decided (docs/replay.md): the membership
    # seen above must have reached enforcement's cluster table first. With one hop on the main
    # line a comment is decided within milliseconds, sooner than that, so let the worker settle.
    await wait_quiet([pipeline.processes["worker"].pid], quiet_s=3.0)
    # The third rant within the hour from one account: frequent inflammatory posting.
    await pipeline.produce(specs.RAW.name, _round(3, T0_MS + 20 * MIN, RING[:1]))

    def blocked(got: dict[str, list[tuple[bytes | None, bytes]]]) -> bool:
        kinds = [Action.from_bytes(v) for _, v in got[specs.ACTIONS.name]]
        return len({a.target_author for a in kinds if a.kind == "block_account"}) >= 3

    got = await pipeline.collect([specs.ACTIONS.name], until=blocked, timeout_s=90)
    actions = [Action.from_bytes(v) for _, v in got[specs.ACTIONS.name]]
    blocks = [a for a in actions if a.kind == "block_account"]
    assert {a.target_author for a in blocks} == set(ring_cluster.members)
    linked_blocks = [a for a in blocks if a.linked_evidence]
    assert len(linked_blocks) == 2
    for action in linked_blocks:
        # The chain of links from the blocked author to the account, as of the block.
        assert f"member {action.target_author[:8]}" in action.linked_evidence[0]
        assert " as of " in action.linked_evidence[0]
        assert "shared_signal" in action.linked_evidence[0]

    # Namesakes: no cluster with more than one of them.
    namesake_keys = {
        a.target_author for a in actions if a.target_author not in ring_cluster.members
    }
    for m in memberships:
        assert not (len(m.members) > 1 and set(m.members) & namesake_keys)
