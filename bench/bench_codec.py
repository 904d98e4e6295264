"""Typed record decoding (msgspec, issue 18) against untyped JSON parsing, in one run.

    python bench/bench_codec.py [--n 200000]     # from the repository root, installed with -e

The records used to be read with ``orjson.loads`` and ``cls(**d)`` for each nested record,
which checked no types. They are now read with a msgspec decoder per record type, which checks
every field. Both are measured on the sample feed's verdicts in one run: the baseline rebuilds
the old path (parse, then construct with keyword arguments, as ``Verdict.from_dict`` did), so a
ratio at or below 1 means the checked decode costs no more than the unchecked one it replaced.
Encoding: ``Record.to_bytes`` (msgspec) against ``orjson.dumps`` of the same content as a dict.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import orjson

from schemas.comment import Comment
from schemas.verdict import BehaviourFinding, Finding, Verdict
from streams.classify.classifier import Classifier
from streams.normalise.ingest import ingest
from streams.normalise.pseudonymise import Pseudonymiser
from streams.policy import load_policy
from workers.dev.sample_feed import sample_envelopes
from workers.settings import DEFAULT_POLICY


def verdicts(count: int) -> list[Verdict]:
    classifier = Classifier(load_policy(DEFAULT_POLICY))
    pseudonymiser = Pseudonymiser(b"bench-codec-key-0123456789")
    out = []
    for _, raw in sample_envelopes(count):
        comment = ingest(
            raw, source="bench", pseudonymiser=pseudonymiser, max_bytes=1 << 20, failed_at_ms=0
        )
        out.append(Verdict(comment, classifier.classify(comment), "bench"))  # type: ignore[arg-type]
    return out


def unchecked(data: bytes) -> Verdict:
    """The old ``Verdict.from_bytes``: parse, then build with whatever types the JSON had."""
    d = orjson.loads(data)
    return Verdict(
        comment=Comment(**{**d["comment"], "signals": tuple(d["comment"].get("signals", ()))}),
        findings=tuple(Finding(**f) for f in d["findings"]),
        policy_version=d["policy_version"],
        behaviour=tuple(
            BehaviourFinding(**{**b, "comment_ids": tuple(b.get("comment_ids", ()))})
            for b in d.get("behaviour", ())
        ),
    )


def per_call_us(fn: Callable[[Any], object], items: list[Any], n: int) -> float:
    """The fastest of five rounds: the machine is shared, and the minimum is the least noisy."""
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for i in range(n // 5):
            fn(items[i % len(items)])
        rounds.append((time.perf_counter() - started) / (n // 5) * 1e6)
    return min(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200_000)
    args = parser.parse_args()
    records = verdicts(500)
    encoded = [v.to_bytes() for v in records]
    as_dicts = [orjson.loads(b) for b in encoded]
    size = sum(map(len, encoded)) / len(encoded)
    parse = per_call_us(unchecked, encoded, args.n)
    typed = per_call_us(Verdict.from_bytes, encoded, args.n)
    dict_dump = per_call_us(orjson.dumps, as_dicts, args.n)  # type: ignore[arg-type]
    struct_dump = per_call_us(Verdict.to_bytes, records, args.n)  # type: ignore[arg-type]
    print(f"verdicts of {size:.0f} bytes on average, {args.n} calls each")
    print(
        f"decode: unchecked (old) {parse:.2f} us, Verdict.from_bytes {typed:.2f} us, "
        f"ratio {typed / parse:.2f}"
    )
    print(
        f"encode: orjson.dumps(dict) {dict_dump:.2f} us, Verdict.to_bytes {struct_dump:.2f} us, "
        f"ratio {struct_dump / dict_dump:.2f}"
    )


if __name__ == "__main__":
    main()
