"""Crashes, played out on the pure stages: after a kill -9 the inputs whose offsets were not
committed come again, to state that already holds them and what came after them. Whatever they
meet, each must come out as the same bytes as the first time (tests/integration/test_faults.py
does this against a real broker, at the few points three kills happen to land)."""

from __future__ import annotations

import random
import zlib
from collections import defaultdict

import pytest

from streams.normalise.pseudonymise import Pseudonymiser
from streams.policy import load_policy
from streams.stage_configs import StageConfigs, build_stage_configs
from workers.dev.sample_feed import sample_envelopes
from workers.offline.offline_pipeline import OfflinePipeline, ReplayOutcome
from workers.settings import Settings

SETTINGS = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
TOPIC = "ns.comments.raw"
PARTITIONS = 4


@pytest.fixture(scope="module")
def stages() -> StageConfigs:
    return build_stage_configs(load_policy(SETTINGS.policy_path), SETTINGS.registry_path)


class Emitted:
    """Every record each id was emitted with; one id with two contents is the defect."""

    def __init__(self) -> None:
        self.by_id: dict[str, set[bytes]] = defaultdict(set)
        self.decisions_of: dict[str, set[str]] = defaultdict(set)

    def add(self, out: ReplayOutcome) -> None:
        if out.assessed is not None:
            self.by_id[f"assessed {out.source}"].add(out.assessed.to_bytes())
        for decision in out.decisions:
            self.by_id[f"decision {decision.decision_id}"].add(decision.to_bytes())
        if out.dead_letter is None:
            # After the author's deadline firings comes the comment's own decision.
            self.decisions_of[out.source].add(out.decisions[out.timer_decisions].decision_id)
        for action in out.actions:
            self.by_id[f"action {action.action_id}"].add(action.to_bytes())

    def changed(self) -> list[str]:
        return sorted(k for k, contents in self.by_id.items() if len(contents) > 1)


@pytest.mark.parametrize("seed", [20_260_310, 2, 3])
def test_inputs_redelivered_after_crashes_come_out_as_the_same_bytes(
    stages: StageConfigs, seed: int
) -> None:
    rng = random.Random(seed)
    feed = list(sample_envelopes(600, seed=seed))
    # As on the broker: one author's messages on one partition, offsets in arrival order.
    offsets = [0] * PARTITIONS
    sources = []
    for key, _ in feed:
        partition = zlib.crc32(key or b"") % PARTITIONS
        sources.append(f"{TOPIC}[{partition}]@{offsets[partition]}")
        offsets[partition] += 1
    pipeline = OfflinePipeline(
        stages, Pseudonymiser(SETTINGS.pseudonym_key), SETTINGS.max_payload_bytes
    )
    emitted = Emitted()
    crashes = set(rng.sample(range(30, len(feed)), 20))
    redelivered = 0
    for i, (_, raw) in enumerate(feed):
        emitted.add(pipeline.process(raw, sources[i]))
        if i in crashes:
            # Everything since the last commit comes again, in order, to the state as it is.
            for j in range(i - rng.randrange(1, 30), i + 1):
                emitted.add(pipeline.process(feed[j][1], sources[j]))
                redelivered += 1
    assert redelivered > 200
    assert emitted.changed() == []
    assert all(len(ids) == 1 for ids in emitted.decisions_of.values())
    assert len(emitted.decisions_of) == len(feed)
