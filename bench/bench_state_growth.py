"""Cost per comment as state accumulates: every stage's logic in-process, chunk by chunk.

    python bench/bench_state_growth.py                       # 30,000 comments (about 2 min)
    python bench/bench_state_growth.py --count 60000 --chunk 5000
    python bench/bench_state_growth.py --bands-ab --count 40000   # the band stage against the
                                                                  # all-pairs version it replaced
    python bench/bench_state_growth.py --fingerprints --count 20000  # how even the keys are

A worker's cost per comment must not keep rising as it runs, or a rate it sustains in the
first minutes falls behind later. The load generator's stream (bench/loadgen.py, 50 comments
per second of event time) goes through ``workers.offline.offline_pipeline`` (the agents' pure
functions, state held as the tables' bytes, no Kafka) in chunks; for each chunk it prints CPU
ms per comment, overall and in the cross-author band stage, and how full the band keys are.
The baseline is the first chunk of the same run: ratios, not times, are the figures to
compare, since this 2-core machine's CPU time per operation drifts by tens of per cent with
its load. Band state is bounded by the hold (allowed lateness + window, 15 min of event time,
45,000 comments at this rate) and by ``max_posts_per_band``; the cost should level off there.

``--bands-ab``: the band entries those comments fan out, recorded, then fed in eighths to the
band stage as it is (``observe_band`` through ``BandStates``) and to the all-pairs version
with a JSON decode per entry that it replaced (the oracle in
tests/unit/rate_windows/test_cross_author_equivalence.py), alternating eighth by eighth so
both see the same machine; the figure is their ratio per eighth.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loadgen import LoadGenerator, Mix, text_of
from streams import topics as specs
from streams.normalise.pseudonymise import Pseudonymiser
from streams.policy import parse_policy
from streams.rate_windows.config import WindowConfig
from streams.rate_windows.fingerprint import band_values, fingerprint
from streams.stage_configs import build_stage_configs
from workers.offline.offline_pipeline import OfflinePipeline
from workers.settings import Settings


class TimedPipeline(OfflinePipeline):
    """The offline pipeline, with the CPU time of its band stage kept apart."""

    band_cpu_s = 0.0

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        on_band = self.composition.on_band  # on_side calls it for the band entries

        def timed(*step_args):  # type: ignore[no-untyped-def]
            start = time.process_time()
            try:
                return on_band(*step_args)
            finally:
                self.band_cpu_s += time.process_time() - start

        self.composition.on_band = timed  # type: ignore[method-assign]


def posts_per_key(pipeline: OfflinePipeline) -> tuple[float, int]:
    sizes = [len(state.posts) for state in pipeline.stores.band_table.values()] or [0]
    return statistics.mean(sizes), max(sizes)


def bands_ab(pipeline: OfflinePipeline, generator: LoadGenerator, count: int) -> None:
    import orjson

    from streams.composition import Outputs, band_entries_of
    from streams.rate_windows.band_states import BandStates
    from streams.rate_windows.cross_author import BandEntry, BandState, observe_band
    from tests.unit.rate_windows.test_cross_author_equivalence import all_pairs_observe_band

    entries: list[BandEntry] = []

    class Recording(type(pipeline)):  # type: ignore[misc]
        def run_step(self, item, record):  # type: ignore[no-untyped-def]
            if record.topic is specs.SIDE:
                entries.extend(band_entries_of(record.value))
                return Outputs()
            return super().run_step(item, record)

    pipeline.__class__ = Recording
    for i, (_, value) in enumerate(generator.take(count)):
        pipeline.process(value, f"raw[0]@{i}")
    cfg = pipeline.stages.windows
    states, table = BandStates({}), dict[bytes, bytes]()
    print(f"\n### Band stage against the all-pairs version ({len(entries):,} entries)\n")
    print("| entries | all-pairs µs/entry | now µs/entry | ratio | posts per key (mean) |")
    print("|---|---:|---:|---:|---:|")
    eighth = len(entries) // 8
    for part_no in range(8):
        part = entries[part_no * eighth : (part_no + 1) * eighth]
        start = time.process_time()
        for entry in part:
            key = entry.key.encode()
            stored = table.get(key)
            state = BandState.from_dict(orjson.loads(stored)) if stored else BandState()
            table[key] = orjson.dumps(all_pairs_observe_band(state, entry, cfg, None)[0].to_dict())
        before = time.process_time() - start
        start = time.process_time()
        for entry in part:
            key = entry.key.encode()
            states.put(key, observe_band(states.get(key), entry, cfg)[0])
        now = time.process_time() - start
        mean = statistics.mean(len(orjson.loads(v)["p"]) for v in table.values())
        print(
            f"| {part_no * eighth:,}–{(part_no + 1) * eighth:,} | {1e6 * before / len(part):.0f} | "
            f"{1e6 * now / len(part):.0f} | {before / now:.1f}× | {mean:.0f} |",
            flush=True,
        )


def fingerprints(generator: LoadGenerator, count: int, cfg: WindowConfig) -> None:
    """How evenly the stream's SimHash bits, hence band keys, are spread: uneven bits make a
    few keys take many entries, and those keys fill first."""
    ones = [0] * 64
    keys: Counter[tuple[int, int]] = Counter()
    texts = 0
    for _, value in generator.take(count):
        try:
            fp = fingerprint(text_of(orjson.loads(value)))
        except (KeyError, TypeError, ValueError, orjson.JSONDecodeError):
            continue  # the loader's malformed messages
        if fp.tokens < cfg.cross_author.min_tokens:
            continue
        texts += 1
        for bit in range(64):
            ones[bit] += fp.simhash >> bit & 1
        keys.update(enumerate(band_values(fp.simhash, cfg.cross_author.bands)))
    top = sum(n for _, n in keys.most_common(len(keys) // 20))
    print(f"\n### Fingerprint evenness ({texts:,} texts long enough to fan out)\n")
    print(f"share of ones per SimHash bit: {min(ones) / texts:.0%} to {max(ones) / texts:.0%}")
    print(f"entries on the busiest 5% of {len(keys):,} band keys: {top / keys.total():.0%}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=30_000)
    parser.add_argument("--chunk", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--bands-ab", action="store_true", help="compare the band stage only")
    parser.add_argument("--fingerprints", action="store_true", help="how even the band keys are")
    args = parser.parse_args(argv)

    settings = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
    stages = build_stage_configs(
        parse_policy(Path(settings.policy_path).read_bytes()), settings.registry_path
    )
    pipeline = TimedPipeline(
        stages, Pseudonymiser(settings.pseudonym_key), settings.max_payload_bytes
    )
    generator = LoadGenerator(Mix(), seed=args.seed)
    if args.fingerprints:
        fingerprints(generator, args.count, stages.windows)
        return 0
    if args.bands_ab:
        bands_ab(pipeline, generator, args.count)
        return 0
    print(f"\n### Cost per comment as state accumulates ({args.count:,} comments, one core)\n")
    print(
        "| comments so far | ms per comment | of which bands | vs first chunk | "
        "band keys | posts per key (mean / max) |"
    )
    print("|---:|---:|---:|---:|---:|---|")
    first = None
    done = 0
    while done < args.count:
        messages = generator.take(min(args.chunk, args.count - done))
        pipeline.band_cpu_s = 0.0
        start = time.process_time()
        for i, (_, value) in enumerate(messages):
            pipeline.process(value, f"raw[0]@{done + i}")
        per_comment = 1000 * (time.process_time() - start) / len(messages)
        bands = 1000 * pipeline.band_cpu_s / len(messages)
        first = first or per_comment
        done += len(messages)
        mean, largest = posts_per_key(pipeline)
        print(
            f"| {done:,} | {per_comment:.2f} | {bands:.2f} | {per_comment / first:.2f}× | "
            f"{len(pipeline.stores.band_table):,} | {mean:.0f} / {largest} |",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
