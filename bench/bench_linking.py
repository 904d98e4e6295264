"""Linking throughput and identity-graph memory.

    python bench/bench_linking.py                       # small: a few seconds on one core
    python bench/bench_linking.py --accounts 20000 --rings 500 --memory-accounts 1000000

Three figures:

1. Replay throughput: comments/s through everything linking runs per comment (index-key
   extractors, the cross-author fingerprint index for near-copies, style profiles, the graph),
   on the synthetic population; plus the size of the writing-style profiles it kept.
2. Graph throughput: the signals that replay produced, fed again into a fresh graph
   (signals/s), against a baseline in the same run: inserting the same pairs into a plain
   dict-of-sets adjacency, the least any graph has to do.
3. Memory: serialised snapshot bytes and Python heap bytes (tracemalloc) per account of a
   graph built with the population's edge density, measured at ``--memory-accounts`` and
   extrapolated linearly to 1M accounts unless 1M was measured. The extrapolation assumes the
   population's edges per account hold at 1M; ``max_edges_per_account`` bounds the worst case.

Times are CPU time (``time.process_time``), so a busy shared machine slows the wall clock, not
the figures; the graph and baseline timings are the best of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
import tracemalloc
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas.identity import LinkSignal, ordered_pair
from streams.linking.config import LinkingConfig
from streams.linking.graph import IdentityGraph
from streams.linking.population import Population, PopulationSpec, generate
from streams.linking.signals import StyleProfile
from workers.evaluate_linking import LinkingRun

MILLION = 1_000_000


class RecordingRun(LinkingRun):
    """The replay, keeping every signal so the graph can be timed on its own."""

    __slots__ = ("recorded",)

    def __init__(self, config: LinkingConfig) -> None:
        super().__init__(config)
        self.recorded: list[LinkSignal] = []

    def add(self, signal: LinkSignal) -> None:
        self.recorded.append(signal)
        super().add(signal)


def replay_throughput(spec: PopulationSpec) -> tuple[RecordingRun, Population, float]:
    population = generate(spec)
    replay = RecordingRun(LinkingConfig())
    started = time.process_time()
    for comment in population.comments:
        replay.observe(comment)
    return replay, population, time.process_time() - started


def graph_throughput(signals: list[LinkSignal], repeats: int) -> tuple[float, float]:
    """Best-of-``repeats`` signals/s for the graph and for the dict-of-sets baseline."""
    best_graph = best_base = float("inf")
    for _ in range(repeats):
        graph = IdentityGraph(LinkingConfig())
        started = time.process_time()
        for s in signals:
            graph.add(s)
        best_graph = min(best_graph, time.process_time() - started)
        adjacency: dict[str, set[str]] = {}
        started = time.process_time()
        for s in signals:
            adjacency.setdefault(s.author_a, set()).add(s.author_b)
            adjacency.setdefault(s.author_b, set()).add(s.author_a)
        best_base = min(best_base, time.process_time() - started)
    return len(signals) / best_graph, len(signals) / best_base


def synthetic_signals(template: list[LinkSignal], accounts: int, seed: int) -> list[LinkSignal]:
    """Signals over ``accounts`` accounts with the template's signals per account and mix of
    kinds: the template's pairs relabelled onto a larger key space, block by block."""
    rng = random.Random(seed)
    keys = sorted({a for s in template for a in (s.author_a, s.author_b)})
    per_block = len(keys)
    out: list[LinkSignal] = []
    blocks = max(1, accounts // per_block)
    for block in range(blocks):
        names = {k: f"{block:07d}{rng.getrandbits(96):024x}" for k in keys}
        for s in template:
            a, b = ordered_pair(names[s.author_a], names[s.author_b])
            out.append(
                LinkSignal(
                    kind=s.kind,
                    author_a=a,
                    author_b=b,
                    weight=s.weight,
                    evidence=s.evidence,
                    event_time_ms=s.event_time_ms,
                    source_ids=tuple(f"{block}:{x}" for x in s.source_ids),
                )
            )
    return out


def memory(signals: list[LinkSignal]) -> tuple[int, int, int, int]:
    """(accounts, edges, snapshot bytes, Python heap bytes) for a graph built from signals."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    graph = IdentityGraph(LinkingConfig())
    for s in signals:
        graph.add(s)
    gc.collect()
    heap = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    snapshot = len(graph.to_bytes())
    return graph.account_count, graph.edge_count, snapshot, heap


def _heap_of(profiles: list[StyleProfile]) -> int:
    """Heap bytes of fresh copies of the profiles (their strings and counts included)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    copies = [StyleProfile.from_dict(orjson.loads(orjson.dumps(p.to_dict()))) for p in profiles]
    gc.collect()
    heap = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    del copies
    return heap


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--accounts", type=int, default=1500, help="ordinary accounts")
    parser.add_argument("--rings", type=int, default=40)
    parser.add_argument("--memory-accounts", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    spec = PopulationSpec(seed=args.seed, accounts=args.accounts, rings=args.rings)
    replay, population, seconds = replay_throughput(spec)
    comments = len(population.comments)
    graph = replay.graph
    signals = replay.recorded
    print(
        f"replay: {comments} comments, {len(signals)} signals in {seconds:.2f} s CPU: "
        f"{comments / seconds:,.0f} comments/s"
    )
    graph_rate, base_rate = graph_throughput(signals, args.repeats)
    print(
        f"graph.add: {graph_rate:,.0f} signals/s; dict-of-sets baseline {base_rate:,.0f}/s; "
        f"ratio {base_rate / graph_rate:.1f}x slower than the baseline"
    )

    profiles = list(replay.profiles.values())
    profile_bytes = sum(len(orjson.dumps(p.to_dict())) for p in profiles) / len(profiles)
    profile_heap = _heap_of(profiles) / len(profiles)
    print(
        f"style profiles: {len(profiles)} accounts, "
        f"{sum(len(p.grams) for p in profiles) / len(profiles):.0f} grams each on average, "
        f"{profile_bytes:,.0f} B serialised, {profile_heap:,.0f} B Python heap per account; "
        f"{replay.style_checks} comparisons"
    )

    population_accounts = args.accounts + len(population.puppets)
    print(
        f"population graph: {graph.account_count} accounts with edges of "
        f"{population_accounts} ({graph.edge_count} edges, "
        f"{graph.edge_count / population_accounts:.2f} edges per account)"
    )
    scaled = synthetic_signals(signals, args.memory_accounts, args.seed)
    accounts_with_edges, edges, snapshot, heap = memory(scaled)
    scale = args.memory_accounts / population_accounts
    represented = round(population_accounts * max(1, int(scale)))
    print(
        f"memory at {represented:,} accounts ({accounts_with_edges:,} with edges, {edges:,} "
        f"edges): snapshot {snapshot / represented:,.0f} B/account, "
        f"Python heap {heap / represented:,.0f} B/account"
    )
    if represented < MILLION:
        factor = MILLION / represented
        print(
            f"extrapolated linearly to 1M accounts (same edge density; not measured): "
            f"snapshot {snapshot * factor / 2**20:,.0f} MiB, heap {heap * factor / 2**20:,.0f} MiB"
        )
    else:
        print(f"at 1M: snapshot {snapshot / 2**20:,.0f} MiB, heap {heap / 2**20:,.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
