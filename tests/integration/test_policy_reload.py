"""Hot policy reload through the real broker: a new valid version takes effect while comments
flow, an invalid one is refused, and no input goes without a decision."""

from __future__ import annotations

import asyncio
from collections import Counter

from streams import topics as specs
from streams.policy import parse_policy
from workers.dev.local_run import LocalPipeline
from workers.dev.sample_feed import sample_envelopes
from workers.settings import DEFAULT_POLICY


async def test_new_policy_version_applies_without_restart_and_nothing_is_lost() -> None:
    original = DEFAULT_POLICY.read_bytes()
    run = LocalPipeline(extra_env={"MODSTREAM_WALL_CLOCK_TIMERS": "false"})
    policy_file = run.rundir / "policy.yaml"
    policy_file.write_bytes(original)
    run.env["MODSTREAM_POLICY"] = str(policy_file)
    run.env["MODSTREAM_POLICY_POLL_MS"] = "300"
    await run.create_topics()
    try:
        run.start_worker()
        await run.wait_ready()
        feed = sample_envelopes(400, include_bad=True)
        first, second = feed[:200], feed[200:]
        old_version = parse_policy(original).version

        await run.produce(specs.RAW.name, first)
        early = await run.collect_outcomes(len(first))
        assert len(early.decisions) + len(early.dead_letters) == len(first)

        # A broken file is refused: the running version stays.
        policy_file.write_bytes(b"name: broken\nclauses: {}\n")
        await asyncio.sleep(1.5)
        changed = original + b"\n# reviewed change: wording only\n"
        new_version = parse_policy(changed).version
        policy_file.write_bytes(changed)
        await asyncio.sleep(1.5)  # several polls

        await run.produce(specs.RAW.name, second)
        outcomes = await run.collect_outcomes(len(feed))
    finally:
        await run.close()

    decisions, letters = outcomes.decisions, outcomes.dead_letters
    assert len({d.comment_id for d in decisions}) + len(letters) == len(feed)
    versions = Counter(d.policy_version for d in decisions)
    assert set(versions) == {old_version, new_version}, versions
    # The first half was decided before the change, the second half after it.
    assert versions[old_version] + versions[new_version] == len(decisions)
    # (each half holds at most the feed's five malformed inputs, which get no decision)
    assert versions[old_version] >= len(first) - 5
    assert versions[new_version] >= len(second) - 5
    assert "policy refused" in run.log_of("worker")
