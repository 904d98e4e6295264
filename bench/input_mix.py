"""The 3,000-record mix of issue 18: every input answered once, whatever it is.

    python bench/input_mix.py                       # 1,500 good + 1,500 malformed
    python bench/input_mix.py --good 300 --bad 300  # a quicker look

A worker starts in a fresh namespace (it creates its own topics, as in dev mode), then the mix
goes straight to ``comments.raw`` with a plain Kafka client: well-formed Facebook comments and
malformed records of every kind in ``MALFORMED`` (not JSON, wrong types in each required
field, missing fields, unknown platform, empty body, oversize at the pipeline's limit + 1,
~900 KB under the broker's limit, bad UTF-8, nested junk, huge numbers, NUL bytes, a list
where an object belongs, an envelope version, duplicate keys...). Each input's answer (a
decision or a dead letter) is matched back to its ``topic[partition]@offset``; the counts are
inputs answered, lost, answered twice, and whether the worker is alive and ``/readyz`` true.
``tests/integration/test_input_mix.py`` asserts the same counts in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.answers import Message, send, wait_answered  # noqa: E402
from bench.loadgen import text_of  # noqa: E402
from streams.platforms import facebook  # noqa: E402
from workers.dev.local_run import LocalPipeline  # noqa: E402
from workers.dev.sample_feed import START_MS, sample_envelopes  # noqa: E402

SEED = 18
# Just under what a plain client can send to the broker's default message.max.bytes (1 MiB
# plus a little, less the batch's own overhead): the size that once made a dead letter the
# producer refused (issue 18).
NEAR_BROKER_LIMIT = 900 * 1024
DECISION = "decision"


@dataclass(frozen=True, slots=True)
class Input:
    kind: str  # "good" or a MALFORMED name
    key: bytes | None
    value: bytes


def facebook_envelope(n: int, account: str, text: str, at_ms: int) -> dict[str, Any]:
    """A well-formed Facebook comment envelope; ``n`` makes its comment id unique."""
    payload = facebook.sample(
        comment_id=f"1000200030004000_{n}",
        account_id=account,
        name=f"Mix Author {account[-4:]}",
        text=text,
        at_ms=at_ms,
    )
    return {"platform": "facebook", "payload": payload, "context": {"post_text": "Clinics."}}


def sized(envelope: dict[str, Any], size: int) -> bytes:
    """The envelope with its message padded so the whole encoding is exactly ``size`` bytes."""
    padded = orjson.loads(orjson.dumps(envelope))
    padded["payload"]["message"] = ""
    filler = size - len(orjson.dumps(padded))
    if filler < 0:
        raise ValueError(f"the envelope alone is over {size} bytes")
    padded["payload"]["message"] = "thanks " * (filler // 7) + "x" * (filler % 7)
    value = orjson.dumps(padded)
    assert len(value) == size, (len(value), size)
    return value


@dataclass(frozen=True, slots=True)
class Base:
    """What a malformed record is made from: a well-formed envelope and its key."""

    envelope: dict[str, Any]
    key: bytes
    n: int  # the record's index, for ids and variants
    limit: int  # the pipeline's payload limit (MODSTREAM_MAX_PAYLOAD_BYTES)

    @property
    def value(self) -> bytes:
        return orjson.dumps(self.envelope)

    def edited(self, change: Callable[[dict[str, Any]], object]) -> Message:
        copy = orjson.loads(self.value)
        change(copy)
        return self.key, orjson.dumps(copy)

    def replaced(self, old: bytes, new: bytes) -> Message:
        assert old in self.value, old
        return self.key, self.value.replace(old, new, 1)


# Each malformed kind: what the pipeline should answer (a dead-letter reason, or "decision"
# for records that are odd but valid comments) and how to build it.
MALFORMED: dict[str, tuple[str, Callable[[Base], Message]]] = {}


def malformed(
    name: str, answer: str
) -> Callable[[Callable[[Base], Message]], Callable[[Base], Message]]:
    def register(build: Callable[[Base], Message]) -> Callable[[Base], Message]:
        MALFORMED[name] = (answer, build)
        return build

    return register


def _nested(depth: int) -> dict[str, Any]:
    node: dict[str, Any] = {"id": "1"}
    for _ in range(depth):
        node = {"a": node}
    return node


@malformed("cut_off_json", "invalid_json")
def _cut_off(b: Base) -> Message:
    return b.key, b.value[:57]


@malformed("trailing_garbage", "invalid_json")
def _trailing(b: Base) -> Message:
    return b.key, b.value + b" ]x"


@malformed("bad_utf8", "invalid_utf8")
def _bad_utf8(b: Base) -> Message:
    return b.replaced(b"Mix Author", b"Mix Auth\xe9r")  # Latin-1, as a re-encoding connector


@malformed("byte_order_mark", "invalid_json")
def _bom(b: Base) -> Message:
    return b.key, b"\xef\xbb\xbf" + b.value


@malformed("empty_value", "invalid_json")
def _empty(b: Base) -> Message:
    return b.key, b""


@malformed("json_scalar", "invalid_json")
def _scalar(b: Base) -> Message:
    return None, (b"null", b"42", b'"hi"')[b.n % 3]


@malformed("list_not_object", "invalid_json")
def _top_list(b: Base) -> Message:
    return b.key, orjson.dumps([b.envelope])


@malformed("payload_is_list", "invalid_field")
def _payload_list(b: Base) -> Message:
    return b.edited(lambda d: d.update(payload=[d["payload"]]))


@malformed("author_is_string", "invalid_field")
def _author_string(b: Base) -> Message:
    return b.edited(lambda d: d["payload"].update({"from": "someone"}))


@malformed("unknown_platform", "unknown_platform")
def _tiktok(b: Base) -> Message:
    return b"tiktok:1", b.edited(lambda d: d.update(platform="tiktok"))[1]


@malformed("platform_not_string", "unknown_platform")
def _platform_number(b: Base) -> Message:
    return b.edited(lambda d: d.update(platform=7))


@malformed("missing_platform", "missing_field")
def _no_platform(b: Base) -> Message:
    return b.edited(lambda d: d.pop("platform"))


@malformed("missing_author", "missing_field")
def _no_author(b: Base) -> Message:
    return b.edited(lambda d: d["payload"].pop("from"))


@malformed("missing_id", "missing_field")
def _no_id(b: Base) -> Message:
    return b.edited(lambda d: d["payload"].pop("id"))


@malformed("id_not_string", "invalid_field")
def _id_number(b: Base) -> Message:
    return b.edited(lambda d: d["payload"].update(id=10**12 + b.n))


@malformed("message_not_string", "invalid_field")
def _message_list(b: Base) -> Message:
    return b.edited(lambda d: d["payload"].update(message=["a", "b"]))


@malformed("author_id_not_string", "invalid_field")
def _author_id_number(b: Base) -> Message:
    return b.edited(lambda d: d["payload"]["from"].update(id=2**60 + b.n))


@malformed("time_not_string", "invalid_field")
def _time_number(b: Base) -> Message:
    return b.edited(lambda d: d["payload"].update(created_time=1_772_532_000))


@malformed("time_unparseable", "invalid_field")
def _time_words(b: Base) -> Message:
    return b.edited(lambda d: d["payload"].update(created_time="yesterday"))


@malformed("signals_not_list", "invalid_field")
def _signals_string(b: Base) -> Message:
    return b.edited(lambda d: d["context"].update(signals="sha256:ab"))


@malformed("envelope_version", "invalid_field")
def _version(b: Base) -> Message:
    return b.edited(lambda d: d.update(version=2))  # the envelope has no version: unknown key


@malformed("huge_number", "invalid_json")
def _huge(b: Base) -> Message:
    return b.replaced(b'"like_count":0', b'"like_count":1' + b"0" * 400)  # over a double


@malformed("nested_junk", "invalid_field")
def _nested_author(b: Base) -> Message:
    return b.edited(lambda d: d["payload"]["from"].update(id=_nested(200)))


@malformed("deep_brackets", "invalid_json")
def _brackets(b: Base) -> Message:
    return b.key, b'{"platform":"facebook","payload":' + b"[" * 5000


@malformed("nul_byte_raw", "invalid_json")
def _nul_raw(b: Base) -> Message:
    return b.replaced(b"Mix Author", b"Mix\x00Author")  # a control character inside a string


@malformed("just_over_limit", "oversize")
def _over_limit(b: Base) -> Message:
    return b.key, sized(b.envelope, b.limit + 1)


@malformed("near_broker_limit", "oversize")
def _near_broker(b: Base) -> Message:
    return b.key, sized(b.envelope, NEAR_BROKER_LIMIT)


# Odd but valid: each is a comment and gets its decision.


@malformed("empty_message", DECISION)
def _empty_message(b: Base) -> Message:
    return b.edited(lambda d: d["payload"].update(message=""))  # a photo or sticker comment


@malformed("nul_byte_escaped", DECISION)
def _nul_escaped(b: Base) -> Message:
    return b.edited(lambda d: d["payload"].update(message="a\u0000b"))


@malformed("huge_unused_number", DECISION)
def _huge_unused(b: Base) -> Message:
    return b.replaced(b'"like_count":0', b'"like_count":1' + b"0" * 30)  # a double: unread


@malformed("duplicate_keys", DECISION)
def _duplicate_keys(b: Base) -> Message:
    return b.key, b.value.replace(b"{", b'{"platform":"tiktok",', 1)  # the last one counts


@malformed("no_key", DECISION)
def _no_key(b: Base) -> Message:
    return None, b.value


@malformed("key_not_utf8", DECISION)
def _key_not_utf8(b: Base) -> Message:
    return b"facebook:\xff\xfe", b.value


def build_mix(good: int, bad: int, *, limit: int, seed: int = SEED) -> list[Input]:
    """``good`` well-formed Facebook comments and ``bad`` malformed records, the kinds in
    turn, shuffled together; seeded, so a run can be repeated byte for byte."""
    rng = random.Random(seed)
    texts = [
        text_of(orjson.loads(v)).removeprefix("@CTMUHB ") for _, v in sample_envelopes(good, seed)
    ]
    accounts = [str(10**15 + i) for i in range(max(1, good // 5))]
    out: list[Input] = []
    for n, text in enumerate(texts):
        account = rng.choice(accounts)
        envelope = facebook_envelope(n, account, text, START_MS + n * 20_000)
        out.append(Input("good", f"facebook:{account}".encode(), orjson.dumps(envelope)))
    names = list(MALFORMED)
    key = f"facebook:{accounts[0]}".encode()
    for i in range(bad):
        name, n = names[i % len(names)], good + i
        text = "Is the clinic open today?"
        base = Base(facebook_envelope(n, accounts[0], text, START_MS + n * 20_000), key, n, limit)
        out.append(Input(name, *MALFORMED[name][1](base)))
    rng.shuffle(out)
    return out


@dataclass
class MixReport:
    inputs: int
    answered: int  # inputs with at least one answer
    lost: int  # inputs with none
    twice: int  # inputs with more than one answer record
    stray: int  # answers naming no input of the mix (another topic's dead letter, say)
    unexpected: int  # inputs answered otherwise than their kind says (a good one dead-lettered)
    worker_alive: bool
    ready: bool
    seconds: float  # from the first send to the final read-back (a 3 s settle included)
    by_kind: dict[str, Counter[str]] = field(default_factory=dict)  # kind → answers

    @property
    def passed(self) -> bool:
        return (
            self.lost == self.twice == self.stray == self.unexpected == 0
            and self.answered == self.inputs
            and self.worker_alive
            and self.ready
        )

    def lines(self) -> list[str]:
        head = (
            f"inputs {self.inputs}: answered {self.answered}, lost {self.lost}, twice "
            f"{self.twice}, stray {self.stray}, unexpected {self.unexpected}; worker alive "
            f"{self.worker_alive}, /readyz {self.ready}; {self.seconds:.0f} s"
        )
        rows = [
            f"  {kind:22} {sum(c.values()):5}  "
            + ", ".join(f"{a} {n}" for a, n in sorted(c.items()))
            for kind, c in sorted(self.by_kind.items())
        ]
        return [head, *rows]


def expected_answer(kind: str) -> str:
    return DECISION if kind == "good" else MALFORMED[kind][0]


async def run_mix(
    run: LocalPipeline, inputs: list[Input], *, timeout_s: float = 150.0
) -> MixReport:
    """Send the mix to a running worker, wait for its answers and count them."""
    started = time.monotonic()
    sources = await send(run, [(i.key, i.value) for i in inputs])
    got = await wait_answered(run, set(sources), timeout_s=timeout_s)
    seconds = time.monotonic() - started
    answer_of: dict[str, list[str]] = {}
    for d in got.answering():
        answer_of.setdefault(d.source, []).append(DECISION)
    for letter in got.letters:
        answer_of.setdefault(letter.source, []).append(letter.reason)
    by_kind: dict[str, Counter[str]] = {}
    unexpected = 0
    for item, source in zip(inputs, sources, strict=True):
        answers = answer_of.get(source, [])
        by_kind.setdefault(item.kind, Counter()).update(answers or ["lost"])
        unexpected += any(a != expected_answer(item.kind) for a in answers)
    sent = set(sources)
    answered = sum(1 for s in sources if answer_of.get(s))
    worker = run.processes.get("worker")
    return MixReport(
        inputs=len(inputs),
        answered=answered,
        lost=len(inputs) - answered,
        twice=sum(1 for s in sources if len(answer_of.get(s, [])) > 1),
        stray=sum(len(a) for s, a in answer_of.items() if s not in sent),
        unexpected=unexpected,
        worker_alive=worker is not None and worker.poll() is None,
        ready=await run.is_ready(),
        seconds=seconds,
        by_kind=by_kind,
    )


async def main_async(good: int, bad: int, timeout_s: float) -> int:
    run = LocalPipeline(extra_env={"MODSTREAM_WALL_CLOCK_TIMERS": "false"})
    try:
        inputs = build_mix(good, bad, limit=run.settings.max_payload_bytes)
        run.start_worker()  # a fresh namespace: the worker creates its topics (dev mode)
        await run.wait_ready()
        report = await run_mix(run, inputs, timeout_s=timeout_s)
    finally:
        await run.close()
    kinds = len(MALFORMED)
    print(f"[input mix] namespace {run.namespace}; {good} good, {bad} malformed of {kinds} kinds")
    print("\n".join(report.lines()))
    return 0 if report.passed else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--good", type=int, default=1500)
    parser.add_argument("--bad", type=int, default=1500)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for answers")
    args = parser.parse_args(argv)
    return asyncio.run(main_async(args.good, args.bad, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
