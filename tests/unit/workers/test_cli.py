"""The command line behaves like one: help and version never start anything or read
settings, usage errors go to standard error with status 2, one entry point per command."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from workers import cli

ROOT = Path(__file__).resolve().parents[3]
# Without these, reading the settings fails: a command that reads them for --help crashes.
UNSET = ("MODSTREAM_DEV_MODE", "MODSTREAM_PSEUDONYM_KEY", "MODSTREAM_EVIDENCE_KEY")


@pytest.fixture(autouse=True)
def _no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("name", list(cli.COMMANDS))
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_of_every_command_starts_nothing(
    name: str, flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([name, flag]) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"Usage: modstream {name} [OPTIONS]")
    assert "--version" in out and err == ""


@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_version_of_every_command(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([name, "--version"]) == 0
    assert capsys.readouterr().out.startswith("modstream ")


@pytest.mark.parametrize(
    "argv", [["evidence", "export", "--help"], ["audit", "diff", "-h"], ["links", "split", "-h"]]
)
def test_subcommands_have_help_too(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.startswith(f"Usage: modstream {' '.join(argv[:2])} [OPTIONS]")


@pytest.mark.parametrize(
    "argv",
    [
        ["no-such-command"],
        ["eval", "--no-such-option"],
        ["worker", "surplus"],
        ["audit", "diff"],  # required options missing
        ["evidence", "rotate-nothing"],
        ["replay", "--out", "x", "--to-topics"],
        [],
    ],
)
def test_usage_errors_go_to_stderr_with_status_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "Usage: modstream" in err


def test_the_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(f"  {name} " in out for name in cli.COMMANDS)


def test_one_console_script_per_command() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts.pop("modstream") == "workers.cli:main"
    expected = {f"modstream-{name}": f"{m}:{f}" for name, (m, f, _) in cli.COMMANDS.items()}
    assert scripts == expected


def test_a_process_entry_point_answers_help_without_settings() -> None:
    # As a container or a unit file would run it: its own process, no keys in the environment.
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "workers.processes.worker", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: modstream worker") and "Traceback" not in done.stderr
