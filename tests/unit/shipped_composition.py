"""The shipped policy's stage configs and a composition over in-memory stores, as the
offline runner builds them: for unit tests that drive the same steps the live worker runs."""

from __future__ import annotations

from typing import Any

from streams.composition import Composition
from streams.normalise.pseudonymise import Pseudonymiser
from streams.policy import load_policy
from streams.stage_configs import StageConfigs, build_stage_configs
from streams.state_store import Stores
from workers.settings import Settings

SETTINGS = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
PSEUDONYMS = Pseudonymiser(SETTINGS.pseudonym_key)


def shipped_stages() -> StageConfigs:
    return build_stage_configs(load_policy(SETTINGS.policy_path), SETTINGS.registry_path)


def in_memory_composition(stages: StageConfigs, **options: Any) -> Composition:
    return Composition(
        Stores.in_memory(),
        lambda: stages,
        pseudonymiser=PSEUDONYMS,
        max_bytes=SETTINGS.max_payload_bytes,
        **options,
    )
