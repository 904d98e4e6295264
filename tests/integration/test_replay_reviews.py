"""Replay of a range in which a moderator rejected a hide: the review on ``reviews`` is read
with the comments, in record-timestamp order, and handed to the step live enforcement ran on
it, so the undo comes back byte for byte, the author's next comment is decided on the same
state, and ``audit diff`` finds nothing. Without the reviews (``--no-reviews``) it would find
the reviewer's decision missing, which is the gap this closes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench.bench_pipeline import wait_quiet
from schemas.action import Action, Decision
from streams import topics as specs
from tests.integration.envelopes import T0_MS, facebook
from tests.unit.workers.test_offline_reviews import rejecting
from workers.console.kafka_io import KafkaReviewSink
from workers.dev.local_run import LocalPipeline
from workers.offline import audit
from workers.offline.replay import (
    ACTIONS_FILE,
    DECISIONS_FILE,
    RangeSpec,
    ReplayOptions,
    read_whole_topic,
    replay,
)
from workers.settings import DEFAULT_POLICY

MIN = 60_000
ADVERT = "Lip fillers from £80, book now at Glam Aesthetics Pontypridd"
ACCOUNT = "4471"
Got = dict[str, list[tuple[bytes | None, bytes]]]


def _actions(got: Got) -> list[Action]:
    return [Action.from_bytes(v) for _, v in got[specs.ACTIONS.name]]


async def _diff(pipeline: LocalPipeline, decisions: Path, *more: str) -> audit.DiffResult:
    argv = ["diff", "--recorded", pipeline.namespace, "--replayed", str(decisions), *more]
    # The command-line tools run their own event loop: call them as a shell would, off ours.
    result, _ = await asyncio.to_thread(
        audit.run_diff, audit.parse_args(argv), lambda: pipeline.settings
    )
    return result


async def test_replay_reproduces_a_moderators_undo_and_what_followed(
    pipeline: LocalPipeline, tmp_path: Path
) -> None:
    pipeline.start_worker()
    await pipeline.wait_ready()
    worker = [pipeline.processes["worker"].pid]

    # Live: the advert is hidden (and its author limited); a moderator rejects the hide.
    await pipeline.produce(specs.RAW.name, [facebook(ACCOUNT, "Glam", 1, ADVERT, T0_MS)])
    got = await pipeline.collect(
        [specs.ACTIONS.name],
        until=lambda g: any(a.kind == "hide_post" for a in _actions(g)),
        timeout_s=90,
    )
    hide = next(a for a in _actions(got) if a.kind == "hide_post")
    sink = KafkaReviewSink(pipeline.settings)  # the console's own writer
    await sink.start()
    try:
        await sink.send(rejecting(hide, T0_MS + 20 * MIN))
    finally:
        await sink.stop()
    await pipeline.collect(
        [specs.ACTIONS.name],
        until=lambda g: any(a.kind == "unhide_post" for a in _actions(g)),
        timeout_s=90,
    )
    # The author posts again after the review: decided on the state the review left.
    await pipeline.produce(specs.RAW.name, [facebook(ACCOUNT, "Glam", 2, ADVERT, T0_MS + 30 * MIN)])
    await pipeline.collect_outcomes(2)
    await wait_quiet(worker, quiet_s=3.0)
    bootstrap = pipeline.settings.kafka_bootstrap
    live = {
        v for _, v, _ in await read_whole_topic(bootstrap, pipeline.topic(specs.DECISIONS.name))
    }
    live_actions = {
        v for _, v, _ in await read_whole_topic(bootstrap, pipeline.topic(specs.ACTIONS.name))
    }
    pipeline.stop()
    assert sum(Decision.from_bytes(v).trigger == "review" for v in live) == 1

    def options(out: str, **more: object) -> ReplayOptions:
        return ReplayOptions(
            settings=pipeline.settings,
            policy_path=DEFAULT_POLICY,
            out_dir=tmp_path / out,
            timers_until="none",
            **more,  # type: ignore[arg-type]
        )

    # The whole range: every live decision and action, the undo included, byte for byte.
    summary = await replay(options("all"))
    assert (summary["inputs"], summary["reviews"]) == (3, 1)
    assert summary["actions"]["unhide_post"] == 1
    replayed = set((tmp_path / "all" / DECISIONS_FILE).read_bytes().splitlines())
    assert replayed == live
    assert set((tmp_path / "all" / ACTIONS_FILE).read_bytes().splitlines()) == live_actions
    result = await _diff(pipeline, tmp_path / "all" / DECISIONS_FILE)
    assert result.identical == len(live)
    assert not result.differs

    # The second comment alone, the rest read as warm-up: the review builds up state (the
    # case it overturned) and writes nothing; the comment's decision is still the live one.
    raw_partition = next(r["partition"] for r in summary["input"]["ranges"] if r["to_offset"] == 2)
    half = await replay(
        options(
            "half",
            range=RangeSpec(from_offsets={raw_partition: 1}, warmup_offsets={raw_partition: 0}),
        )
    )
    assert (half["inputs"], half["reviews"], half["warmup_inputs"]) == (1, 0, 2)
    result = await _diff(pipeline, tmp_path / "half" / DECISIONS_FILE)
    assert result.identical >= 1 and not result.differs

    # Without the reviews (as before this change) the reviewer's decision and its undo are
    # missing; the audit's range, which then covers no reviews, hid that unless asked --all.
    without = await replay(options("without", reviews=False))
    assert without["reviews"] == 0 and "unhide_post" not in without["actions"]
    result = await _diff(pipeline, tmp_path / "without" / DECISIONS_FILE, "--all")
    assert [d.trigger for d in result.only_recorded] == ["review"]
