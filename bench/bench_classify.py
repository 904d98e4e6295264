"""The classifier's cost per comment, today's rules engine and this tree side by side.

    python bench/bench_classify.py                     # labelled sets + 1,000 corpus texts, 5 runs
    python bench/bench_classify.py --corpus 0 --runs 3
    python bench/bench_classify.py --baseline-rev HEAD~3
    python bench/bench_classify.py --same-rules           # the baseline runs this tree's policy
    python bench/bench_classify.py --findings-only --corpus all   # findings vs --before-rev

Worker processes, pinned to the same single core, each build their classifier once and then
time passes on request, taking turns, so load from other processes on this shared machine falls
on all alike:

- ``baseline``: the tree at ``--baseline-rev`` (by default the last commit before the one-scan
  prefilter, issue 16) with its own policy and word lists, i.e. today's rules as they ran;
  it has no batch API, so its batch figure is ``classify`` in a loop;
- ``before``: the tree at ``--before-rev`` (by default the last commit before the latest speed
  pass of issue 16 item 7) on this tree's policy, word lists and artefacts;
- ``this tree``: ``classify_batch`` on batches of ``--batch`` comments, and ``classify_one``
  one at a time. Both give a comment's findings under the languages it is written in
  (``before`` does the same with ``classify_text`` after ``identify``).

Figures are milliseconds of CPU time per comment (``--wall``: wall time), the median of
``--runs`` passes, with the ratio to the baseline measured in the same run. The texts are the
labelled sets (short comments written for this project) and a seeded random sample of the public
corpora (real posts, some long). The last lines count the comments whose findings differ between
``before`` and this tree, by path and set, byte for byte (every field of every finding), and
list the first few by clause; ``--findings-only --corpus all`` does that, untimed, over every
corpus text. Against the baseline they differ where the policy changed since (all of them match
with ``--same-rules`` only where the policy has not gained detectors since).
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
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
# The classifier before the latest speed pass of issue 16 item 7 (the fourth: the models scored
# for the whole batch in numpy; ef2025d before the third, 90b0d95 before the second): timed
# beside this tree, and its findings compared.
BEFORE_REV = "61f5ca2"
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

    one = _one_at_a_time(classifier)

    def run(name: str, mode: str) -> list[Any]:
        texts = sets[name]
        if mode == "batch" and has_batch:
            out: list[Any] = []
            for start in range(0, len(texts), batch):
                out.extend(classifier.classify_batch(texts[start : start + batch]))
            return out
        return [one(t) for t in texts]

    for name in sets:  # warm caches, and report what the findings are, by both paths
        for mode in MODES:
            found = run(name, mode)
            print(json.dumps({"set": name, "mode": mode, "findings": [_key(f) for f in found]}))
    print(json.dumps({"ready": True, "batch_api": has_batch}), flush=True)
    for line in sys.stdin:
        name, mode = line.split()
        started, cpu = time.perf_counter(), time.process_time()
        run(name, mode)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(json.dumps({"seconds": wall, "cpu": cpu}), flush=True)


def _one_at_a_time(classifier: Any) -> Any:
    """The tree's one-comment call that gives the batch's findings: ``classify_one`` where
    there is one; before it, ``classify_text`` under the identified languages (what
    ``classify`` and ``classify_batch`` did); before language identification, ``classify_text``."""
    if hasattr(classifier, "classify_one"):
        return classifier.classify_one
    try:
        from streams.language import identify
    except ImportError:
        return classifier.classify_text
    if "languages" not in inspect.signature(classifier.classify_text).parameters:
        return classifier.classify_text  # a tree with the module but no languages yet
    return lambda text: classifier.classify_text(text, "", identify(text).languages)


def _key(findings: Any) -> str:
    """A comment's findings as the comparison reads them: the clauses found, then a digest of
    every field of every finding (so "same" is byte-identical)."""
    clauses = "+".join(sorted({f.clause for f in findings})) or "-"
    return f"{clauses} {hashlib.sha256(repr(findings).encode()).hexdigest()[:16]}"


# --- driver -----------------------------------------------------------------------------------


class Worker:
    def __init__(
        self, root: Path, rules: Path, texts_file: Path, batch: int, core: int, cpu: bool = True
    ) -> None:
        self.cpu = cpu  # time the passes in CPU time (else wall time)
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
        self.findings: dict[tuple[str, str], list[str]] = {}
        while True:
            msg = self._read()
            if "set" in msg:
                self.findings[(msg["set"], msg["mode"])] = msg["findings"]
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
        answer = self._read()
        return float(answer["cpu" if self.cpu else "seconds"])

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


def texts_to_time(corpus: int | None, every_set: bool = False) -> dict[str, list[str]]:
    """The labelled sets, and ``corpus`` seeded random corpus texts (None: every one);
    ``every_set`` adds the sets not timed (holdout3 and the Welsh sets, where language
    identification decides most), for the findings comparison."""
    sys.path.insert(0, str(ROOT))
    from streams.classify.evaluation import load_cases
    from tests.unit.classify.corpus_sample import corpus_sample, corpus_texts

    labelled = [
        case.text
        for name in ("dev", "holdout", "holdout2")
        for case in load_cases(ROOT / f"tests/data/labelled/{name}.jsonl")
    ]
    sets = {"labelled": labelled}
    if every_set:
        sets["welsh+holdout3"] = [
            case.text
            for name in ("welsh", "welsh_holdout", "holdout3")
            for case in load_cases(ROOT / f"tests/data/labelled/{name}.jsonl")
        ]
    sample = corpus_texts() if corpus is None else corpus_sample(corpus) if corpus else []
    if sample:
        sets["corpus"] = sample
    return sets


def compare(
    sets: dict[str, list[str]], before: Worker, after: Worker, label: str, show: int = 20
) -> list[str]:
    """Lines saying how many comments got other findings from ``after`` than from ``before``,
    by path (batch, one at a time) and set, and the first ``show`` of them by clause."""
    lines = []
    for mode in MODES:
        for name, texts in sets.items():
            old, new = before.findings[(name, mode)], after.findings[(name, mode)]
            differ = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
            lines.append(
                f"{label}, {mode}: {len(differ):,} of {len(texts):,} {name} comments differ"
            )
            for i in differ[:show]:
                was, now = old[i].split()[0], new[i].split()[0]
                lines.append(f"  {name}[{i}] clauses {was} -> {now}")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128, help="comments per classify_batch")
    parser.add_argument(
        "--corpus", default="1000", help="corpus texts (0: none; all: every one, findings only)"
    )
    parser.add_argument("--baseline-rev", default=BASELINE_REV)
    parser.add_argument(
        "--before-rev",
        default=BEFORE_REV,
        help="the classifier before the change measured, timed and compared alongside ('': none)",
    )
    parser.add_argument(
        "--wall",
        action="store_true",
        help="wall time instead of the workers' CPU time (which leaves out the turns other "
        "processes take on the core: this machine is shared)",
    )
    parser.add_argument("--core", type=int, default=None, help="CPU to pin both workers to")
    parser.add_argument(
        "--same-rules",
        action="store_true",
        help="the baseline code runs this tree's policy and word lists (compares engines only)",
    )
    parser.add_argument(
        "--findings-only",
        action="store_true",
        help="no timing: compare this tree's findings with --before-rev's (both paths)",
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

    sets = texts_to_time(None if args.corpus == "all" else int(args.corpus), args.findings_only)
    if args.corpus == "all" and not args.findings_only:
        parser.error("--corpus all is for --findings-only (timing 86k texts takes hours)")
    if args.findings_only and not args.before_rev:
        parser.error("--findings-only compares with --before-rev")
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(sets), encoding="utf-8")
        workers: dict[str, Worker] = {}
        if args.before_rev:
            before_root = checkout(args.before_rev, Path(tmp) / "before")
            workers["before"] = Worker(
                before_root, ROOT, texts_file, args.batch, core, not args.wall
            )
        workers["current"] = Worker(ROOT, ROOT, texts_file, args.batch, core, not args.wall)
        if args.findings_only:
            for process in workers.values():
                process.close()
            for line in compare(sets, workers["before"], workers["current"], "this tree"):
                print(line)
            print(f"before: {args.before_rev} on this tree's policy and word lists")
            print(f"command: python bench/bench_classify.py {' '.join(sys.argv[1:])}".rstrip())
            return 0
        base_root = checkout(args.baseline_rev, Path(tmp) / "baseline")
        rules = ROOT if args.same_rules else base_root
        workers["baseline"] = Worker(base_root, rules, texts_file, args.batch, core, not args.wall)
        seconds: dict[tuple[str, str, str], list[float]] = {}
        for _ in range(args.runs):
            for name in sets:
                # The baseline has no batch API: its one pass serves both columns.
                seconds.setdefault(("baseline", name, "one"), []).append(
                    workers["baseline"].time(name, "one")
                )
                for who in ("before", "current"):
                    if who in workers:
                        for mode in MODES:
                            seconds.setdefault((who, name, mode), []).append(
                                workers[who].time(name, mode)
                            )
        for process in workers.values():
            process.close()

    def ms(who: str, name: str, mode: str) -> float:
        return statistics.median(seconds[(who, name, mode)]) / len(sets[name]) * 1e3

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"one core, Python {platform.python_version()}, median of {args.runs} runs, batches of "
        f"{args.batch}, baseline {args.baseline_rev}"
        f"{' on this tree’s rules' if args.same_rules else ''}, load {load:.1f}, "
        f"{'wall' if args.wall else 'CPU'} time\n"
    )
    print("| texts | comments | path | ms/comment in batches | ms/comment one at a time |")
    print("|---|---:|---|---:|---:|")
    for name, texts in sets.items():
        base = ms("baseline", name, "one")
        today = f"today's rules ({args.baseline_rev})"
        print(f"| {name} | {len(texts):,} | {today} | {base:.3f} | {base:.3f} |")
        paths = [("before", f"before ({args.before_rev})")] if "before" in workers else []
        for who, label in [*paths, ("current", "this tree")]:
            batch, one = ms(who, name, "batch"), ms(who, name, "one")
            print(
                f"| {name} | {len(texts):,} | {label} | {batch:.3f} ({base / batch:.1f}× "
                f"faster) | {one:.3f} ({base / one:.1f}× faster) |"
            )
    print()
    if "before" in workers:
        for line in compare(sets, workers["before"], workers["current"], "this tree", show=5):
            print(line)
    for line in compare(sets, workers["baseline"], workers["current"], "vs baseline", show=0):
        print(line)
    print(f"command: python bench/bench_classify.py {' '.join(sys.argv[1:])}".rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
