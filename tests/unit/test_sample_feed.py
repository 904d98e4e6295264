"""The sample feed: deterministic, every shape ingestible, and the policy mix it promises."""

from __future__ import annotations

import hashlib
import itertools
import json
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path
from typing import ClassVar

import orjson
import pytest
from jsonschema import Draft202012Validator

from schemas.comment import PLATFORMS, Comment
from schemas.deadletter import ORIGINAL_PREFIX_BYTES, DeadLetter
from streams.normalise.ingest import ingest
from streams.normalise.pseudonymise import Pseudonymiser
from workers.dev.sample_feed import FICTIONAL_STAFF, START_MS, main, sample_envelopes

PSEUDONYMISER = Pseudonymiser(b"sample-feed-test-key")
MAX_BYTES = 64 * 1024
RAW_SCHEMA = Path(__file__).resolve().parents[2] / "schemas" / "json" / "comments.raw.schema.json"


def run(value: bytes) -> Comment | DeadLetter:
    return ingest(
        value, source="comments.raw[0]@0", pseudonymiser=PSEUDONYMISER, max_bytes=MAX_BYTES,
        failed_at_ms=0,
    )  # fmt: skip


@cache
def feed_1000() -> tuple[tuple[bytes, bytes], ...]:
    return tuple(sample_envelopes(1000))


@cache
def comments_1000() -> tuple[Comment, ...]:
    out = []
    for _, value in feed_1000():
        comment = run(value)
        assert isinstance(comment, Comment), comment
        out.append(comment)
    return tuple(out)


def test_same_seed_same_bytes_and_another_seed_differs() -> None:
    assert sample_envelopes(300, seed=11) == sample_envelopes(300, seed=11)
    assert sample_envelopes(300, seed=11) != sample_envelopes(300, seed=12)
    assert sample_envelopes(1000) == list(feed_1000())  # default seed is stable too


def test_exactly_n_messages() -> None:
    for n in (0, 1, 10, 59, 60, 61, 250):
        assert len(sample_envelopes(n)) == n


def test_every_message_ingests_to_a_comment() -> None:
    assert len(comments_1000()) == 1000


def test_every_platform_shape_is_present() -> None:
    counts = Counter(c.platform for c in comments_1000())
    assert set(counts) == set(PLATFORMS)
    assert all(count >= 10 for count in counts.values()), counts


def test_keys_are_platform_and_account_and_match_the_author_key() -> None:
    for (key, _), comment in zip(feed_1000(), comments_1000(), strict=True):
        platform, _, account_id = key.decode().partition(":")
        assert platform == comment.platform
        assert PSEUDONYMISER.author_key(platform, account_id) == comment.author_key
        assert account_id.encode() not in comment.to_bytes()


def test_event_times_start_after_start_ms_and_strictly_increase() -> None:
    times = [c.event_time_ms for c in comments_1000()]
    assert times[0] > START_MS
    assert all(a < b for a, b in itertools.pairwise(times))
    # A working day's worth of traffic, not a burst in one second.
    assert 4 * 3600_000 < times[-1] - times[0] < 12 * 3600_000


def test_start_ms_moves_every_event_time() -> None:
    later = START_MS + 86_400_000
    moved = [run(v) for _, v in sample_envelopes(50, start_ms=later)]
    base = [run(v) for _, v in sample_envelopes(50)]
    for a, b in zip(base, moved, strict=True):
        assert isinstance(a, Comment) and isinstance(b, Comment)
        assert b.event_time_ms - a.event_time_ms == 86_400_000


def test_few_hundred_distinct_texts_across_about_150_authors() -> None:
    comments = comments_1000()
    assert len({c.text for c in comments}) >= 300
    assert 120 <= len({c.author_key for c in comments}) <= 160
    assert len({c.comment_id for c in comments}) == 1000


def test_mostly_ordinary_with_a_few_per_cent_of_each_policy_category() -> None:
    texts = [c.text for c in comments_1000()]

    def share(*needles: str) -> float:
        return sum(any(n in t for n in needles) for t in texts) / len(texts)

    assert 0.01 <= share("f.u.c.k", "sh1t", "fcuk", "Bl00dy", "F u c k", "@rse", "p1ss") <= 0.08
    assert 0.002 <= share("NHS number", "Hospital number", "date of birth") <= 0.06
    assert 0 < share("taken all my tablets", "isn't breathing", "don't want to be here") <= 0.02
    assert 0 < share(*FICTIONAL_STAFF) <= 0.03
    assert 0 < share("https://", "www.", ".example.com") <= 0.05
    assert 0 < share("DM me", "inbox me", "no prescription", "discreet") <= 0.05
    assert 0 < share("burn", "parks.", "smack", "walk away") <= 0.03
    assert 0 < share("send them all back", "Muslim doctor", "drain on the NHS", "Gay nurses",
                     "Trans people") <= 0.03  # fmt: skip
    assert 0 < share("moon landing", "cat pictures", "pub quiz", "5G", "Pineapple") <= 0.04
    questions = share("?")
    assert questions > 0.25


def test_one_account_floods_near_identical_spam() -> None:
    by_author: dict[str, list[Comment]] = defaultdict(list)
    for c in comments_1000():
        if "giveaway" in c.text:
            by_author[c.author_key].append(c)
    assert len(by_author) == 1
    (flood,) = by_author.values()
    assert len(flood) >= 10
    assert flood[-1].event_time_ms - flood[0].event_time_ms < 15 * 60_000


def test_five_lookalike_accounts_copy_paste_one_message() -> None:
    campaign = [c for c in comments_1000() if "#CTMcoverup" in c.text]
    authors = {c.author_key for c in campaign}
    assert len(authors) == 5
    assert {c.author_handle.replace("_", "").replace("l", "i")[:14] for c in campaign} == {
        "justice4nurses"
    }
    # They share a device signal: the linking stage's strongest clue.
    assert len({c.signals for c in campaign}) == 1 and campaign[0].signals


def test_include_bad_adds_one_message_per_ingestion_dead_letter_reason() -> None:
    messages = sample_envelopes(200, include_bad=True)
    assert len(messages) == 205
    outcomes = [(value, run(value)) for _, value in messages]
    dead = [(value, out) for value, out in outcomes if isinstance(out, DeadLetter)]
    assert sorted(out.reason for _, out in dead) == sorted(
        ["invalid_json", "invalid_utf8", "unknown_platform", "missing_field", "oversize"]
    )
    for value, out in dead:
        # A bounded prefix of the original, with what finds and checks the whole of it.
        assert value.startswith(out.original()) and len(out.original()) <= ORIGINAL_PREFIX_BYTES
        assert out.original_length == len(value)
        assert out.original_sha256 == hashlib.sha256(value).hexdigest()
    # The bad ones are added, not swapped in: the rest is the plain feed, in order.
    good = [
        msg for msg, (_, out) in zip(messages, outcomes, strict=True) if isinstance(out, Comment)
    ]
    assert good == sample_envelopes(200)


def test_oversize_message_stays_under_kafkas_default_message_limit() -> None:
    biggest = max(len(v) for _, v in sample_envelopes(20, include_bad=True))
    assert MAX_BYTES < biggest < 1_000_000


def test_every_envelope_matches_the_published_raw_schema() -> None:
    validator = Draft202012Validator(json.loads(RAW_SCHEMA.read_text()))
    for _, value in feed_1000()[:400]:
        validator.validate(orjson.loads(value))


class FakeProducer:
    """Stands in for AIOKafkaProducer: records what main() sends, in order."""

    instances: ClassVar[list[FakeProducer]] = []

    def __init__(self, **config: object) -> None:
        self.config = config
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.calls: list[str] = []
        FakeProducer.instances.append(self)

    async def start(self) -> None:
        self.calls.append("start")

    async def send(self, topic: str, *, value: bytes, key: bytes) -> None:
        self.sent.append((topic, key, value))

    async def flush(self) -> None:
        self.calls.append("flush")

    async def stop(self) -> None:
        self.calls.append("stop")


def test_main_sends_the_sample_in_order_then_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    import aiokafka

    monkeypatch.setattr(aiokafka, "AIOKafkaProducer", FakeProducer)
    FakeProducer.instances.clear()
    argv = ["--count", "25", "--seed", "3", "--bootstrap", "kafka:9092", "--topic", "t.raw"]
    assert main(argv) == 0
    (producer,) = FakeProducer.instances
    assert producer.config["bootstrap_servers"] == "kafka:9092"
    assert producer.calls == ["start", "flush", "stop"]
    assert producer.sent == [("t.raw", k, v) for k, v in sample_envelopes(25, seed=3)]
