"""Dependencies flow one way: schemas → streams (pure logic → agents) → workers.

A stage never imports another stage; pure logic never imports faust, redis or the settings.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("normalise", "classify", "rate_windows", "linking", "enforce")
RUNTIME_ONLY = {"faust", "redis", "aiokafka", "workers"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _py(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_schemas_import_nothing_of_ours_but_schemas_and_topic_names() -> None:
    for path in _py("schemas"):
        for name in _imports(path):
            top = name.split(".")[0]
            assert top not in {"workers", "faust", "redis", "aiokafka"}, (path, name)
            if top == "streams":
                # The JSON Schema generator names each file after its topic.
                assert path.name == "jsonschema.py" and name in {"streams", "streams.topics"}, (
                    path,
                    name,
                )


def test_streams_never_import_workers() -> None:
    for path in _py("streams"):
        assert not any(n.split(".")[0] == "workers" for n in _imports(path)), path


def test_a_stage_never_imports_another_stage() -> None:
    for stage in STAGES:
        for path in sorted((ROOT / "streams" / stage).rglob("*.py")):
            for name in _imports(path):
                parts = name.split(".")
                if parts[0] == "streams" and len(parts) > 1 and parts[1] in STAGES:
                    # The normaliser's text functions are shared by design: matching and
                    # fingerprints must see exactly the form ingestion produced.
                    shared = parts[1] == "normalise" and name == "streams.normalise.text"
                    assert parts[1] == stage or shared, (path, name)


def test_pure_logic_has_no_runtime_dependencies() -> None:
    for stage in STAGES:
        for path in sorted((ROOT / "streams" / stage).rglob("*.py")):
            if path.name == "agents.py":
                continue
            bad = {n for n in _imports(path) if n.split(".")[0] in RUNTIME_ONLY}
            assert not bad, (path, bad)
