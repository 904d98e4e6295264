"""Worker roles (MODSTREAM_WORKER_ROLE): a main-line worker and a side-branch worker split the
registry's inputs between them, the side one in a consumer group of its own and without the
author-keyed tables it never reads."""

from __future__ import annotations

from typing import Any

import pytest

from streams import topics as specs
from streams.registry import INPUTS, SIDE_ROLE_TOPICS, inputs_of
from workers.settings import Settings, SettingsError


def test_the_roles_split_the_inputs_between_them() -> None:
    main, side = inputs_of("main"), inputs_of("side")
    assert inputs_of("all") == INPUTS
    assert set(main) | set(side) == set(INPUTS)
    assert not set(main) & set(side)
    assert {i.topic for i in side} == SIDE_ROLE_TOPICS
    assert specs.RAW in {i.topic for i in main}
    with pytest.raises(ValueError):
        inputs_of("both")


def test_a_side_worker_is_a_consumer_group_of_its_own() -> None:
    env = {"MODSTREAM_DEV_MODE": "true", "MODSTREAM_NAMESPACE": "ns"}
    default = Settings.from_env(env)
    main = Settings.from_env({**env, "MODSTREAM_WORKER_ROLE": "main"})
    side = Settings.from_env({**env, "MODSTREAM_WORKER_ROLE": "side"})
    assert default.worker_role == "all"
    assert main.group_id == default.group_id == "ns.modstream"
    assert side.group_id == "ns.modstream-side"
    with pytest.raises(SettingsError, match="MODSTREAM_WORKER_ROLE"):
        Settings.from_env({**env, "MODSTREAM_WORKER_ROLE": "sides"})


@pytest.mark.parametrize("role", ["all", "main", "side"])
def test_each_role_wires_its_inputs_agents_and_tables(
    role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers.processes import app as app_module
    from workers.processes import pipeline

    # The stage configs (classifier build: seconds) are not what this test is about.
    monkeypatch.setattr(pipeline, "build_stage_configs", lambda *_a, **_k: object())
    settings = Settings.from_env(
        {"MODSTREAM_DEV_MODE": "true", "MODSTREAM_WORKER_ROLE": role, "MODSTREAM_NAMESPACE": role}
    )
    app: Any = app_module.create_app(settings)
    assert set(app.agents) == {i.agent for i in inputs_of(role)}
    timers = {t.__name__ for t in app._app_tasks}  # faust keeps its timers there
    if role == "side":
        assert not list(app.tables)
        assert "fire_due_deadlines" not in timers
    else:
        assert {"rate-windows", "enforcement", "identity-clusters"} <= set(app.tables)
        assert "fire_due_deadlines" in timers
