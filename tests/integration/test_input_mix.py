"""Issue 18's 3,000-record mix through the real broker: 1,500 well-formed Facebook comments and
1,500 malformed records of every kind in ``bench.input_mix.MALFORMED``, produced straight to
``comments.raw`` with a plain client, to a worker in a fresh namespace. Every input gets
exactly one answer (its decision or its dead letter, matched by ``topic[partition]@offset``),
of the kind it should, and the worker is alive and ready afterwards.

``python bench/input_mix.py`` runs the same mix and prints the counts (docs/operations.md).
"""

from __future__ import annotations

import pytest

from bench.input_mix import MALFORMED, build_mix, run_mix
from workers.dev.local_run import LocalPipeline

pytestmark = pytest.mark.timeout(300)

GOOD = BAD = 1500


async def test_the_3000_record_mix_gets_one_answer_each_and_the_worker_stays_up(
    fresh: LocalPipeline,
) -> None:
    inputs = build_mix(GOOD, BAD, limit=fresh.settings.max_payload_bytes)
    assert len({i.kind for i in inputs}) == len(MALFORMED) + 1 >= 15  # good + 14 kinds or more
    fresh.start_worker()  # before its topics exist: it creates them (dev mode)
    await fresh.wait_ready()
    report = await run_mix(fresh, inputs, timeout_s=180)
    print("\n[input mix] " + "\n".join(report.lines()))

    assert report.inputs == GOOD + BAD
    assert report.lost == 0, report.by_kind
    assert report.twice == 0
    assert report.stray == 0
    assert report.unexpected == 0, report.by_kind
    assert report.answered == GOOD + BAD
    assert report.worker_alive, fresh.log_of("worker")[-3000:]
    assert report.ready, "/readyz is not true after the mix"
    assert report.by_kind["good"] == {"decision": GOOD}
