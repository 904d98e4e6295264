"""Live-like arrival orders against replay's, in-process, for linking (issue 17).

    python bench/linking_order.py [--comments 2000] [--orders 3] [--side-rate 0.3]

No broker. The sample feed is split over 4 raw partitions by key; "replay" reads them in feed
order (record timestamps 10 ms apart) and hands every side-branch record (bands, linking
index, signals, memberships) to its step at once, as ``workers.offline.offline_pipeline``
does. Each "live" order reads the partitions interleaved at random and lets the side-branch
records queue, taking one from the queue with probability ``--side-rate`` per step (so the
linking branch lags the main line by a random, often large, amount), with a wall clock of
10 ms per raw comment. Prints, per order, the decisions and actions on one side only or
differing, and whether the final clusters agree.
"""

from __future__ import annotations

import argparse
import random
import sys
import zlib
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams import topics as specs
from streams.composition import Composition, Outputs, Record
from streams.normalise.pseudonymise import Pseudonymiser
from streams.policy import load_policy
from streams.registry import INPUTS, input_for
from streams.stage_configs import StageConfigs, build_stage_configs
from streams.state_store import Stores
from workers.dev.sample_feed import sample_envelopes
from workers.settings import Settings

PARTITIONS = 4
ROUTED = frozenset(i.topic.name for i in INPUTS if i.topic is not specs.RAW)
Raw = tuple[bytes, bytes, str]  # key, value, source


class Run:
    def __init__(self, stages: StageConfigs, settings: Settings, *, live: bool) -> None:
        self.clock_ms = 0
        self.composition = Composition(
            Stores.in_memory(),
            lambda: stages,
            pseudonymiser=Pseudonymiser(settings.pseudonym_key),
            max_bytes=settings.max_payload_bytes,
            wall_clock=(lambda: self.clock_ms) if live else None,
        )
        self.side: deque[Record] = deque()
        self.decisions: dict[str, bytes] = {}
        self.actions: set[bytes] = set()

    def keep(self, out: Outputs) -> None:
        for record in out.records:
            if record.topic is specs.DECISIONS:
                self.decisions[record.value.decision_id] = record.value.to_bytes()
            elif record.topic is specs.ACTIONS:
                self.actions.add(record.value.to_bytes())
            elif record.topic.name in ROUTED:
                self.side.append(record)

    def raw(self, item: Raw) -> None:
        self.clock_ms += 10
        key, value, source = item
        self.keep(self.composition.on_raw(value, key, source))

    def side_step(self) -> None:
        record = self.side.popleft()
        self.keep(input_for(record.topic).step(self.composition, record.value, record.key, ""))

    def clusters(self) -> tuple[tuple[str, ...], ...]:
        graph = self.composition.graph
        return graph.clusters() if graph is not None else ()


def replay_order(partitions: list[list[Raw]], feed_index: dict[str, int]) -> list[Raw]:
    return sorted((item for p in partitions for item in p), key=lambda i: feed_index[i[2]])


def run_replay(stages: StageConfigs, settings: Settings, items: list[Raw]) -> Run:
    run = Run(stages, settings, live=False)
    for n, item in enumerate(items):
        # The raw record's timestamp, as replay reads it: produced 10 ms apart.
        run.composition.record_ms = n * 10
        run.raw(item)
        while run.side:
            run.side_step()
    return run


def run_live(
    stages: StageConfigs, settings: Settings, partitions: list[list[Raw]], seed: int, rate: float
) -> Run:
    rng = random.Random(seed)
    run = Run(stages, settings, live=True)
    cursors = [0] * len(partitions)
    while True:
        open_partitions = [p for p, items in enumerate(partitions) if cursors[p] < len(items)]
        if not open_partitions and not run.side:
            return run
        if run.side and (not open_partitions or rng.random() < rate):
            run.side_step()
            continue
        p = rng.choice(open_partitions)
        run.raw(partitions[p][cursors[p]])
        cursors[p] += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=3)
    parser.add_argument("--side-rate", type=float, default=0.3)
    args = parser.parse_args(argv)
    settings = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
    stages = build_stage_configs(load_policy(settings.policy_path), settings.registry_path)
    partitions: list[list[Raw]] = [[] for _ in range(PARTITIONS)]
    feed_index: dict[str, int] = {}
    for n, (key, value) in enumerate(sample_envelopes(args.comments, include_bad=True)):
        p = zlib.crc32(key or b"") % PARTITIONS
        source = f"{specs.RAW.name}[{p}]@{len(partitions[p])}"
        partitions[p].append((key, value, source))
        feed_index[source] = n
    base = run_replay(stages, settings, replay_order(partitions, feed_index))
    linked = sum(1 for a in base.actions if b'"linked_evidence":["' in a)
    print(
        f"replay: {len(base.decisions)} decisions, {len(base.actions)} actions "
        f"({linked} linked blocks), {len(base.clusters())} clusters"
    )
    for seed in range(args.orders):
        live = run_live(stages, settings, partitions, seed, args.side_rate)
        only_replay = base.decisions.keys() - live.decisions.keys()
        only_live = live.decisions.keys() - base.decisions.keys()
        both = base.decisions.keys() & live.decisions.keys()
        differ = sum(1 for d in both if base.decisions[d] != live.decisions[d])
        print(
            f"order {seed}: decisions only in replay {len(only_replay)}, only live "
            f"{len(only_live)}, differing {differ}; actions on one side only "
            f"{len(base.actions ^ live.actions)}; clusters the same: "
            f"{live.clusters() == base.clusters()}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
