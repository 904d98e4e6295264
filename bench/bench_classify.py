"""The classifier's cost per comment, today's rules engine and this tree's side by side.

    python bench/bench_classify.py                     # labelled sets + 1,000 corpus texts, 5 runs
    python bench/bench_classify.py --corpus 0 --runs 3
    python bench/bench_classify.py --baseline-rev HEAD~3
    python bench/bench_classify.py --same-rules           # both run this tree's policy

Two worker processes, pinned to the same single core, each build their classifier once and
then time passes on request, taking turns, so load from other processes on this shared
machine falls on both alike:

- ``baseline``: the tree at ``--baseline-rev`` (by default the last commit before the one-scan
  prefilter, issue 16) with its own policy and word lists, i.e. today's rules as they ran;
  it has no batch API, so its batch figure is ``classify`` in a loop;
- ``this tree``: ``classify_batch`` on batches of ``--batch`` comments, and ``classify`` one at
  a time.

Figures are milliseconds per comment, the median of ``--runs`` passes, with the ratio to the
baseline measured in the same run. The texts are the labelled sets (short comments written for
this project) and a seeded random sample of the public corpora (real posts, some long). The
last lines say how many comments got the same findings from both: with ``--same-rules`` (both
engines on this tree's policy and word lists) that must be all of them; without, they differ
where the policy changed since the baseline.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The last commit whose classifier ran every rule with re behind the word gate (issue 16).
BASELINE_REV = "279e64d"
MODES = ("batch", "one")


# --- worker: runs inside a checkout, imports its code, answers timing requests ----------------


def worker(root: Path, rules: Path, texts_file: Path, batch: int, core: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})
    sys.path.insert(0, str(root))
    from streams.classify import Classifier, load_registry
    from streams.policy import load_policy

    classifier = Classifier(
        load_policy(rules / "deploy/policy/ctmuhb.yaml"),
        load_registry(rules / "deploy/policy/registry.example.yaml"),
        lexicon_dir=rules / "streams/classify/lexicons",
    )
    sets: dict[str, list[str]] = json.loads(texts_file.read_text(encoding="utf-8"))
    has_batch = hasattr(classifier, "classify_batch")

    def run(name: str, mode: str) -> list[Any]:
        texts = sets[name]
        if mode == "batch" and has_batch:
            out: list[Any] = []
            for start in range(0, len(texts), batch):
                out.extend(classifier.classify_batch(texts[start : start + batch]))
            return out
        return [classifier.classify_text(t) for t in texts]

    for name in sets:  # warm caches, and report what the findings are
        digest = [hashlib.sha256(repr(f).encode()).hexdigest()[:16] for f in run(name, "one")]
        print(json.dumps({"set": name, "digests": digest}), flush=True)
    print(json.dumps({"ready": True, "batch_api": has_batch}), flush=True)
    for line in sys.stdin:
        name, mode = line.split()
        started = time.perf_counter()
        run(name, mode)
        print(json.dumps({"seconds": time.perf_counter() - started}), flush=True)


# --- driver -----------------------------------------------------------------------------------


class Worker:
    def __init__(self, root: Path, rules: Path, texts_file: Path, batch: int, core: int) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                str(root),
                "--rules",
                str(rules),
                "--texts-file",
                str(texts_file),
                "--batch",
                str(batch),
                "--core",
                str(core),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.digests: dict[str, list[str]] = {}
        while True:
            msg = self._read()
            if "set" in msg:
                self.digests[msg["set"]] = msg["digests"]
            if msg.get("ready"):
                self.batch_api = bool(msg["batch_api"])
                break

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"worker exited with {self.proc.wait()}")
        result: dict[str, Any] = json.loads(line)
        return result

    def time(self, name: str, mode: str) -> float:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{name} {mode}\n")
        self.proc.stdin.flush()
        return float(self._read()["seconds"])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def checkout(rev: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", rev, "streams", "schemas", "deploy/policy"],
        check=True,
        capture_output=True,
    ).stdout
    with tempfile.TemporaryFile() as handle:
        handle.write(archive)
        handle.seek(0)
        with tarfile.open(fileobj=handle) as tar:
            tar.extractall(into, filter="data")
    return into


def texts_to_time(corpus: int) -> dict[str, list[str]]:
    sys.path.insert(0, str(ROOT))
    from streams.classify.evaluation import load_cases
    from tests.unit.classify.corpus_sample import corpus_sample

    labelled = [
        case.text
        for name in ("dev", "holdout", "holdout2")
        for case in load_cases(ROOT / f"tests/data/labelled/{name}.jsonl")
    ]
    sets = {"labelled": labelled}
    sample = corpus_sample(corpus) if corpus else []
    if sample:
        sets["corpus"] = sample
    return sets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128, help="comments per classify_batch")
    parser.add_argument("--corpus", type=int, default=1000, help="corpus texts (0: none)")
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    parser.add_argument("--core", type=int, default=None, help="CPU to pin both workers to")
    parser.add_argument(
        "--same-rules",
        action="store_true",
        help="the baseline code runs this tree's policy and word lists (compares engines only)",
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rules", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--texts-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    core = args.core
    if core is None:
        core = sorted(os.sched_getaffinity(0))[0] if hasattr(os, "sched_getaffinity") else 0
    if args.worker is not None:
        worker(args.worker, args.rules or args.worker, args.texts_file, args.batch, core)
        return 0

    sets = texts_to_time(args.corpus)
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(sets), encoding="utf-8")
        base_root = checkout(args.baseline_rev, Path(tmp) / "baseline")
        rules = ROOT if args.same_rules else base_root
        baseline = Worker(base_root, rules, texts_file, args.batch, core)
        current = Worker(ROOT, ROOT, texts_file, args.batch, core)
        seconds: dict[tuple[str, str, str], list[float]] = {}
        for _ in range(args.runs):
            for name in sets:
                # The baseline has no batch API: its one pass serves both columns.
                seconds.setdefault(("baseline", name, "one"), []).append(baseline.time(name, "one"))
                for mode in MODES:
                    seconds.setdefault(("current", name, mode), []).append(current.time(name, mode))
        baseline.close()
        current.close()

    def ms(who: str, name: str, mode: str) -> float:
        return statistics.median(seconds[(who, name, mode)]) / len(sets[name]) * 1e3

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"one core, Python {platform.python_version()}, median of {args.runs} runs, batches of "
        f"{args.batch}, baseline {args.baseline_rev}"
        f"{' on this tree’s rules' if args.same_rules else ''}, load {load:.1f}\n"
    )
    print("| texts | comments | path | ms/comment in batches | ms/comment one at a time |")
    print("|---|---:|---|---:|---:|")
    for name, texts in sets.items():
        base = ms("baseline", name, "one")
        today = f"today's rules ({args.baseline_rev})"
        print(f"| {name} | {len(texts):,} | {today} | {base:.3f} | {base:.3f} |")
        batch, one = ms("current", name, "batch"), ms("current", name, "one")
        print(
            f"| {name} | {len(texts):,} | this tree | {batch:.3f} ({base / batch:.1f}× faster) "
            f"| {one:.3f} ({base / one:.1f}× faster) |"
        )
    same = sum(
        a == b
        for name in sets
        for a, b in zip(baseline.digests[name], current.digests[name], strict=True)
    )
    total = sum(len(t) for t in sets.values())
    print(f"\nsame findings from both: {same:,} of {total:,} comments")
    print(f"command: python bench/bench_classify.py {' '.join(sys.argv[1:])}".rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
