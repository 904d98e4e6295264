"""Where per-author window state lives: a partition-local table versus Redis, measured.

The rate-windows stage reads and writes one author's state per event. This bench replays the
same access pattern (get state bytes, run the real ``observe``, put state bytes) against:
  - a local key-value store (a dict: what a Faust table's in-memory store does; RocksDB adds
    a local write, no network),
  - Redis, one GET + SET round trip per event,
  - Redis pipelined, 100 events per round trip (the best Redis can do for a stream stage,
    and only safe when the batch has no repeated author).
Figures are events/s with the in-process store as the baseline of the same run.

    python bench/bench_state_store.py [--events 20000] [--authors 5000] [--redis redis://127.0.0.1:6390/0]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import orjson
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from schemas.comment import Comment
from schemas.verdict import Verdict
from streams.rate_windows.config import WindowConfig
from streams.rate_windows.logic import AuthorWindows, observe

TEXTS = [
    "What time does the minor injuries unit close on Saturdays please?",
    "Thank you to the midwives, they were brilliant with us",
    "Parking at the hospital is a nightmare again this morning",
    "Is the blood test clinic still walk-in or do I need to book?",
]


def verdicts(n: int, authors: int, seed: int = 3) -> list[Verdict]:
    rng = random.Random(seed)
    out = []
    t = 1_772_532_000_000
    for i in range(n):
        t += rng.randint(100, 2000)
        author = f"a{int(rng.paretovariate(1.2)) % authors:06d}"
        text = rng.choice(TEXTS)
        c = Comment(
            f"x:{i}", "x", author, "n", "h", "p", "", t, text, text.lower(), "", f"raw[0]@{i}"
        )
        out.append(Verdict(c, (), "v1"))
    return out


def step(stored: bytes | None, v: Verdict, cfg: WindowConfig) -> bytes:
    state = AuthorWindows.from_dict(orjson.loads(stored)) if stored else AuthorWindows()
    new_state, _, _ = observe(state, v, cfg)
    return orjson.dumps(new_state.to_dict())


def run_local(vs: list[Verdict], cfg: WindowConfig) -> float:
    store: dict[str, bytes] = {}
    started = time.process_time(), time.perf_counter()
    for v in vs:
        k = v.comment.author_key
        store[k] = step(store.get(k), v, cfg)
    return len(vs) / (time.perf_counter() - started[1])


def run_redis(vs: list[Verdict], cfg: WindowConfig, url: str, batch: int) -> float:
    r = redis.Redis.from_url(url)
    prefix = f"bench:{time.time_ns()}:"
    started = time.perf_counter()
    i = 0
    while i < len(vs):
        chunk = vs[i : i + batch]
        keys = [prefix + v.comment.author_key for v in chunk]
        values = [r.get(keys[0])] if batch == 1 else r.mget(keys)
        pipe = r.pipeline(transaction=False)
        for key, value, v in zip(keys, values, chunk, strict=True):
            pipe.set(key, step(value, v, cfg), ex=600)
        pipe.execute()
        i += batch
    elapsed = time.perf_counter() - started
    for key in r.scan_iter(prefix + "*", count=1000):
        r.delete(key)
    return len(vs) / elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--authors", type=int, default=5_000)
    ap.add_argument("--redis", default="redis://127.0.0.1:6390/0")
    args = ap.parse_args()
    cfg = WindowConfig()
    vs = verdicts(args.events, args.authors)
    local = run_local(vs, cfg)
    one = run_redis(vs, cfg, args.redis, 1)
    piped = run_redis(vs, cfg, args.redis, 100)
    print("| store | events/s | ratio to local |\n|---|---:|---:|")
    for name, rate in (
        ("local table store", local),
        ("Redis GET+SET per event", one),
        ("Redis pipelined x100", piped),
    ):
        print(f"| {name} | {rate:,.0f} | {rate / local:.2f} |")


if __name__ == "__main__":
    main()
