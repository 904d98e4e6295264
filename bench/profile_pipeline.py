"""Where a stream worker spends its CPU: py-spy sampling of the hot path, top costs named.

    python bench/profile_pipeline.py [--load 40] [--seconds 30] [--hz 250]
    python bench/profile_pipeline.py --load 0 --count 6000      # a backlog instead

Starts one worker (every stage) in a fresh namespace, attaches py-spy to it, feeds it
loadgen comments — paced at ``--load`` comments/s (set it near the maximum from
bench_pipeline.py, so every stage is busy in its steady proportion), or with ``--load 0`` as a
backlog, where the first stages run ahead of the last — and aggregates the samples:

- by *area*: our stage logic (streams/), record encoding (schemas/), Faust, aiokafka, the
  asyncio loop, and so on — which tells whether the cost is ours or the framework's;
- by function, inclusive (own time plus callees) and self (own time only);
- by agent: the share of samples under each stage's handler.

The flame data (py-spy "raw" collapsed stacks) is kept under .stack/bench/ for a closer look
(``speedscope`` or ``flamegraph.pl`` read it).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_pipeline import SPLIT_ROLES, load, new_run, start_workers  # noqa: E402
from bench.loadgen import LoadGenerator, Mix, send_all, send_paced  # noqa: E402
from streams import topics as specs  # noqa: E402
from workers.settings import REPO_ROOT  # noqa: E402

OUT = REPO_ROOT / ".stack" / "bench"
_FRAME = re.compile(r"^(?P<func>.*) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")

# The first matching path fragment names a frame's area.
AREAS = (
    ("/streams/normalise/", "normalise logic"),
    ("/streams/classify/", "classify logic"),
    ("/streams/rate_windows/", "rate-window logic"),
    ("/streams/enforce/", "enforce logic"),
    ("/streams/runtime.py", "guarded() wrapper"),
    ("/schemas/", "record encode/decode"),
    ("/workers/", "worker glue (metrics, views)"),
    ("/prometheus_client/", "prometheus_client"),
    ("/faust/tables/", "faust tables + changelog"),
    ("/faust/transport/", "faust transport (consumer/producer)"),
    ("/faust/", "faust streams/agents/topics"),
    ("/mode/", "mode (faust's service runtime)"),
    ("/aiokafka/", "aiokafka (protocol, batches)"),
    ("/asyncio/", "asyncio event loop"),
    ("/selectors.py", "asyncio event loop"),
    ("/orjson", "orjson"),
    ("/yarl/", "aiohttp/yarl"),
    ("/aiohttp/", "aiohttp/yarl"),
)


# What the worker was doing in a sample, for the table of where its CPU goes. A main-line
# sample is split by the stage it is in (STEP_PARTS, on the stack below ``on_raw``); the others
# by what they are under (UNDER, on the whole stack), else by the innermost frame that has an
# area (LEAF: a leaf in C or the stdlib is charged to its nearest caller). Fragments match
# py-spy's "function (file:line)" frames, whose paths are relative.
STEP_PARTS = (
    ("(streams/classify/", "classify"),
    ("(streams/language.py", "classify"),
    ("(streams/rate_windows/", "rate windows"),
    ("(streams/enforce/", "enforce"),
    ("(streams/normalise/", "ingest + normalise"),
    ("(streams/platforms/", "ingest + normalise"),
    ("(streams/linking/", "linking index keys"),
    ("(streams/state_store.py", "state load/store (tables)"),
    ("faust/tables/", "state load/store (tables)"),
    ("(schemas/", "record encode/decode"),
)
UNDER = (
    ("Composition.on_raw ", "main line"),
    ("Composition.on_band ", "side: band step (on_band)"),
    ("Composition.on_index ", "side: index step (on_index)"),
    ("Composition.on_side ", "side: band + index step (on_side)"),
    ("Composition.on_signal ", "side: identity graph"),
    ("Composition.on_override ", "side: identity graph"),
    ("Composition.rebuild_", "side: rebuilds (start, rebalance)"),
    ("Composition.on_", "enforce's other inputs (notices, ticks, clusters)"),
    ("Counting.", "metrics (prometheus)"),
    ("RecordSender.", "produce: our send (record encode, faust Topic.send)"),
    ("Topic.send ", "produce: our send (record encode, faust Topic.send)"),
    ("Consumer.commit ", "commit (offsets)"),
    ("Consumer.force_commit ", "commit (offsets)"),
    ("Consumer._commit", "commit (offsets)"),
    ("faust/tables/", "changelog + table recovery"),
    # The loop's own parts: writing requests to the broker's socket (the syscall: on a loaded
    # machine py-spy also counts the time a runnable thread waits for a core there), and
    # epoll (the poll itself; an idle wait is not sampled without --idle).
    ("_SelectorSocketTransport.write ", "event loop: socket writes to the broker (requests)"),
    ("EpollSelector.select ", "event loop: epoll"),
)
LEAF = (
    ("aiokafka/producer/", "produce: aiokafka sender (batches, requests)"),
    ("Producer.", "produce: aiokafka sender (batches, requests)"),
    ("aiokafka/consumer/", "consume: aiokafka fetch + faust conductor"),
    ("faust/transport/", "consume: aiokafka fetch + faust conductor"),
    ("faust/streams.py", "consume: faust stream (per-event iteration, acks)"),
    ("faust/agents/", "consume: faust stream (per-event iteration, acks)"),
    ("aiokafka/", "aiokafka connection (requests, both directions)"),
    ("prometheus_client/", "metrics (prometheus)"),
    ("(workers/", "worker glue (pipeline.py, web)"),
    ("(streams/", "worker glue (pipeline.py, web)"),
    ("faust/", "faust other (app, timers, web)"),
    ("mode/", "mode (faust's service runtime)"),
    ("asyncio/", "event loop: callbacks, tasks, futures"),
    ("selectors.py", "event loop: callbacks, tasks, futures"),
)


def part_of(stack: str) -> str:
    """What the worker was doing in one sample (the rules above)."""
    for fragment, part in UNDER:
        if fragment in stack:
            if part != "main line":
                return part
            tail = stack[stack.index(fragment) :]
            for step_fragment, step in STEP_PARTS:
                if step_fragment in tail:
                    return f"main line: {step}"
            return "main line: composition glue"
    for frame in reversed(stack.split(";")):
        for fragment, part in LEAF:
            if fragment in frame:
                return part
    return "other (stdlib, C)"


def area_of(file: str) -> str:
    file = file if file.startswith("/") else f"/{file}"  # py-spy shortens paths
    for fragment, area in AREAS:
        if fragment in file:
            return area
    return "other (stdlib, C)"


def parse_frame(frame: str) -> tuple[str, str]:
    m = _FRAME.match(frame)
    if not m:
        return frame, ""
    file = m.group("file")
    short = file.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
    return f"{m.group('func')} ({short})", file


def summarise(raw: str, top: int) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    agents: Counter[str] = Counter()
    parts: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [parse_frame(f) for f in stack.split(";")]
        frames = [f for f in frames if not f[0].startswith("process ") and f[0] != "<module> ()"]
        if not frames:
            continue
        total += count
        for name in {name for name, _ in frames}:
            inclusive[name] += count
        leaf_name = frames[-1][0]
        own[leaf_name] += count
        # A leaf in C or the stdlib is charged to the nearest caller that has an area.
        for _, file in reversed(frames):
            area = area_of(file)
            if area != "other (stdlib, C)":
                break
        areas[area] += count
        agents[_handler(frames)] += count
        parts[part_of(stack)] += count

    def table(title: str, counts: Counter[str], n: int) -> list[str]:
        rows = [f"\n### {title}\n", "| share | samples | where |", "|---:|---:|---|"]
        for name, c in counts.most_common(n):
            rows.append(f"| {100 * c / total:.1f}% | {c} | `{name}` |")
        return rows

    lines = [f"{total} samples"]
    lines += table("By part (what the worker was doing: UNDER, LEAF, STEP_PARTS)", parts, 40)
    lines += table("By area (self time, charged to the nearest attributable frame)", areas, 30)
    lines += table("By stage handler (inclusive)", agents, 12)
    lines += table(f"Top {top} functions, inclusive", inclusive, top)
    lines += table(f"Top {top} functions, self", own, top)
    return "\n".join(lines)


def _handler(frames: list[tuple[str, str]]) -> str:
    """The step a sample is under: the composition's handler the guarded step called."""
    for name, _ in frames:
        if name.startswith("Composition.on_"):
            return name.split(" ")[0]
    return "(outside the steps: consumer, producer, commits, timers)"


async def profile(args: argparse.Namespace) -> str:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    run = new_run(4, "p", args.worker_env)
    await run.create_topics()
    gen = LoadGenerator(Mix(), seed=args.seed)
    count = int(args.load * (args.seconds + 5)) if args.load else args.count
    messages = gen.take(count)
    OUT.mkdir(parents=True, exist_ok=True)
    flame = OUT / f"profile-{run.namespace}.txt"
    try:
        roles = SPLIT_ROLES if args.split_roles else None
        await start_workers(run, list(roles or ["worker"]), roles)
        pid = run.processes[args.worker].pid
        before = load()
        spy = await asyncio.create_subprocess_exec(
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(args.hz),
            "--duration",
            str(int(args.seconds)),
            "--format",
            "raw",
            "--nonblocking",
            *(["--idle"] if args.idle else []),
            "--output",
            str(flame),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        await asyncio.sleep(1.0)  # py-spy attaches before the load starts
        raw = run.topic(specs.RAW.name)
        if args.load:
            await send_paced(run.settings, raw, messages, args.load)
        else:
            await send_all(run.settings, raw, messages)
        _, err = await spy.communicate()
        if spy.returncode != 0:
            raise RuntimeError(f"py-spy failed: {err.decode()}")
        after = load()
    finally:
        await run.close()
    which = f"the {args.worker} worker of two (roles)" if args.split_roles else "one worker"
    header = (
        f"py-spy {args.hz} Hz for {args.seconds:.0f}s on {which} fed "
        + (f"{args.load:g} comments/s" if args.load else f"a backlog of {count} comments")
        + f"; load {before} → {after}; flame data: {flame.relative_to(REPO_ROOT)}"
    )
    return header + "\n" + summarise(flame.read_text(), args.top)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--load", type=float, default=40.0, help="comments/s; 0: a backlog")
    parser.add_argument("--count", type=int, default=6_000, help="backlog size (--load 0)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--hz", type=int, default=250, help="samples per second")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--worker-env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--summarise", type=Path, help="only summarise an existing raw file")
    parser.add_argument(
        "--split-roles",
        action="store_true",
        help="two workers, main line and side branches (MODSTREAM_WORKER_ROLE); see --worker",
    )
    parser.add_argument("--worker", default="worker", help="which to profile: worker or side")
    parser.add_argument("--idle", action="store_true", help="sample waiting threads too")
    args = parser.parse_args(argv)
    if args.summarise:
        print(summarise(args.summarise.read_text(), args.top))
        return 0
    print(asyncio.run(profile(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
