"""Where the main line's time goes, in-process: microseconds per comment for each part of
``Composition.on_raw`` (and of what the live agent adds around it: record encoding, metrics).

    python bench/profile_main_line.py [--count 3000] [--warm 3000] [--batch 0]

Builds the composition over in-memory stores, warms it with ``--warm`` loadgen comments (so
authors have state to load, as in a running worker), then times the next ``--count`` with a
timer wrapped around each part. Each row is *self* time (this thread's CPU time): a part's
time minus the parts timed inside it, so the rows add up to the total. The timers cost something
per call (the gap between the plain and the timed totals); most of it lands in the glue row, so
read that row as an upper bound. ``--batch N`` times ``guarded_batch`` over batches of N
instead (the live agent's batch path). A first pass without wrappers gives the plain rate,
the figure to compare with ``bench_side_branches.py`` and the live benchmark.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loadgen import LoadGenerator, Mix  # noqa: E402
from streams import topics as specs  # noqa: E402
from streams.composition import Composition, Outputs  # noqa: E402
from streams.normalise.pseudonymise import Pseudonymiser  # noqa: E402
from streams.policy import parse_policy  # noqa: E402
from streams.registry import input_for  # noqa: E402
from streams.runtime import guarded_batch  # noqa: E402
from streams.stage_configs import StageConfigs, build_stage_configs  # noqa: E402
from streams.state_store import Stores  # noqa: E402
from workers.metrics import Metrics  # noqa: E402
from workers.processes.pipeline import Counting  # noqa: E402
from workers.settings import Settings  # noqa: E402

RAW_INPUT = input_for(specs.RAW)


class Timers:
    """Self time per label, with a stack so nested parts are not counted twice."""

    def __init__(self) -> None:
        self.self_ns: dict[str, int] = defaultdict(int)
        self.calls: dict[str, int] = defaultdict(int)
        self._children: list[int] = []

    @contextmanager
    def part(self, label: str) -> Iterator[None]:
        self._children.append(0)
        started = time.thread_time_ns()
        try:
            yield
        finally:
            elapsed = time.thread_time_ns() - started
            inner = self._children.pop()
            self.self_ns[label] += elapsed - inner
            self.calls[label] += 1
            if self._children:
                self._children[-1] += elapsed

    def wrap(self, label: str, func: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            with self.part(label):
                return func(*args, **kwargs)

        return timed


# (module, attribute, label): the functions on the main line, patched where they are called.
PATCHES: tuple[tuple[str, str, str], ...] = (
    ("streams.composition", "ingest", "ingest: JSON parse, envelope, Comment"),
    ("streams.normalise.ingest", "normalise", "normalise (text)"),
    ("streams.classify.classifier", "identify", "language identification (lingua)"),
    ("streams.composition", "observe", "rate windows: observe"),
    ("streams.rate_windows.logic", "fingerprint", "rate windows: fingerprint (SimHash)"),
    ("streams.composition", "band_entries", "band entries"),
    ("streams.composition", "decide", "enforce: decide"),
    ("streams.enforce.logic", "add_working_hours", "enforce: working-hours deadlines"),
    ("streams.composition", "index_keys", "linking index keys"),
    ("streams.composition", "replace", "assessed verdict copy"),
    ("streams.state_store", "right_sized", "state: right-size bytes"),
)
# (class, method, label)
METHOD_PATCHES: tuple[tuple[str, str, str, str], ...] = (
    ("streams.normalise.pseudonymise", "Pseudonymiser", "author_key", "HMAC pseudonymise"),
    ("streams.classify.classifier", "Classifier", "classify_text", "classify (findings)"),
    ("streams.classify.classifier", "Classifier", "verdict", "Verdict record build"),
    ("streams.composition", "Composition", "_fire", "enforce: due deadlines"),
    ("streams.composition", "Composition", "linked_authors", "enforce: linked authors"),
)


def patch(timers: Timers, stores: Stores) -> None:
    import importlib

    for module_name, attr, label in PATCHES:
        module = importlib.import_module(module_name)
        setattr(module, attr, timers.wrap(label, getattr(module, attr)))
    for module_name, cls_name, attr, label in METHOD_PATCHES:
        cls = getattr(importlib.import_module(module_name), cls_name)
        setattr(cls, attr, timers.wrap(label, getattr(cls, attr)))
    for name, store in (("rate windows", stores.windows), ("enforcement", stores.enforcement)):
        store._decode = timers.wrap(f"state decode: {name}", store._decode)
        store._encode = timers.wrap(f"state encode: {name}", store._encode)


def build(settings: Settings, stages: StageConfigs, stores: Stores) -> Composition:
    return Composition(
        stores,
        lambda: stages,
        pseudonymiser=Pseudonymiser(settings.pseudonym_key),
        max_bytes=settings.max_payload_bytes,
    )


def run(
    composition: Composition,
    values: list[bytes],
    first_offset: int,
    batch: int,
    after: Callable[[Outputs], None],
) -> None:
    if batch <= 0:
        for i, value in enumerate(values):
            after(composition.on_raw(value, None, f"comments.raw[0]@{first_offset + i}"))
        return
    for start in range(0, len(values), batch):
        chunk = values[start : start + batch]
        inputs = [
            (value, None, f"comments.raw[0]@{first_offset + start + i}")
            for i, value in enumerate(chunk)
        ]
        for out in guarded_batch(composition, RAW_INPUT, inputs, failed_at_ms=0):
            after(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=3_000)
    parser.add_argument("--warm", type=int, default=3_000)
    parser.add_argument("--batch", type=int, default=0, help="0: one comment per on_raw call")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    settings = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
    stages = build_stage_configs(
        parse_policy(Path(settings.policy_path).read_bytes()), settings.registry_path
    )
    values = [v for _, v in LoadGenerator(Mix(), seed=args.seed).take(args.warm + args.count)]
    warm, timed = values[: args.warm], values[args.warm :]
    counting = Counting(Metrics.create())

    def live_tail(out: Outputs) -> None:
        for record in out.records:
            record.encode()
        counting.count(out)

    # The plain rate first, before any wrapper is installed.
    plain = build(settings, stages, Stores.in_memory())
    run(plain, warm, 0, args.batch, lambda _: None)
    started = time.process_time()
    run(plain, timed, args.warm, args.batch, live_tail)
    plain_s = time.process_time() - started

    timers = Timers()
    stores = Stores.in_memory()
    composition = build(settings, stages, stores)
    run(composition, warm, 0, args.batch, lambda _: None)
    patch(timers, stores)
    import streams.composition as composition_module

    composition_module.Record.encode = timers.wrap(  # type: ignore[method-assign]
        "record encoding", composition_module.Record.encode
    )
    timed_count = timers.wrap("metrics (prometheus)", counting.count)

    def tail(out: Outputs) -> None:
        for record in out.records:
            record.encode()
        timed_count(out)

    def total(out: Outputs) -> None:
        tail(out)

    started_ns = time.thread_time_ns()
    with timers.part("on_raw glue (the rest)"):
        run(composition, timed, args.warm, args.batch, total)
    total_ns = time.thread_time_ns() - started_ns
    n = len(timed)
    mode = f"batches of {args.batch}" if args.batch > 0 else "one at a time"
    print(
        f"{n} comments ({mode}) after {args.warm} warm: plain {n / plain_s:,.0f} comments/s "
        f"({1e6 * plain_s / n:,.0f} µs each, CPU); with timers {1e-3 * total_ns / n:,.0f} µs each"
    )
    print("\n| part | µs per comment | share | calls per comment |")
    print("|---|---:|---:|---:|")
    for label, ns in sorted(timers.self_ns.items(), key=lambda kv: -kv[1]):
        print(
            f"| {label} | {1e-3 * ns / n:,.1f} | {100 * ns / total_ns:.1f}% | "
            f"{timers.calls[label] / n:.2f} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
