"""The reviewer CLI: explain a pair from a snapshot, record splits, refuse bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.identity import LinkOverride
from streams.linking.config import LinkingConfig
from streams.linking.graph import IdentityGraph
from workers.offline.linking_cli import main, read_overrides

from .linking_builders import T0, strong_pair

A, B, C = "author-a", "author-b", "author-c"


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    graph = IdentityGraph(LinkingConfig())
    for s in [*strong_pair(A, B), *strong_pair(B, C)]:
        graph.add(s)
    path = tmp_path / "graph.json"
    path.write_bytes(graph.to_bytes())
    return path


def test_explain_prints_the_trail(snapshot: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", B, A, "--graph", str(snapshot)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Accounts {A} and {B}\n")
    assert "Verdict: LINKED" in out and "- writing_style" in out


def test_split_appends_a_decision_and_explain_honours_it(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overrides = tmp_path / "overrides.jsonl"
    common = ["--reviewer", "comms-team-7", "--overrides", str(overrides)]
    assert main(["split", B, A, "--reason", "siblings", "--at-ms", str(T0), *common]) == 0
    assert f"recorded split of {A} and {B} by comms-team-7" in capsys.readouterr().out
    second = ["split", A, C, "--reason", "not the same", "--at-ms", str(T0 + 1)]
    assert main([*second, "--graph", str(snapshot), *common]) == 0
    effect = capsys.readouterr().out
    assert f"{A}: linked to no other account" in effect
    assert f"{C}: in a cluster of 2 with {B}" in effect
    decisions = read_overrides(overrides)
    assert decisions == [
        LinkOverride(A, B, "split", "comms-team-7", "siblings", T0),
        LinkOverride(A, C, "split", "comms-team-7", "not the same", T0 + 1),
    ]
    assert main(["explain", A, B, "--graph", str(snapshot), "--overrides", str(overrides)]) == 0
    out = capsys.readouterr().out
    assert "a reviewer split this pair" in out and "siblings" in out


def test_split_without_at_ms_stamps_the_decision(tmp_path: Path) -> None:
    overrides = tmp_path / "overrides.jsonl"
    args = ["split", A, B, "--reason", "r", "--reviewer", "me", "--overrides", str(overrides)]
    assert main(args) == 0
    assert read_overrides(overrides)[0].at_ms > T0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["split", A, A, "--reason", "r", "--reviewer", "me"], "two different author keys"),
        (["split", A, B, "--reason", " ", "--reviewer", "me"], "a reviewer and a reason"),
        (["explain", A, B, "--graph", "missing.json"], "cannot read graph snapshot"),
    ],
)
def test_bad_input_exits_2_with_a_reason(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if argv[0] == "split":
        argv = [*argv, "--overrides", str(tmp_path / "o.jsonl")]
    else:
        argv = [a if a != "missing.json" else str(tmp_path / a) for a in argv]
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_a_corrupt_overrides_line_is_reported_with_its_number(
    snapshot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overrides = tmp_path / "overrides.jsonl"
    overrides.write_text('{"author_a": "a"}\n')
    assert main(["explain", A, B, "--graph", str(snapshot), "--overrides", str(overrides)]) == 2
    assert "line 1 is not a LinkOverride" in capsys.readouterr().err


def test_a_file_that_is_not_a_snapshot_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bogus = tmp_path / "graph.json"
    bogus.write_text("[1, 2, 3]")
    assert main(["explain", A, B, "--graph", str(bogus)]) == 2
    assert "is not a graph snapshot" in capsys.readouterr().err
