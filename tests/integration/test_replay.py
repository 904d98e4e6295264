"""Replay for audits, through the real broker: a live worker decides a sample feed; replaying the
same range gives the same decisions, byte for byte, every time; a replay under a changed policy
differs from it exactly where the change reaches, and the audit report says so."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from bench.bench_pipeline import wait_quiet
from schemas.action import Action, Decision
from schemas.deadletter import DeadLetter
from streams import topics as specs
from workers.dev.local_run import LocalPipeline
from workers.dev.sample_feed import sample_envelopes
from workers.offline import audit, explain
from workers.offline.audit import LINKED_STEP, POLICY_CHANGE, decision_step
from workers.offline.replay import (
    ACTIONS_FILE,
    DEADLETTERS_FILE,
    DECISIONS_FILE,
    RangeSpec,
    ReplayOptions,
    read_whole_topic,
    replay,
)
from workers.settings import DEFAULT_POLICY

# "A few thousand comments" (the bar): 2,000 is about 14 hours of event time, the flood
# and the copy-paste campaign in it, and about 106 s on two shared cores (live,
# each comment crosses four topics and fans out to eight fingerprint slices; that is the slow
# half). Lower it locally for a quick run; CI runs the default.
COMMENTS = int(os.environ.get("MODSTREAM_REPLAY_TEST_COMMENTS", "2000"))


async def live_decisions(
    pipeline: LocalPipeline, sent: int, timeout_s: float = 150.0
) -> tuple[list[Decision], list[DeadLetter]]:
    """Everything the worker decided: once every input has its outcome, wait until nothing new
    arrives (campaign notices follow the comments' own decisions)."""
    bootstrap = pipeline.settings.kafka_bootstrap
    deadline = time.monotonic() + timeout_s
    settled: tuple[int, int] | None = None
    while time.monotonic() < deadline:
        raw_decisions = await read_whole_topic(bootstrap, pipeline.topic(specs.DECISIONS.name))
        raw_letters = await read_whole_topic(bootstrap, pipeline.topic(specs.DEADLETTER.name))
        decisions = [Decision.from_bytes(v) for _, v, _ in raw_decisions]
        letters = [DeadLetter.from_bytes(v) for _, v, _ in raw_letters]
        answered = sum(decision_step(d) == "comment" for d in decisions) + len(letters)
        counts = (len(decisions), len(letters))
        if answered >= sent and counts == settled:
            return decisions, letters
        if answered >= sent:
            # The cross-author branch runs behind the comments' own decisions, by more than a
            # poll's gap on a busy machine: wait until the worker has gone quiet, then re-read.
            await wait_quiet([pipeline.processes["worker"].pid], quiet_s=5.0)
        settled = counts if answered >= sent else None
        await asyncio.sleep(2)
    raise AssertionError(f"live run incomplete:\n{pipeline.log_of('worker')[-3000:]}")


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines()


def changed_policy(tmp_path: Path) -> Path:
    """The policy with one clause's only detector made unable to fire: personal care."""
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    head, tail = text.split("  - id: personal_care\n", 1)
    tail = tail.replace("threshold: 0.5", "threshold: 0.81", 1)  # its confidence is 0.8
    path = tmp_path / "policy-no-personal-care.yaml"
    path.write_text(f"{head}  - id: personal_care\n{tail}", encoding="utf-8")
    return path


async def test_replay_reproduces_the_live_run_and_explains_a_policy_change(
    pipeline: LocalPipeline,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pipeline.start_worker()
    await pipeline.wait_ready()
    sent = await pipeline.produce(specs.RAW.name, sample_envelopes(COMMENTS, include_bad=True))
    live, live_letters = await live_decisions(pipeline, sent)
    pipeline.stop()  # the replays need the CPU; the topics stay

    def options(out: str, policy: Path = DEFAULT_POLICY) -> ReplayOptions:
        return ReplayOptions(settings=pipeline.settings, policy_path=policy, out_dir=tmp_path / out)

    first = await replay(options("a"))
    second = await replay(options("b"))

    # Deterministic: the same range twice gives the same files, byte for byte.
    for name in (DECISIONS_FILE, ACTIONS_FILE, DEADLETTERS_FILE):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert first["inputs"] == second["inputs"] == sent
    assert first["dead_letters_total"] == 5

    # Faithful: every comment's decision is the live worker's, byte for byte (same ids, same
    # evidence, same source offsets); so is every dead letter's reason and source.
    replayed = [Decision.from_bytes(line) for line in lines(tmp_path / "a" / DECISIONS_FILE)]
    # Every author's, linked accounts' included: a block's own decision does not depend on
    # how far the live linking branch had caught up, and the blocks of the accounts linked to
    # it are decisions of their own, the same whichever came first, the block or the cluster
    # membership (docs/replay.md, "Linked accounts' blocks").
    replayed_own = {d.to_bytes() for d in replayed if decision_step(d) == "comment"}
    live_own = {d.to_bytes() for d in live if decision_step(d) == "comment"}
    assert replayed_own == live_own
    # Which accounts a block reached follows which accounts the identity graph linked, and the
    # graph is a function of its signals, whatever order the partitions interleaved in live
    # (docs/replay.md, "Linking in event time"): the same linked blocks, byte for byte.
    linked = {d.to_bytes() for d in live if decision_step(d) == LINKED_STEP}
    assert {d.to_bytes() for d in replayed if decision_step(d) == LINKED_STEP} == linked
    # And their actions, with the chain of links each cites as of its block's event time.
    live_actions = await read_whole_topic(
        pipeline.settings.kafka_bootstrap, pipeline.topic(specs.ACTIONS.name)
    )
    live_linked = {v for _, v, _ in live_actions if Action.from_bytes(v).linked_evidence}
    replayed_linked = {
        line
        for line in lines(tmp_path / "a" / ACTIONS_FILE)
        if Action.from_bytes(line).linked_evidence
    }
    assert replayed_linked == live_linked
    # And so is every decision a copy-paste campaign caused, however the fingerprint slices'
    # partitions interleaved live: the same comments, the same bytes.
    campaign_step = "behaviour:cross_author_spamming"
    live_campaign = {d.to_bytes() for d in live if decision_step(d) == campaign_step}
    assert len(live_campaign) >= 5, "the sample feed holds a campaign across five accounts"
    assert {d.to_bytes() for d in replayed if decision_step(d) == campaign_step} == live_campaign
    letters = [DeadLetter.from_bytes(line) for line in lines(tmp_path / "a" / DEADLETTERS_FILE)]
    assert {(x.reason, x.stage, x.source) for x in letters} == {
        (x.reason, x.stage, x.source) for x in live_letters
    }
    assert all(x.original_b64 == "" for x in letters)  # the bytes stay on the broker
    # Never the production actions topic: replay's actions are only in its own file.
    actions = [Action.from_bytes(line) for line in lines(tmp_path / "a" / ACTIONS_FILE)]
    assert {a.decision_id for a in actions} <= {d.decision_id for d in replayed}

    # The audit of live against replay: nothing differs, campaign notices included.
    args = audit.parse_args(
        [
            "diff",
            "--recorded",
            pipeline.namespace,
            "--replayed",
            str(tmp_path / "a" / DECISIONS_FILE),
        ]
    )
    # The command-line tools run their own event loop: call them as a shell would, off ours.
    same, _ = await asyncio.to_thread(audit.run_diff, args, lambda: pipeline.settings)
    assert same.identical >= COMMENTS + len(live_campaign) + len(linked)
    assert not same.differences
    assert not same.only_recorded
    assert not same.only_replayed

    # Half a range, with the first half read only to build up state: the second half's
    # decisions are the live ones, as if the replay had started from the beginning.
    half = {str(r["partition"]): r["to_offset"] // 2 for r in first["input"]["ranges"]}
    warm = ReplayOptions(
        settings=pipeline.settings,
        policy_path=DEFAULT_POLICY,
        out_dir=tmp_path / "half",
        range=RangeSpec(
            from_offsets={int(p): o for p, o in half.items()}, warmup_offsets={None: 0}
        ),
    )
    halved = await replay(warm)
    assert halved["warmup_inputs"] + halved["inputs"] == sent
    args = audit.parse_args(
        [
            "diff",
            "--recorded",
            pipeline.namespace,
            "--replayed",
            str(tmp_path / "half" / DECISIONS_FILE),
        ]
    )
    second_half, _ = await asyncio.to_thread(audit.run_diff, args, lambda: pipeline.settings)
    assert second_half.identical >= halved["inputs"] - halved["dead_letters_total"]
    assert all(d.step.startswith("behaviour:") for d in second_half.differences)

    # A changed policy: personal care can no longer be found. The report shows exactly that.
    changed = await replay(options("c", changed_policy(tmp_path)))
    assert changed["policy"]["version"] != first["policy"]["version"]
    report_path = tmp_path / "diff.html"
    status = audit.main(
        [
            "diff",
            "--recorded",
            str(tmp_path / "a" / DECISIONS_FILE),
            "--replayed",
            str(tmp_path / "c" / DECISIONS_FILE),
            "--format",
            "html",
            "--out",
            str(report_path),
        ]
    )
    assert status == 1  # something differs
    args = audit.parse_args(
        [
            "diff",
            "--recorded",
            str(tmp_path / "a" / DECISIONS_FILE),
            "--replayed",
            str(tmp_path / "c" / DECISIONS_FILE),
        ]
    )
    result, markdown = audit.run_diff(args)
    before = {d.comment_id for d in replayed if "personal_care" in d.clauses}
    assert before, "the sample feed has personal-care comments"
    assert {d.recorded.comment_id for d in result.differences} == before
    assert not result.only_recorded and not result.only_replayed
    for difference in result.differences:
        assert difference.reason == POLICY_CHANGE
        old, new = difference.recorded, difference.replayed
        # Only the personal-care evidence went; everything else found is found again.
        assert [f for f in old.findings if f.clause != "personal_care"] == list(new.findings)
        assert "personal_care" not in new.clauses
    changed_clauses = {c for c, (a, b) in result.clause_counts.items() if a != b}
    assert changed_clauses == {"personal_care"}
    changed_actions = {k for k, (a, b) in result.action_counts.items() if a != b}
    assert "redirect_personal_care" in changed_actions
    assert changed_actions <= {"redirect_personal_care", "queue_human_review"}
    assert result.equivalent == len(replayed) - len(before)
    html_page = report_path.read_text(encoding="utf-8")
    assert html_page.count("· policy change</h3>") == len(before)
    assert "## Decisions per clause" in markdown

    # explain: one comment's trail from the live audit topic, with its evidence and offsets.
    # As an operator would run it, with the pipeline's environment (here: the dev keys).
    monkeypatch.setenv("MODSTREAM_DEV_MODE", "true")
    monkeypatch.setenv("MODSTREAM_KAFKA_BOOTSTRAP", pipeline.settings.kafka_bootstrap)
    subject = min(before)
    capsys.readouterr()
    status = await asyncio.to_thread(explain.main, [subject, "--namespace", pipeline.namespace])
    assert status == 0
    out = capsys.readouterr().out
    trail = [d for d in live if d.comment_id == subject]
    assert f"{len(trail)} decision(s)" in out
    assert "personal_care: pattern.own_care at [" in out
    assert trail[0].source in out and trail[0].policy_version in out
    assert "redirect_personal_care" in out
    assert re.search(r"due \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", out)  # read from the actions topic
    assert Counter(decision_step(d) for d in trail)["comment"] == 1
