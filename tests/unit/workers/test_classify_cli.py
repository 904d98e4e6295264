"""``modstream classify``: plain or JSON lines in, one verdict per line out."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from streams.classify import Classifier
from streams.policy import load_policy
from workers import cli
from workers.offline.classify_cli import DEFAULT_POLICY, comments, run


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(load_policy(DEFAULT_POLICY))


def test_plain_and_json_lines_are_read_alike() -> None:
    lines = [
        "Mi wna i dy ladd di\n",
        "\n",
        '{"text": "Thanks", "post_text": "Flu jabs"}\n',
        "{oops\n",
    ]
    assert list(comments(lines, json_lines=None)) == [
        ("Mi wna i dy ladd di", ""),
        ("Thanks", "Flu jabs"),
        ("{oops", ""),
    ]
    with pytest.raises(ValueError, match="not a JSON object"):
        list(comments(["{oops"], json_lines=True))
    assert list(comments(['{"text": "x"}'], json_lines=False)) == [('{"text": "x"}', "")]


def test_each_verdict_has_language_findings_with_spans_clauses_and_version(
    classifier: Classifier,
) -> None:
    out = io.StringIO()
    text = "Dw i'n gwybod lle ti'n byw. My dad has crushing chest pain"
    assert run(classifier, [text, "ok"], out, json_lines=None) == 2
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["language"] in {"cy", "en"} and first["languages"] == ["cy", "en"]
    assert first["clauses"] == ["emergency", "intimidation"]
    spans = {f["clause"]: f["span"] for f in first["findings"]}
    assert spans["intimidation"] == "Dw i'n gwybod lle ti'n byw"
    assert "chest pain" in spans["emergency"]
    assert first["policy_version"] == classifier.policy.version
    assert (second["language"], second["findings"]) == ("und", [])


def test_the_command_is_listed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    source = tmp_path / "in.txt"
    source.write_text("Cau dy geg y bitsh\n", encoding="utf-8")
    assert cli.main(["classify", "--no-registry", str(source)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["clauses"] == ["abusive"]
