"""Resident memory per tracked author, measured up to 1M new authors in one process.

    nice -n 10 python bench/bench_author_memory.py          # 20k, 50k, 100k, 1M: 22 min
    python bench/bench_author_memory.py --authors 20000 --classify all   # every comment classified

A real worker takes hours to see 1M authors through Kafka, so this builds, in one process,
what the worker's state holds after one comment from each of N new authors, and reads the
resident memory (``/proc/self/statm`` after ``gc.collect()``) at each N in ``--authors``.

What the process holds is what the worker's agents hold, in the same form:

- the rate-windows, cross-author band and enforcement tables, and the enforce agent's deadline
  index, through ``workers.offline.offline_pipeline`` (the same stage functions, state kept as the
  tables' bytes). The worker's store is ``memory://``: faust-streaming's in-memory store is one
  dict of the raw key bytes to the raw value bytes (``faust/stores/memory.py``), as here. Its
  other per-key dict (key to partition) is filled only when a table is recovered from its
  changelog, so it is measured separately, at the end, as "after a restart";
- what the linking steps keep (``streams/composition.py``): the index table (index key to
  ``KeyState`` bytes), the identity graph fed every signal (index signals and the bands'
  near-copies), and the enforce stage's global cluster table (author to membership bytes).

Values are stored as the agents store them: right-sized copies (``schemas.codec.right_sized``).
orjson 3.13 (installed here) returns each value in a buffer of about 4 KB and never shrinks
it; before the agents trimmed values, that was most of a worker's memory per author (5.1 KB
per author at 1M, against 0.5 KB since: docs/benchmarks.md).

Comments come from ``bench/loadgen.py``, every one from a new account, no bursts (what the
``memory`` phase of ``bench/bench_pipeline.py`` sends a real worker). The loader draws each
text from a pool it split with the real classifier, so it knows which comments it meant to
touch a policy clause. ``--classify flagged`` (the default) runs the classifier on those only
and gives the rest no findings; ``--classify all`` runs it on every comment (about 1 ms more
each, 17 minutes at 1M). The two are close but not the same: the loader labelled its pooled
texts, not the comments it builds from them. At 20k, ``all`` acts on 0.7% more comments, the
rate-windows and enforcement digests differ, and RSS is 1% higher.

The band table is keyed by fingerprint slice and bounded by event time (window + lateness, 15
minutes: 45,000 comments at the loader's 50 comments/s of event time), not by authors. It is
also the slow part: past its bound it costs about 4 ms a comment. So the band stage sees the
first ``--bands-for`` comments (100k: well past its bound) and then stops, its table as it was;
after that, no campaign notices and no near-copy links to the graph. The band table's
resident size is measured at the end by dropping it (with glibc's free pages trimmed before
and after). The per-author figure to use is the growth between two checkpoints divided by the
authors added between them: fixed costs (the bands, the warm process) drop out of it.

Results are appended to ``.stack/bench/results.jsonl`` (phase ``authors``).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import hashlib
import os
import sys
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_pipeline import Conditions, record, rss_bytes  # noqa: E402
from bench.loadgen import LoadGenerator, Mix  # noqa: E402
from schemas.codec import replace  # noqa: E402
from schemas.comment import Comment  # noqa: E402
from schemas.verdict import Finding  # noqa: E402
from streams import topics as specs  # noqa: E402
from streams.classify import Classifier  # noqa: E402
from streams.composition import Outputs, Record  # noqa: E402
from streams.linking.graph import IdentityGraph  # noqa: E402
from streams.normalise.pseudonymise import Pseudonymiser  # noqa: E402
from streams.policy import parse_policy  # noqa: E402
from streams.registry import Input  # noqa: E402
from streams.stage_configs import StageConfigs, build_stage_configs  # noqa: E402
from workers.offline.offline_pipeline import OfflinePipeline  # noqa: E402
from workers.settings import Settings  # noqa: E402

MIB = 2**20
BATCH = 1_000  # messages generated at a time: small, so the loader's buffers stay small
START_MS = 1_795_000_000_000  # a fixed event-time start, so two runs hold the same bytes
TOPIC = "bench00000.comments.raw"  # sources shaped like a bench worker's
PARTITIONS = 4


class FlaggedLoad(LoadGenerator):
    """The loader, remembering for each message whether its text was drawn as a violation."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.flags: list[bool] = []

    def _message(self, platform: str, account: str, text: str, *, flagged: bool) -> Any:
        self.flags.append(flagged)
        return super()._message(platform, account, text, flagged=flagged)

    def batch(self, n: int) -> list[tuple[bytes, bool]]:
        messages = self.take(n)
        flags, self.flags = self.flags, []
        assert len(flags) == len(messages), "one message per draw (fresh authors, no bursts)"
        return [(value, flag) for (_, value), flag in zip(messages, flags, strict=True)]


class PreClassified:
    """The classifier for comments the loader drew as violations; no findings for the rest."""

    def __init__(self, real: Classifier, *, every: bool) -> None:
        self.real = real
        self.policy = real.policy
        self.every = every
        self.flagged = True

    def classify(self, comment: Comment) -> tuple[Finding, ...]:
        return self.real.classify(comment) if self.every or self.flagged else ()


class WorkerState(OfflinePipeline):
    """The offline pipeline's tables (which hold what the live linking and cluster tables
    hold too), with the cross-author bands switchable and link signals counted by kind."""

    def __init__(self, stages: StageConfigs, pseudonymiser: Pseudonymiser, max_bytes: int):
        super().__init__(stages, pseudonymiser, max_bytes)
        self.composition.graph = IdentityGraph(stages.linking)
        self.bands_on = True
        self.links: Counter[str] = Counter()  # signals to the graph, by kind

    @property
    def graph(self) -> IdentityGraph:
        assert self.composition.graph is not None
        return self.composition.graph

    def run_step(self, item: Input, record: Record) -> Outputs:
        if record.topic is specs.SIDE and not self.bands_on:
            # The linking index still runs: only the band entries are dropped.
            record = replace(record, value=replace(record.value, bands=()))
        if record.topic is specs.IDENTITY_SIGNALS:
            self.links[record.value.kind] += 1
        return super().run_step(item, record)

    def tables(self) -> dict[str, dict[bytes, bytes]]:
        return {
            "rate-windows": self.window_table,
            "enforcement": self.enforcement_table,
            "rate-window-bands": self.band_table,
            "linking-index": self.stores.index.table,  # type: ignore[dict-item]
            "identity-clusters": self.stores.clusters,  # type: ignore[dict-item]
        }


def digest(table: dict[bytes, bytes]) -> str:
    """Order-free digest of a table's items, with no big temporaries."""
    total = 0
    for k, v in table.items():
        total += int.from_bytes(hashlib.blake2b(k + b"\0" + v, digest_size=8).digest())
    return f"{total % 2**64:016x}"


def rss() -> int:
    gc.collect()
    return rss_bytes(os.getpid())


@dataclass
class Feed:
    """Comments from new authors into a WorkerState, ticking deadlines as the tick timer would."""

    state: WorkerState
    load: FlaggedLoad
    classifier: PreClassified
    tick_every: int
    bands_for: int
    fed: int = 0

    def feed(self, n: int) -> None:
        while n > 0:
            batch = self.load.batch(min(BATCH, n))
            for value, flagged in batch:
                self.state.bands_on = self.fed < self.bands_for
                self.classifier.flagged = flagged
                part = self.fed % PARTITIONS
                self.state.process(value, f"{TOPIC}[{part}]@{self.fed // PARTITIONS}")
                self.fed += 1
                if self.fed % self.tick_every == 0 and self.state.stats.max_event_time_ms:
                    self.state.fire_due(self.state.stats.max_event_time_ms)
            n -= len(batch)
            del batch


def build(settings: Settings, args: argparse.Namespace, seed: int) -> Feed:
    stages = build_stage_configs(
        parse_policy(Path(settings.policy_path).read_bytes()), settings.registry_path
    )
    classifier = PreClassified(stages.classifier, every=args.classify == "all")
    stages = replace(stages, classifier=cast(Classifier, classifier))
    state = WorkerState(stages, Pseudonymiser(settings.pseudonym_key), settings.max_payload_bytes)
    load = FlaggedLoad(
        Mix(fresh_authors=True, burst_every=0, authors=10), seed=seed, start_ms=START_MS
    )
    return Feed(state, load, classifier, args.tick_every, args.bands_for)


def checkpoints(spec: str) -> Iterator[int]:
    yield from sorted({int(n) for n in spec.split(",")})


def trimmed_rss() -> int:
    """RSS after glibc hands back every free page (``malloc_trim``): used only at the end."""
    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    return rss_bytes(os.getpid())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--authors", default="20000,50000,100000,1000000", help="checkpoints")
    parser.add_argument("--classify", choices=("flagged", "all"), default="flagged")
    parser.add_argument("--seed", type=int, default=12, help="the memory phase's seed (11 + 1)")
    parser.add_argument("--tick-every", type=int, default=1_000, help="comments between ticks")
    parser.add_argument(
        "--bands-for",
        type=int,
        default=100_000,
        help="comments the band stage sees; after them it stops, its table as it was",
    )
    args = parser.parse_args(argv)
    settings = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})

    # Warm up on a throwaway state (lazy imports, caches, the loader's buffers), then start.
    warm = build(settings, args, args.seed + 1000)
    warm.feed(BATCH)
    del warm
    feed = build(settings, args, args.seed)
    state = feed.state
    cond = Conditions()
    started = time.perf_counter()
    base = rss()
    rows: list[dict[str, Any]] = []
    for n in checkpoints(args.authors):
        feed.feed(n - feed.fed)
        grown = rss() - base
        row: dict[str, Any] = {
            "authors": n,
            "rss_growth_mib": grown / MIB,
            "per_author_b": grown / n,
            "tables": {
                name: {"keys": len(t), "bytes": sum(len(k) + len(v) for k, v in t.items())}
                for name, t in state.tables().items()
            },
            "deadlines": state.pending_deadlines,
            "graph_accounts": state.graph.account_count,
            "graph_edges": state.graph.edge_count,
            "links": dict(state.links),
            "notice_decisions": state.stats.notice_decisions,
            "elapsed_s": time.perf_counter() - started,
        }
        if rows:
            last = rows[-1]
            row["marginal_b"] = (grown - last["rss_growth_mib"] * MIB) / (n - last["authors"])
        rows.append(row)
        print(
            f"{n:,} authors: RSS +{grown / MIB:,.1f} MiB, {grown / n:,.0f} B/author "
            f"({row['elapsed_s']:,.0f} s)",
            flush=True,
        )
    elapsed = time.perf_counter() - started

    # After a restart the memory store also maps each key it recovered to its partition.
    before = rss()
    per_author = (state.window_table, state.enforcement_table)
    key_partition = {k: zlib.crc32(k) % PARTITIONS for t in per_author for k in t}
    restart_b = (rss() - before) / feed.fed
    del key_partition
    digests = {name: digest(t) for name, t in state.tables().items()}
    # What the band table takes, resident: drop it, with glibc's free pages trimmed either side.
    before = trimmed_rss()
    state.stores.band_table.clear()
    bands_rss = before - trimmed_rss()
    cond.done()
    record(
        "authors",
        {
            "classify": args.classify,
            "bands_for": args.bands_for,
            "seed": args.seed,
            "rows": rows,
            "restart_key_partition_b": restart_b,
            "bands_rss_mib": bands_rss / MIB,
            "digests": digests,
            "stats": state.stats.to_dict(),
            "elapsed_s": elapsed,
            "conditions": str(cond),
        },
    )

    print(
        f"\n### Resident memory per tracked author, in-process (classify: {args.classify}; "
        f"bands for the first {args.bands_for:,} comments)\n"
    )
    print("| new authors | RSS growth | per author | per author added since the last row |")
    print("|---:|---:|---:|---:|")
    for r in rows:
        marginal = f"{r['marginal_b']:,.0f} B" if "marginal_b" in r else ""
        print(
            f"| {r['authors']:,} | {r['rss_growth_mib']:,.1f} MiB | {r['per_author_b']:,.0f} B | "
            f"{marginal} |"
        )
    bands = rows[-1]["tables"]["rate-window-bands"]
    print(
        f"\nband table at the end: {bands['keys']:,} keys, {bands['bytes'] / MIB:,.1f} MiB of "
        f"key + value bytes, {bands_rss / MIB:,.1f} MiB resident (dropped at the end)"
    )
    print(f"after a restart, the store's key→partition map adds {restart_b:,.0f} B per author")
    print("\n### What the state holds (keys, key + value bytes)\n")
    names = list(rows[0]["tables"])
    print(
        "| new authors | "
        + " | ".join(names)
        + " | deadlines | graph | near-copy links | campaign decisions |"
    )
    print("|---:|" + "---:|" * (len(names) + 4))
    for r in rows:
        cells = [f"{t['keys']:,}, {t['bytes'] / MIB:,.1f} MiB" for t in r["tables"].values()]
        graph = f"{r['graph_accounts']:,} accounts, {r['graph_edges']:,} edges"
        print(
            f"| {r['authors']:,} | "
            + " | ".join(cells)
            + f" | {r['deadlines']:,} | {graph} | {r['links'].get('near_duplicate', 0):,} | "
            f"{r['notice_decisions']:,} |"
        )
    print(f"\ntable digests (to compare runs): {digests}")
    print(f"decisions: {dict(state.stats.outcomes)}; {elapsed:,.0f} s; {cond}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
