"""The side branches on one partition: what one core folds per second, in-process.

    python bench/bench_side_branches.py [--count 20000]

Since issue 17 the campaign band index and the linking index read one record per comment, both
from one topic of one partition (``comments.side``), and a worker that takes the partition
rebuilds the two in-memory indexes by folding the topic's retained records
(``Composition.rebuild_side_branches``). This bench writes ``--count`` loadgen comments' side
records the way the live worker does (``Composition.on_raw``), then times the folds alone on
this process's one core:

- the **rebuild rate**: records folded per second by ``rebuild_side_branches`` (what a restart
  costs per retained record), with every record inside the band horizon;
- the **step ceiling** of the one partition: the same records through the live step
  (``on_side``: the band entries, then the index keys; outputs built and dropped), i.e. what one
  consumer could take if Kafka and Faust cost nothing. Faust's own cost per record is the
  ``hops`` phase of ``bench_pipeline.py`` (one agent, decode/encode/send).

Ratios against the main line's ``on_raw`` rate of the same run say how far one partition
carries the cluster: the branch is the bottleneck only when workers × main-line rate exceeds
the branch's rate.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loadgen import LoadGenerator, Mix
from streams import topics as specs
from streams.composition import Composition
from streams.normalise.pseudonymise import Pseudonymiser
from streams.policy import parse_policy
from streams.registry import input_for
from streams.stage_configs import build_stage_configs
from streams.state_store import Stores
from workers.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    settings = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
    stages = build_stage_configs(
        parse_policy(Path(settings.policy_path).read_bytes()), settings.registry_path
    )

    def composition() -> Composition:
        return Composition(
            Stores.in_memory(),
            lambda: stages,
            pseudonymiser=Pseudonymiser(settings.pseudonym_key),
            max_bytes=settings.max_payload_bytes,
        )

    messages = LoadGenerator(Mix(), seed=args.seed).take(args.count)
    main_line = composition()
    history: list[tuple[bytes, int]] = []
    started = time.process_time()
    for i, (_, value) in enumerate(messages):
        for record in main_line.on_raw(value, None, f"comments.raw[0]@{i}").records:
            if record.topic is specs.SIDE:
                history.append((record.encode(), 0))
    main_s = time.process_time() - started
    main_rate = len(messages) / main_s
    print(f"main line (on_raw, every stage): {main_rate:,.0f} comments/s on one core")
    print(
        "\n| branch | records per comment | rebuild records/s | step records/s | step / main line |"
    )
    print("|---|---:|---:|---:|---:|")
    started = time.process_time()
    composition().rebuild_side_branches(history)
    rebuild_rate = len(history) / (time.process_time() - started)
    steps = composition()
    item = input_for(specs.SIDE)
    started = time.process_time()
    for value, _ in history:
        item.step(steps, item.decode(value), None, specs.SIDE.name)
    step_rate = len(history) / (time.process_time() - started)
    per_comment = len(history) / len(messages)
    print(
        f"| {specs.SIDE.name} | {per_comment:.2f} | {rebuild_rate:,.0f} | {step_rate:,.0f} | "
        f"{step_rate / per_comment / main_rate:.1f}× |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
