"""Throughput and memory of the per-author rate windows, against a dict-increment baseline.

    python bench/bench_rate_windows.py                    # 100 000 authors (about 30 s)
    python bench/bench_rate_windows.py --authors 1000000  # about 2.4 M events (several minutes)

The stream is a long tail, as comment sections are: about two thirds of authors post once,
a sixth twice, and a few post hundreds of times in bursts (and repeat themselves). Events
arrive in event-time order with up to two minutes of jitter, and one in a thousand is hours
late. Every rate runs on one core over the same pre-built verdicts; ratios are against a
dict increment per event keyed by author (the least any per-author count can cost).
Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import itertools
import platform
import random
import resource
import statistics
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from schemas.comment import Comment
from schemas.verdict import Finding, Verdict
from streams.rate_windows.config import WindowConfig
from streams.rate_windows.fingerprint import fingerprint, first_common_band, hamming
from streams.rate_windows.logic import AuthorWindows, expire, observe

DAY_MS = 86_400_000
CHUNK = 20_000  # verdicts built per timed batch, so 1M authors never hold every verdict at once
MEMORY_SAMPLE_AUTHORS = 5_000
_VOCABULARY = (
    "the a to and of in is it for on that this my was with you have are be not at but they "
    "we so all just can if no what been an or do there about when out up from will one had "
    "staff nurse nurses doctor gp hospital ward clinic appointment waiting list weeks months "
    "hours phone call answer letter results scan test blood vaccine booster flu covid a&e "
    "ambulance paramedic maternity mental health cancer parking car park food visiting mum "
    "dad nan son daughter husband wife care treatment pain operation surgery referral "
    "consultant physio dentist pharmacy prescription royal glamorgan prince charles princess "
    "wales merthyr rhondda bridgend pontypridd cardiff valleys health board thank thanks "
    "brilliant amazing wonderful kind helpful shocking disgrace unacceptable disgusting why "
    "how where who please help anyone know open closed closing today tomorrow yesterday "
    "again still never always every night morning weekend monday friday new unit centre"
)
WORDS = _VOCABULARY.split()
INFLAMMATORY_SHARE = 0.05
LATE_SHARE = 0.001


def author_post_counts(rng: random.Random, authors: int) -> list[int]:
    # Pareto(1.5) floored: P(1) ~ 0.65, P(2) ~ 0.16, mean ~ 2.4, capped at a heavy poster.
    return [min(int(rng.paretovariate(1.5)), 400) for _ in range(authors)]


def text_pool(rng: random.Random, size: int) -> list[str]:
    out = []
    for _ in range(size):
        words = rng.choices(WORDS, k=rng.randint(6, 45))
        out.append(" ".join(words).capitalize() + rng.choice(("", "!", "?", " 😡", "!!")))
    return out


def schedule(
    rng: random.Random, counts: list[int], events: int | None
) -> list[tuple[int, int, int]]:
    """(arrival order key, author index, event time) for every post, in arrival order."""
    out = []
    for author, n in enumerate(counts):
        t = rng.randrange(DAY_MS)
        for _ in range(n):
            # Heavy posters come in bursts (seconds to minutes apart), others hours apart.
            t += int(rng.expovariate(1 / (90_000 if n >= 10 else 3 * 3_600_000)))
            arrival = t + rng.randrange(120_000)  # up to 2 min out of order
            if rng.random() < LATE_SHARE:
                arrival += 6 * 3_600_000  # delivered hours after it was posted
            out.append((arrival, author, t))
    out.sort()
    return out[:events] if events else out


def verdict_batches(
    rng: random.Random, plan: list[tuple[int, int, int]], keys: list[str], texts: list[str]
) -> Iterator[list[Verdict]]:
    abusive = (Finding("abusive", "lexicon.profanity", 0, 4, 0.9, "medium"),)
    favourite: dict[int, str] = {}
    for start in range(0, len(plan), CHUNK):
        batch = []
        for i, (_, author, t) in enumerate(plan[start : start + CHUNK], start=start):
            text = rng.choice(texts)
            if rng.random() < 0.3:
                # Repeat posters paste the same message again, sometimes with a small edit.
                text = favourite.setdefault(author, text) + rng.choice(("", "", "!", " please"))
            comment = Comment(
                comment_id=f"facebook:{1032847561928374 + author}_{1187462039485721 + i}",
                platform="facebook",
                author_key=keys[author],
                author_name="",
                author_handle="",
                post_id="facebook:1032847561928374",
                post_text="",
                event_time_ms=1_767_225_600_000 + t,
                text=text,
                normalised=text.lower(),
                lang="en",
                source=f"comments.verdicts[0]@{i}",
            )
            findings = abusive if rng.random() < INFLAMMATORY_SHARE else ()
            batch.append(Verdict(comment, findings, "bench"))
        yield batch


def timed(fn: Callable[[list[Verdict]], None], batch: list[Verdict]) -> float:
    start = time.perf_counter()
    fn(batch)
    return time.perf_counter() - start


def run(authors: int, events: int | None, seed: int) -> None:
    cfg = WindowConfig()
    # First, while the RSS high-water mark can still move with the states it builds.
    memory = memory_per_author(seed, cfg)
    rng = random.Random(seed)
    plan = schedule(rng, author_post_counts(rng, authors), events)
    keys = author_keys(authors)
    texts = text_pool(rng, 20_000)

    baseline: dict[str, int] = {}
    states: dict[str, AuthorWindows] = {}
    kinds: Counter[str] = Counter()
    late = 0
    empty = AuthorWindows()

    def dict_increment(batch: list[Verdict]) -> None:
        for v in batch:
            key = v.comment.author_key
            baseline[key] = baseline.get(key, 0) + 1

    def fingerprint_only(batch: list[Verdict]) -> None:
        for v in batch:
            fingerprint(v.comment.normalised)

    def observe_in_memory(batch: list[Verdict]) -> None:
        nonlocal late
        for v in batch:
            key = v.comment.author_key
            states[key], found, stats = observe(states.get(key, empty), v, cfg)
            late += stats.late
            kinds.update(f.kind for f in found)

    def state_codec(batch: list[Verdict]) -> None:
        # What a RocksDB-backed table adds per event: decode the stored value, encode the new.
        for v in batch:
            raw = orjson.dumps(states[v.comment.author_key].to_dict())
            AuthorWindows.from_dict(orjson.loads(raw))

    steps = {
        "dict increment (baseline)": dict_increment,
        "fingerprint only (part of observe)": fingerprint_only,
        "observe, state held as objects": observe_in_memory,
        "state decode + encode (orjson)": state_codec,
    }
    seconds = dict.fromkeys(steps, 0.0)
    n = 0
    for batch in verdict_batches(rng, plan, keys, texts):
        n += len(batch)
        for name, fn in steps.items():
            seconds[name] += timed(fn, batch)
    production = "observe + decode + encode (a table's path)"
    seconds[production] = (
        seconds["observe, state held as objects"] + seconds["state decode + encode (orjson)"]
    )

    base_rate = n / seconds["dict increment (baseline)"]
    print(f"\n### Rate windows: {authors:,} authors, {n:,} events (seed {seed})\n")
    print(f"Python {platform.python_version()} on {platform.machine()}, one core.\n")
    print("| step | events/s | slower than baseline |")
    print("|---|---:|---:|")
    for name in seconds:
        rate = n / seconds[name]
        print(f"| {name} | {rate:,.0f} | {base_rate / rate:,.0f}× |")

    sizes = sorted(len(orjson.dumps(s.to_dict())) for s in states.values())
    last_ms = max(t for _, _, t in plan) + 1_767_225_600_000
    left = sum(not expire(s, last_ms + 2 * DAY_MS, cfg).is_empty() for s in states.values())
    print("\n| per tracked author | value |")
    print("|---|---:|")
    print(f"| authors with state at end of stream | {len(states):,} |")
    print(f"| serialised state, mean bytes (orjson) | {statistics.fmean(sizes):,.0f} |")
    print(f"| serialised state, median / p99 / max bytes | {_percentiles(sizes)} |")
    print(f"| serialised table total, MB | {sum(sizes) / 1e6:,.1f} |")
    print(
        f"| Python heap per author, bytes (tracemalloc, {memory[0]:,} authors) | {memory[1]:,.0f} |"
    )
    print(f"| RSS growth per author, bytes (ru_maxrss, same sample) | {memory[2]:,.0f} |")
    print(f"| authors left after expire(now + 2 days) | {left:,} |")
    print(f"\nFindings: {dict(sorted(kinds.items()))}; late events: {late:,}.")


def memory_per_author(seed: int, cfg: WindowConfig) -> tuple[int, float, float]:
    """(authors, traced heap bytes per author, peak RSS growth per author) on a small sample."""
    rng = random.Random(seed + 1)
    plan = schedule(rng, author_post_counts(rng, MEMORY_SAMPLE_AUTHORS), None)
    verdicts = [
        v
        for batch in verdict_batches(
            rng, plan, author_keys(MEMORY_SAMPLE_AUTHORS), text_pool(rng, 2_000)
        )
        for v in batch
    ]
    empty = AuthorWindows()

    def build() -> dict[str, AuthorWindows]:
        states: dict[str, AuthorWindows] = {}
        for v in verdicts:
            key = v.comment.author_key
            states[key], _, _ = observe(states.get(key, empty), v, cfg)
        return states

    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    states = build()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    authors = len(states)
    del states
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    states = build()
    gc.collect()
    traced = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(states) == authors
    return authors, traced / authors, rss_growth / authors


def author_keys(authors: int) -> list[str]:
    # Shaped like streams.normalise.pseudonymise keys: 32 hex characters.
    return [hashlib.blake2b(str(a).encode(), digest_size=16).hexdigest() for a in range(authors)]


def _percentiles(sizes: list[int]) -> str:
    median = sizes[len(sizes) // 2]
    p99 = sizes[min(len(sizes) - 1, int(len(sizes) * 0.99))]
    return f"{median:,} / {p99:,} / {sizes[-1]:,}"


# Comments of the kind the board's pages get, for the fingerprint-quality table.
COMMENTS = (
    "Thank you so much to all the staff at the Royal Glamorgan for looking after my mum last week",
    "When will the new minor injuries unit open? I have been waiting for weeks and nobody answers",
    "Save our A&E! Sign the petition now and share with everyone you know",
    "Why is the waiting list for hip replacements still over two years in this health board",
    "The car parking at Prince Charles Hospital is a disgrace, nowhere to park for an hour",
    "My dad waited eleven hours in an ambulance outside the emergency department last night",
    "Is the flu vaccine clinic at Keir Hardie open on Saturday mornings this month",
    "Brilliant news about the new cancer centre, well done to everyone involved in the project",
    "The phone line for booking blood tests has been engaged all morning, is there another number",
    "Can anyone tell me if visiting hours have changed on the children's ward at Princess of Wales",
    "Absolutely shocking that the maternity unit is closing at weekends, where are women to go",
    "Thank you to the district nurses who came out to see my nan every day, they were wonderful",
    "The GP out of hours service told me to go to A&E and then A&E sent me back to the GP",
    "How do I make a complaint about the treatment my brother received on ward twelve last month",
    "Great to see the health board investing in mental health services for young people at last",
    "Why does it take six weeks to get a letter with results that the consultant already has",
    "Staff at the vaccination centre in Merthyr were friendly and everything ran on time today",
    "Please stop closing community hospitals, people in the valleys cannot travel to Cardiff",
    "The new app for ordering repeat prescriptions keeps crashing when I try to log in",
    "Does the physiotherapy department at Ysbyty Cwm Rhondda have a walk in service",
    "I have been trying to get a dentist appointment for over a year, nobody is taking patients",
    "Fair play to the paramedics who helped my neighbour after her fall on Sunday afternoon",
    "This health board wastes money on management consultants while nurses go without breaks",
    "Where can I get a covid booster if I am housebound and cannot get to the clinic",
    "The food on the stroke ward was cold every single day my mother was in there",
    "Lovely to see the garden at the hospice looking so beautiful, thanks to all the volunteers",
    "Why was the chemotherapy appointment cancelled with only one day notice, this is unacceptable",
    "We need more mental health beds in the valleys, people are being sent to England for care",
    "Can you confirm whether the sexual health clinic in Pontypridd is still running on Tuesdays",
    "Shout out to the porters and cleaners, the unsung heroes of every hospital in Wales",
)


def small_edit(rng: random.Random, text: str) -> str:
    """One edit a person re-posting a message by hand, or dodging a filter, might make."""
    words = text.split()
    i = rng.randrange(len(words))
    match rng.randrange(6):
        case 0 if len(words[i]) > 3:  # a typo: one letter dropped
            j = rng.randrange(len(words[i]))
            words[i] = words[i][:j] + words[i][j + 1 :]
        case 1:
            words.insert(i, rng.choice(("really", "please", "just", "so")))
        case 2:
            words.append(rng.choice(("😡", "👍", "🙏", "!!!", "??")))
        case 3:
            return text.upper()
        case 4:
            del words[i]
        case _ if i + 1 < len(words):
            words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def fingerprint_quality(seed: int, cfg: WindowConfig) -> None:
    rng = random.Random(seed)
    k = cfg.near_duplicate_max_distance
    simhash = {t: fingerprint(t).simhash for t in COMMENTS}
    unrelated = sorted(
        hamming(simhash[a], simhash[b]) for a, b in itertools.combinations(COMMENTS, 2)
    )
    copies = []
    for text in COMMENTS:
        for _ in range(30):
            edited = text
            for _ in range(rng.choice((1, 1, 2))):
                edited = small_edit(rng, edited)
            copies.append((simhash[text], fingerprint(edited).simhash))
    apart = sorted(hamming(a, b) for a, b in copies)

    def found(bands: int) -> float:
        hits = sum(
            hamming(a, b) <= k and first_common_band(a, b, bands) is not None for a, b in copies
        )
        return hits / len(copies)

    print(f"\n### Fingerprints: {len(COMMENTS)} comments, {len(copies)} edited copies\n")
    print("| measure | value |")
    print("|---|---:|")
    print(
        f"| unrelated pairs ({len(unrelated)}): min / 1st pct / mean bits apart | "
        f"{unrelated[0]} / {unrelated[len(unrelated) // 100]} / {statistics.fmean(unrelated):.1f} |"
    )
    print(
        f"| copies with 1-2 edits: median / 90th pct / max bits apart | "
        f"{apart[len(apart) // 2]} / {apart[len(apart) * 9 // 10]} / {apart[-1]} |"
    )
    near = sum(d <= k for d in apart) / len(apart)
    print(f"| copies within k = {k} (per-author spamming) | {near:.0%} |")
    print(f"| unrelated pairs within k = {k} | {sum(d <= k for d in unrelated)} |")
    for bands in (4, 8):
        print(f"| copies found cross-author with {bands} bands | {found(bands):.0%} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--authors", type=int, default=100_000, help="distinct authors")
    parser.add_argument("--events", type=int, default=None, help="cap on events (default: all)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    fingerprint_quality(args.seed, WindowConfig())
    run(args.authors, args.events, args.seed)


if __name__ == "__main__":
    main()
