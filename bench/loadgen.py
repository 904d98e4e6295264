"""Load for ``comments.raw``: a realistic mix, at a target rate or as fast as possible.

    python bench/loadgen.py --count 20000                      # as fast as possible
    python bench/loadgen.py --rate 400 --seconds 60            # paced
    python bench/loadgen.py --rate 400 --seconds 60 --namespace run1234abcd --authors 200000

The texts and platform shapes come from ``workers.dev.sample_feed`` (a pool of its envelopes,
restamped), so what the pipeline parses is what the sample feed and the tests send. What this
adds for load:

- a long tail of authors: author ranks follow a Zipf law over ``--authors`` accounts (a few
  regulars post a lot, most post once), or every message from a new account (``fresh``);
- a chosen share of comments that touch a policy clause (default 4 %), sampled from the pool
  split by what the real classifier says about each pooled text;
- bursts: now and then one account floods near-identical posts, or five accounts paste one
  text (a campaign), as the rate-window stage exists to catch;
- optionally a share of malformed messages (poison pills), one of each ingestion reason in turn.

Generation is seeded and separate from sending, so a run can build its messages before the
clock starts and the generator costs the measured processes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from workers.dev.sample_feed import sample_envelopes  # noqa: E402
from workers.kafka_clients import kafka_options  # noqa: E402
from workers.settings import Settings  # noqa: E402

Message = tuple[bytes, bytes]
PLATFORM_WEIGHTS = (
    ("facebook", 40),
    ("x", 25),
    ("instagram", 15),
    ("youtube", 10),
    ("linkedin", 10),
)
BAD_KINDS = ("invalid_json", "invalid_utf8", "unknown_platform", "missing_field", "not_object")
_PLATFORM_BY_PERCENT = [p for p, w in PLATFORM_WEIGHTS for _ in range(w)]
_TWITTER_EPOCH_MS = 1_288_834_974_657
ZIPF_OFFSET = 50
SHORT_WORDS = 6  # the cross-author stage never indexes shorter texts
SHORT_SHARE = 0.2


@dataclass(frozen=True, slots=True)
class Mix:
    authors: int = 50_000  # accounts in the long tail
    zipf_s: float = 1.0  # rank weight 1 / (rank + ZIPF_OFFSET) ** zipf_s
    violation_share: float = 0.04  # comments the classifier flags
    burst_every: int = 2_500  # one flood or campaign per this many comments, on average
    bad_share: float = 0.0  # malformed messages
    fresh_authors: bool = False  # every comment from a new account (memory per author)


@dataclass(frozen=True, slots=True)
class _Pooled:
    platform: str
    envelope: bytes  # orjson of the sample envelope, restamped per message
    flagged: bool


def _classified_pool(seed: int, size: int) -> list[_Pooled]:
    """Sample envelopes, each labelled by the real classifier under the shipped policy."""
    from schemas.deadletter import DeadLetter
    from streams.normalise.ingest import ingest
    from streams.normalise.pseudonymise import Pseudonymiser
    from streams.policy import parse_policy
    from streams.stage_configs import build_stage_configs

    settings = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
    policy = parse_policy(Path(settings.policy_path).read_bytes())
    classifier = build_stage_configs(policy, settings.registry_path).classifier
    pseudonymiser = Pseudonymiser(settings.pseudonym_key)
    pool: list[_Pooled] = []
    for i, (_, value) in enumerate(sample_envelopes(size, seed)):
        comment = ingest(
            value,
            source=f"pool[0]@{i}",
            pseudonymiser=pseudonymiser,
            max_bytes=settings.max_payload_bytes,
            failed_at_ms=0,
        )
        if isinstance(comment, DeadLetter):
            continue
        flagged = bool(classifier.classify(comment))
        pool.append(_Pooled(comment.platform, value, flagged))
    return pool


def _iso(ms: int, fmt: str) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime(fmt)


def _account_id(platform: str, n: int) -> str:
    # Shaped like each platform's ids, and unique per (platform, n).
    if platform == "facebook":
        return str(10**15 + n)
    if platform == "x":
        return str(10**9 + n)
    if platform == "instagram":
        return f"178414{10**10 + n}"
    if platform == "linkedin":
        return f"urn:li:person:L{n:09d}"
    return f"UC{n:022d}"


def restamp(
    envelope: dict[str, Any], *, account: str, seq: int, event_ms: int, text: str | None = None
) -> dict[str, Any]:
    """Give a sample envelope a new author, a unique comment id and an event time (in place)."""
    platform = envelope["platform"]
    p = envelope["payload"]
    if platform == "facebook":
        p["id"] = f"{p['id'].split('_')[0]}_{seq}"
        p["from"]["id"] = account
        p["created_time"] = _iso(event_ms, "%Y-%m-%dT%H:%M:%S+0000")
        if text is not None:
            p["message"] = text
    elif platform == "x":
        d = p["data"]
        tweet_id = str(((event_ms - _TWITTER_EPOCH_MS) << 22) | (seq & 0x3FFFFF))
        d["id"] = tweet_id
        d["edit_history_tweet_ids"] = [tweet_id]
        d["author_id"] = account
        d["created_at"] = _iso(event_ms, "%Y-%m-%dT%H:%M:%S.000Z")
        p["includes"]["users"][0]["id"] = account
        if text is not None:
            d["text"] = text
    elif platform == "instagram":
        p["id"] = str(17 * 10**16 + seq)
        p["from"]["id"] = account
        p["timestamp"] = _iso(event_ms, "%Y-%m-%dT%H:%M:%S+0000")
        if text is not None:
            p["text"] = text
    elif platform == "linkedin":
        urn = f"urn:li:comment:({p['object']},{seq})"
        p["$URN"] = p["commentUrn"] = urn
        p["actor"] = p["created"]["actor"] = p["lastModified"]["actor"] = account
        p["created"]["time"] = p["lastModified"]["time"] = event_ms
        if text is not None:
            p["message"]["text"] = text
    else:  # youtube
        top = p["snippet"]["topLevelComment"]
        comment_id = f"Ugz{seq:019d}4AaABAg"
        p["id"] = top["id"] = comment_id
        s = top["snippet"]
        s["authorChannelId"]["value"] = account
        s["publishedAt"] = s["updatedAt"] = _iso(event_ms, "%Y-%m-%dT%H:%M:%SZ")
        if text is not None:
            s["textOriginal"] = s["textDisplay"] = text
    return envelope


def text_of(envelope: dict[str, Any]) -> str:
    p = envelope["payload"]
    platform = envelope["platform"]
    if platform == "facebook":
        return str(p["message"])
    if platform == "x":
        return str(p["data"]["text"])
    if platform == "instagram":
        return str(p["text"])
    if platform == "linkedin":
        return str(p["message"]["text"])
    return str(p["snippet"]["topLevelComment"]["snippet"]["textOriginal"])


class LoadGenerator:
    """An endless, seeded stream of raw messages; ``take(n)`` builds the next ``n``."""

    def __init__(
        self,
        mix: Mix = Mix(),
        *,
        seed: int = 11,
        start_ms: int | None = None,
        event_rate: float = 50.0,
        pool_size: int = 2_000,
    ) -> None:
        self.mix = mix
        self._rng = random.Random(seed)
        self._seq = itertools.count(1)
        self._fresh = itertools.count(mix.authors + 1)
        self._event_ms = float(start_ms if start_ms is not None else time.time() * 1000)
        # Event time advances at the rate the stream describes, whatever the speed it is sent
        # at: a load test at a hundred times a board's real rate should not squeeze a day of
        # comments into ten minutes of event time, where every window would trip.
        self._gap_ms = 1000.0 / event_rate
        pool = _classified_pool(seed, pool_size)
        self._shapes: dict[str, list[bytes]] = {}
        texts: dict[bool, set[str]] = {True: set(), False: set()}
        for item in pool:
            self._shapes.setdefault(item.platform, []).append(item.envelope)
            text = text_of(orjson.loads(item.envelope)).removeprefix("@CTMUHB ")
            texts[item.flagged].add(text)
        self._flagged = sorted(texts[True])
        self._short = sorted(t for t in texts[False] if len(t.split()) < SHORT_WORDS)
        self._long = sorted(t for t in texts[False] if len(t.split()) >= SHORT_WORDS)
        self._words = sorted({w for t in self._long for w in t.split() if w.isalpha()})
        # Zipf-Mandelbrot ranks: a long tail, with the heaviest posters in the tens of posts
        # per thousand comments rather than one account posting a tenth of everything.
        weights = [1.0 / (rank + ZIPF_OFFSET) ** mix.zipf_s for rank in range(mix.authors)]
        self._cum = list(itertools.accumulate(weights))
        self._next_burst = self._burst_gap()
        self._bad = itertools.cycle(BAD_KINDS)
        self.counts = {"comments": 0, "flagged": 0, "bursts": 0, "bad": 0}

    # - public -

    def take(self, n: int) -> list[Message]:
        out: list[Message] = []
        while len(out) < n:
            out.extend(self._next())
        return out[:n]

    def __iter__(self) -> Iterator[Message]:
        while True:
            yield from self._next()

    # - internals -

    def _burst_gap(self) -> int:
        every = self.mix.burst_every
        return self._rng.randint(every // 2, every * 3 // 2) if every > 0 else 1 << 62

    def _tick(self) -> int:
        self._event_ms += self._gap_ms
        return int(self._event_ms)

    def _author(self) -> tuple[str, str]:
        if self.mix.fresh_authors:
            n = next(self._fresh)
        else:
            n = bisect.bisect_left(self._cum, self._rng.random() * self._cum[-1]) + 1
        # Which platform an account is on is a property of the account, not of the draw.
        platform = _PLATFORM_BY_PERCENT[(n * 2_654_435_761) % 100]
        return platform, _account_id(platform, n)

    def _text(self, flagged: bool) -> str:
        """People write their own comments: a sentence or two from the pool and words of their
        own, or one short reply. Pooled sentences alone, from thousands of accounts, would read
        as copy-paste campaigns (the cross-author stage would be right to say so), which real
        comment sections are not; the words of their own keep two comments that share a
        sentence further apart than a near-copy."""
        rng = self._rng
        own = " ".join(rng.sample(self._words, rng.randint(6, 10)))
        if flagged:
            parts = [rng.choice(self._flagged), own]
        elif rng.random() < SHORT_SHARE:
            return rng.choice(self._short)
        else:
            parts = [*(rng.choice(self._long) for _ in range(rng.choice((1, 2, 2)))), own]
        rng.shuffle(parts)
        return " ".join(parts)

    def _message(self, platform: str, account: str, text: str, *, flagged: bool) -> Message:
        envelope = orjson.loads(self._rng.choice(self._shapes[platform]))
        restamp(envelope, account=account, seq=next(self._seq), event_ms=self._tick(), text=text)
        self.counts["comments"] += 1
        self.counts["flagged"] += flagged
        return f"{platform}:{account}".encode(), orjson.dumps(envelope)

    def _next(self) -> list[Message]:
        self._next_burst -= 1
        if self._next_burst <= 0:
            self._next_burst = self._burst_gap()
            self.counts["bursts"] += 1
            return self._flood() if self._rng.random() < 0.5 else self._campaign()
        if self.mix.bad_share and self._rng.random() < self.mix.bad_share:
            return [self._malformed()]
        platform, account = self._author()
        flagged = self._rng.random() < self.mix.violation_share
        return [self._message(platform, account, self._text(flagged), flagged=flagged)]

    def _flood(self) -> list[Message]:
        platform, account = self._author()
        text = self._text(False)
        return [
            self._message(platform, account, text + "!" * (i % 3), flagged=False) for i in range(12)
        ]

    def _campaign(self) -> list[Message]:
        text = self._text(False)
        accounts = [self._author() for _ in range(5)]
        return [
            self._message(platform, account, f"{text} #share{'!' * i}", flagged=False)
            for i in range(2)
            for platform, account in accounts
        ]

    def _malformed(self) -> Message:
        kind = next(self._bad)
        self.counts["bad"] += 1
        platform, account = self._author()
        key = f"{platform}:{account}".encode()
        good = orjson.loads(self._rng.choice(self._shapes[platform]))
        restamp(good, account=account, seq=next(self._seq), event_ms=self._tick())
        if kind == "invalid_json":
            return key, orjson.dumps(good)[:40]
        if kind == "invalid_utf8":
            return key, orjson.dumps(good).replace(b"{", b"{\xff", 1)
        if kind == "unknown_platform":
            return b"tiktok:1", orjson.dumps({"platform": "tiktok", "payload": {"id": "1"}})
        if kind == "missing_field":
            good["payload"] = {}
            return key, orjson.dumps(good)
        return key, orjson.dumps([good])  # a JSON array where an object belongs


# --- sending --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sent:
    partition: int
    offset: int
    timestamp_ms: int


def producer_options(settings: Settings) -> dict[str, Any]:
    # Big batches and a little linger: the load generator should never be the bottleneck.
    return {
        **kafka_options(settings),
        "acks": "all",
        "linger_ms": 5,
        "max_batch_size": 256 * 1024,
    }


async def send_all(settings: Settings, topic: str, messages: Sequence[Message]) -> float:
    """Send as fast as the broker takes them; returns the seconds it took."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(**producer_options(settings))
    await producer.start()
    started = time.perf_counter()
    try:
        futures = [await producer.send(topic, key=k, value=v) for k, v in messages]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return time.perf_counter() - started


async def send_paced(
    settings: Settings, topic: str, messages: Sequence[Message], rate: float
) -> list[Sent]:
    """Send at ``rate`` messages per second (in 10 ms steps), or with ``rate`` 0 as fast as the
    broker takes them; returns where each one landed.

    The record timestamp (CreateTime) is the moment of sending, which is what latency is
    measured from."""
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(**{**producer_options(settings), "linger_ms": 1})
    await producer.start()
    futures = []
    try:
        started = time.perf_counter()
        i = 0
        while i < len(messages):
            due = (
                min(len(messages), int((time.perf_counter() - started) * rate) + 1)
                if rate > 0
                else len(messages)
            )
            while i < due:
                k, v = messages[i]
                futures.append(await producer.send(topic, key=k, value=v))
                i += 1
            await asyncio.sleep(0.01)
        metadata = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [Sent(m.partition, m.offset, m.timestamp) for m in metadata]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="messages, when no --rate")
    parser.add_argument("--rate", type=float, default=0.0, help="messages/s (0: flat out)")
    parser.add_argument("--seconds", type=float, default=30.0, help="with --rate: how long")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--authors", type=int, default=Mix().authors)
    parser.add_argument("--violation-share", type=float, default=Mix().violation_share)
    parser.add_argument("--bad-share", type=float, default=0.0)
    parser.add_argument("--fresh-authors", action="store_true")
    parser.add_argument("--namespace", default="", help="the run's namespace (topic prefix)")
    parser.add_argument("--topic", default="comments.raw")
    args = parser.parse_args(argv)

    env = {"MODSTREAM_DEV_MODE": "true", **os.environ}
    if args.namespace:
        env["MODSTREAM_NAMESPACE"] = args.namespace
    settings = Settings.from_env(env)
    mix = Mix(
        authors=args.authors,
        violation_share=args.violation_share,
        bad_share=args.bad_share,
        fresh_authors=args.fresh_authors,
    )
    count = int(args.rate * args.seconds) if args.rate else args.count
    gen = LoadGenerator(mix, seed=args.seed)
    built = time.perf_counter()
    messages = gen.take(count)
    print(f"built {len(messages)} messages in {time.perf_counter() - built:.1f}s: {gen.counts}")
    topic = settings.topic(args.topic)
    if args.rate:
        sent = asyncio.run(send_paced(settings, topic, messages, args.rate))
        span_s = (sent[-1].timestamp_ms - sent[0].timestamp_ms) / 1000 if sent else 0.0
        print(f"sent {len(sent)} to {topic} over {span_s:.1f}s")
    else:
        took = asyncio.run(send_all(settings, topic, messages))
        print(f"sent {len(messages)} to {topic} in {took:.1f}s ({len(messages) / took:,.0f}/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
