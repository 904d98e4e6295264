"""Dependencies flow one way: schemas → streams (pure logic → agents) → workers.

A stage never imports another stage; pure logic never imports faust, redis or the settings.
"""

from __future__ import annotations

import ast
from pathlib import Path

from streams.registry import INPUTS, STAGE_PACKAGES
from streams.registry import STAGES as REGISTERED_STAGES

ROOT = Path(__file__).resolve().parents[2]
STAGES = STAGE_PACKAGES  # streams.registry: the one list of stages
RUNTIME_ONLY = {"faust", "redis", "aiokafka", "workers"}
# The composition of every stage's step and what it runs on: pure code like the stages, read
# by the live worker and the offline runner alike.
COMPOSITION = ("composition.py", "registry.py", "stage_configs.py", "state_store.py")


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
            bad = {n for n in _imports(path) if n.split(".")[0] in RUNTIME_ONLY}
            assert not bad, (path, bad)


def test_the_composition_and_the_offline_tools_never_import_faust() -> None:
    offline = [ROOT / "streams" / name for name in COMPOSITION] + [
        ROOT / "workers" / "offline" / name
        for name in ("offline_pipeline.py", "replay.py", "audit.py", "explain.py")
    ]
    for path in offline:
        bad = {n for n in _imports(path) if n.split(".")[0] in {"faust", "mode"}}
        assert not bad, (path, bad)
        assert "workers.processes.pipeline" not in _imports(path), path


def test_no_stage_keeps_an_agent_module_of_its_own() -> None:
    # One hop: the live worker's agents come from the registry (workers/processes/pipeline.py).
    assert not sorted((ROOT / "streams").rglob("agents.py"))


def test_every_input_is_owned_by_a_registered_stage() -> None:
    names = {s.name for s in REGISTERED_STAGES}
    assert all(i.stage in names for i in INPUTS)
    assert len({i.topic.name for i in INPUTS}) == len(INPUTS), "one agent per input topic"
    assert len({i.agent for i in INPUTS}) == len(INPUTS)
