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
3. Memory at size: a graph built with the population's edge density over ``--memory-accounts``
   accounts (the population relabelled block by block), fed one block at a time so the input
   is never held. Reported: resident memory the build added (RSS, ``/proc/self/statm``, after
   a collection) per account, graph.add signals/s at that size (CPU time of the adds only,
   overall and for the last tenth), and the serialised snapshot per account. Python heap by
   tracemalloc only with ``--tracemalloc``: its own bookkeeping costs about as much again
   as the graph and slows the build several times, which is what kept 1M from being measured
   before. Below 1M accounts it also prints a linear extrapolation to 1M, marked as such.

Times are CPU time (``time.process_time``), so a busy shared machine slows the wall clock, not
the figures; the graph and baseline timings are the best of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas.identity import LinkSignal, ordered_pair
from streams.linking.config import LinkingConfig
from streams.linking.graph import IdentityGraph
from streams.linking.population import Population, PopulationSpec, generate
from streams.linking.signals import StyleProfile
from workers.offline.evaluate_linking import LinkingRun

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


def synthetic_block(template: list[LinkSignal], block: int, rng: random.Random) -> list[LinkSignal]:
    """The template's signals relabelled onto fresh account keys: one more population's worth
    of edges, with the same signals per account and mix of kinds."""
    keys = sorted({a for s in template for a in (s.author_a, s.author_b)})
    names = {k: f"{block:07d}{rng.getrandbits(100):025x}" for k in keys}  # 32 chars, as keys are
    out = []
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
                # Fresh strings, as comment ids off the wire would be: the graph owns them.
                source_ids=tuple(f"{block}:{x}" for x in s.source_ids),
            )
        )
    return out


@dataclass(slots=True)
class MemoryFigures:
    accounts_with_edges: int
    edges: int
    rss_bytes: int  # resident memory the build added, after a collection
    heap_bytes: int | None  # tracemalloc's count, when asked for
    snapshot_bytes: int
    signals: int
    add_seconds: float  # CPU time inside graph.add, all blocks
    last_tenth_rate: float  # signals/s over the last tenth of the blocks


def rss_bytes() -> int:
    """Current resident set size (not the peak): the build's cost is a difference of two."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory(template: list[LinkSignal], blocks: int, seed: int, trace: bool) -> MemoryFigures:
    """Build one graph of ``blocks`` relabelled populations and measure it."""
    rng = random.Random(seed)
    gc.collect()
    if trace:
        tracemalloc.start()
    heap_before = tracemalloc.get_traced_memory()[0] if trace else 0
    rss_before = rss_bytes()
    graph = IdentityGraph(LinkingConfig())
    add_seconds = last_tenth = 0.0
    last_tenth_signals = signals = 0
    for block in range(blocks):
        batch = synthetic_block(template, block, rng)
        started = time.process_time()
        for s in batch:
            graph.add(s)
        spent = time.process_time() - started
        add_seconds += spent
        signals += len(batch)
        if block >= blocks - max(1, blocks // 10):
            last_tenth += spent
            last_tenth_signals += len(batch)
        del batch
    gc.collect()
    rss = rss_bytes() - rss_before
    heap = tracemalloc.get_traced_memory()[0] - heap_before if trace else None
    if trace:
        tracemalloc.stop()
    snapshot = len(graph.to_bytes())
    return MemoryFigures(
        accounts_with_edges=graph.account_count,
        edges=graph.edge_count,
        rss_bytes=rss,
        heap_bytes=heap,
        snapshot_bytes=snapshot,
        signals=signals,
        add_seconds=add_seconds,
        last_tenth_rate=last_tenth_signals / last_tenth if last_tenth else 0.0,
    )


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
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also count the Python heap (slow, 2x memory)"
    )
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
    # Whole populations only, so every account counted has its population's share of edges.
    blocks = max(1, round(args.memory_accounts / population_accounts))
    represented = blocks * population_accounts
    del replay, population, graph, profiles  # out of the RSS the build is measured against
    m = memory(signals, blocks, args.seed, args.tracemalloc)
    heap = "" if m.heap_bytes is None else f", Python heap {m.heap_bytes / represented:,.0f} B"
    print(
        f"memory at {represented:,} accounts ({m.accounts_with_edges:,} with edges, "
        f"{m.edges:,} edges): RSS {m.rss_bytes / represented:,.0f} B/account "
        f"({m.rss_bytes / m.accounts_with_edges:,.0f} B per account with edges, "
        f"{m.rss_bytes / m.edges:,.0f} B per edge){heap}; "
        f"snapshot {m.snapshot_bytes / represented:,.0f} B/account"
    )
    print(
        f"graph.add at that size: {m.signals:,} signals in {m.add_seconds:.1f} s CPU, "
        f"{m.signals / m.add_seconds:,.0f} signals/s; last tenth {m.last_tenth_rate:,.0f}/s"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    totals = (
        f"RSS added {m.rss_bytes / 2**20:,.0f} MiB, snapshot {m.snapshot_bytes / 2**20:,.0f} MiB"
    )
    if m.heap_bytes is not None:
        totals += f", heap {m.heap_bytes / 2**20:,.0f} MiB"
    print(f"totals: {totals}; process peak RSS {peak / 2**20:,.0f} MiB")
    if represented < MILLION:
        factor = MILLION / represented
        print(
            f"extrapolated linearly to 1M accounts (same edge density; not measured): "
            f"RSS {m.rss_bytes * factor / 2**20:,.0f} MiB, "
            f"snapshot {m.snapshot_bytes * factor / 2**20:,.0f} MiB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
