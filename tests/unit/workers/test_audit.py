"""audit diff: matching, the reason given for each difference, and reports that escape."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import orjson

from schemas.action import Decision
from schemas.codec import replace
from schemas.verdict import Finding
from streams.enforce.logic import decide, on_timer
from tests.unit.enforce.enforce_builders import CFG, decide_linked, inflammatory, london, verdict
from workers.offline.audit import (
    DETECTOR_CHANGE,
    LINKING_DIFFERENCE,
    POLICY_CHANGE,
    STATE_DIFFERENCE,
    DiffArgs,
    Markdown,
    SourceRange,
    decision_step,
    diff,
    policy_files,
    render_html,
    render_markdown,
    result_json,
    run_diff,
)

TUESDAY_10 = london(2026, 3, 3, 10)


def decided(*clauses: str, comment_id: str = "facebook:c1", version: str = "v1") -> Decision:
    """A real decision from the real decide(): its id follows the real scheme."""
    v = verdict(TUESDAY_10, *clauses, comment_id=comment_id, policy_version=version)
    return decide(None, v, CFG).decision


def noticed(comment_id: str = "facebook:c1", version: str = "v1") -> Decision:
    v = verdict(TUESDAY_10, "abusive", comment_id=comment_id, policy_version=version)
    state = decide(None, v, CFG).state
    deadline = state.next_deadline_ms()
    assert deadline is not None
    return on_timer(state, deadline, CFG).decisions[0]


def test_steps_are_read_off_real_decision_ids() -> None:
    # Pins audit's copy of the id scheme to streams.enforce.logic's.
    assert decision_step(decided("abusive")) == "comment"
    assert decision_step(decided()) == "comment"
    assert decision_step(noticed()) == "noticed"
    assert decision_step(replace(decided(), decision_id="f" * 32)) == "unknown"


def test_identical_decisions_are_not_differences() -> None:
    same = [decided("abusive"), decided(comment_id="facebook:c2"), noticed()]
    result = diff(same, list(same))
    assert result.identical == 3
    assert not result.differs


def test_a_different_policy_version_is_matched_by_comment_and_called_a_policy_change() -> None:
    old = [decided("abusive", version="v1"), decided(comment_id="facebook:c2", version="v1")]
    # c2 is decided the same under v2; c1's abusive finding went with the new version.
    new = [decided(version="v2"), decided(comment_id="facebook:c2", version="v2")]
    result = diff(old, new)
    assert result.equivalent == 1
    [difference] = result.differences
    assert difference.reason == POLICY_CHANGE
    assert difference.recorded.comment_id == difference.replayed.comment_id == "facebook:c1"
    assert not result.only_recorded and not result.only_replayed
    assert result.clause_counts["abusive"] == (1, 0)
    assert result.versions == {"v1": (2, 0), "v2": (0, 2)}


def test_follow_up_decisions_are_matched_step_for_step_across_versions() -> None:
    result = diff([decided("abusive"), noticed()], [decided("abusive", version="v2")])
    # The comment's decisions match (same substance); the notice has no replayed counterpart.
    assert result.equivalent == 1
    assert [decision_step(d) for d in result.only_recorded] == ["noticed"]
    assert not result.differences


def linked_blocks(version: str = "v1") -> list[Decision]:
    """A block for frequent inflammatory posting that reached two linked accounts."""
    v = verdict(
        TUESDAY_10,
        behaviour=(inflammatory(TUESDAY_10, "facebook:c1"),),
        policy_version=version,
    )
    outcome, reached = decide_linked(None, v, CFG, [("author-b", "e"), ("author-c", "e")])
    return [outcome.decision, *reached.decisions]


def test_linked_blocks_are_their_own_step_and_match_across_versions() -> None:
    old, new = linked_blocks("v1"), linked_blocks("v2")
    assert [decision_step(d) for d in old] == ["comment", "linked_block", "linked_block"]
    result = diff(old, new)
    assert result.equivalent == 3 and not result.differences
    assert not result.only_recorded and not result.only_replayed
    # Under one version, a linked block one side lacks is listed on the other's side.
    missing = diff(old, old[:2])
    assert [decision_step(d) for d in missing.only_recorded] == ["linked_block"]
    # ... with its cause named: the two runs' graphs linked the accounts differently.
    assert result_json(missing)["only_recorded_by_cause"] == {LINKING_DIFFERENCE: 1}
    assert "linking difference" in render_markdown(missing)


def test_same_version_other_findings_is_a_detector_change() -> None:
    old = decided("abusive")
    extra = Finding("abusive", "lexicon.profanity", 5, 9, 0.9, "medium", "profanity")
    new = replace(old, findings=(*old.findings, extra))
    [difference] = diff([old], [new]).differences
    assert difference.reason == DETECTOR_CHANGE


def test_same_findings_other_actions_is_a_state_difference() -> None:
    old = decided("abusive")
    new = replace(old, action_kinds=("hide_post",), outcome="actions", action_ids=("x" * 32,))
    [difference] = diff([old], [new]).differences
    assert difference.reason == STATE_DIFFERENCE


def test_a_campaign_notice_sourced_on_an_intermediate_topic_is_equivalent() -> None:
    # Live, a campaign notice names the fingerprint-slice message that revealed it; a replay
    # has no such topic and names the raw input. Nothing else differs: not a difference.
    live = replace(decided(), source="ns.rate_windows.bands[3]@1409")
    replayed = replace(decided(), source="ns.comments.raw[2]@517")
    result = diff([live], [replayed])
    assert result.equivalent == 1 and not result.differs
    # Two raw inputs, though, are two different comments' worth of evidence.
    moved = replace(decided(), source="ns.comments.raw[2]@518")
    [difference] = diff([replayed], [moved]).differences
    assert difference.reason == STATE_DIFFERENCE


def test_unmatched_decisions_are_listed_on_their_side() -> None:
    result = diff([decided(comment_id="facebook:a")], [decided(comment_id="facebook:b")])
    assert [d.comment_id for d in result.only_recorded] == ["facebook:a"]
    assert [d.comment_id for d in result.only_replayed] == ["facebook:b"]
    assert result.differs


HOSTILE = '<script>alert("x")</script> | *bold* & `tick` [link](http://e.vil)'


def hostile_pair() -> tuple[Decision, Decision]:
    old = decided("abusive")
    bad = Finding("abusive", "lexicon.insults", 0, 4, 0.8, "medium", HOSTILE)
    return old, replace(old, findings=(bad,))


def test_html_report_escapes_every_value() -> None:
    old, new = hostile_pair()
    page = render_html(diff([old], [new], recorded_label=HOSTILE))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; | *bold* &amp; `tick`" in page
    # Only the report's own tags remain: every tag in the page is one the renderer writes.
    tags = set(re.findall(r"</?([a-z0-9]+)", page))
    assert tags <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "h1",
        "h2",
        "h3",
        "ul",
        "li",
        "p",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }


def test_markdown_report_escapes_table_cells_and_html() -> None:
    old, new = hostile_pair()
    report = render_markdown(diff([old], [new]))
    assert "<script>" not in report
    row = next(line for line in report.splitlines() if "alert" in line)
    # Every pipe inside the value is escaped, so the row still has exactly 7 cells.
    unescaped_pipes = re.findall(r"(?<!\\)\|", row)
    assert len(unescaped_pipes) == 8, row
    assert Markdown.esc("a|b\nc") == "a\\|b c"
    assert Markdown.esc("<b>") == "\\<b\\>"


def test_reports_list_the_difference_with_both_evidences() -> None:
    old = decided("abusive")
    new = decided(version="v2")
    report = render_markdown(diff([old], [new]))
    section = report.split("## Differing decisions", 1)[1]
    assert "facebook:c1 · comment · policy change" in section
    assert "recorded only | abusive | test.abusive | 0–4" in section
    assert "\\| abusive \\| 1 \\| 0 \\| \\-1" not in report  # counts are real cells, not escaped
    assert "| abusive | 1 | 0 | -1 |" in report


def test_the_json_report_carries_both_sides_of_a_difference_as_json() -> None:
    old = decided("abusive")
    new = replace(old, action_kinds=("hide_post",), outcome="actions", action_ids=("x" * 32,))
    report = orjson.loads(orjson.dumps(result_json(diff([old], [new]))))
    [difference] = report["differences"]
    assert difference["recorded"] == orjson.loads(old.to_bytes())
    assert difference["replayed"]["action_kinds"] == ["hide_post"]


def test_policy_versions_without_a_file_are_called_out(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_bytes(b"name: x\n")
    known = policy_files([tmp_path])
    [(version, path)] = known.items()
    assert path == str(policy)
    result = diff([replace(decided(), policy_version=version), decided(version="gone")], [])
    result.policy_files = known
    report = render_markdown(result)
    assert "No policy file with version gone was found" in report
    assert f"No policy file with version {version}" not in report


def test_the_cli_limits_recorded_decisions_to_the_replayed_range(tmp_path: Path) -> None:
    inside = replace(decided(), source="ns.comments.raw[0]@5")
    outside = replace(decided(comment_id="facebook:c9"), source="ns.comments.raw[0]@50")
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_bytes(inside.to_bytes() + b"\n" + outside.to_bytes() + b"\n")
    run = tmp_path / "run"
    run.mkdir()
    (run / "decisions.jsonl").write_bytes(inside.to_bytes() + b"\n")
    summary = {
        "input": {
            "topic": "ns.comments.raw",
            "ranges": [{"partition": 0, "from_offset": 0, "to_offset": 10}],
        }
    }
    (run / "summary.json").write_bytes(orjson.dumps(summary))
    assert SourceRange.of_replay(run / "decisions.jsonl") is not None
    args = DiffArgs(
        recorded=str(recorded),
        replayed=run / "decisions.jsonl",
        bootstrap=None,
        all=False,
        policy_dir=(tmp_path,),
        format="md",
        max_items=10,
    )
    result, _ = run_diff(args, settings=lambda: (_ for _ in ()).throw(AssertionError("no env")))
    assert result.identical == 1 and not result.differs
    result_all, _ = run_diff(dataclasses.replace(args, all=True))
    assert [d.comment_id for d in result_all.only_recorded] == ["facebook:c9"]


def test_the_replayed_range_covers_the_reviews_read_with_it(tmp_path: Path) -> None:
    # A review's decision names its offset on reviews, not the comment's on comments.raw.
    comment = replace(decided(), source="ns.comments.raw[0]@5")
    reviewed = replace(decided(comment_id="facebook:c2"), source="ns.reviews[1]@3")
    later = replace(decided(comment_id="facebook:c3"), source="ns.reviews[1]@9")
    run = tmp_path / "run"
    run.mkdir()
    summary = {
        "input": {
            "topic": "ns.comments.raw",
            "ranges": [{"partition": 0, "from_offset": 0, "to_offset": 10}],
            "reviews": {
                "topic": "ns.reviews",
                "ranges": [
                    {"partition": 0, "from_offset": 0, "to_offset": 0},
                    {"partition": 1, "from_offset": 2, "to_offset": 4},
                ],
            },
        }
    }
    (run / "summary.json").write_bytes(orjson.dumps(summary))
    scope = SourceRange.of_replay(run / "decisions.jsonl")
    assert scope is not None
    assert [scope.covers(d.source) for d in (comment, reviewed, later)] == [True, True, False]
    assert not scope.covers("ns.reviews[0]@0")  # an empty range covers nothing
    assert scope.describe() == "ns.comments.raw [0] 0..9; ns.reviews [1] 2..3"
