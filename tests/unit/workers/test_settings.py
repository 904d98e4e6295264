from __future__ import annotations

import pytest

from workers.settings import Settings, SettingsError


def test_production_requires_keys_from_the_environment() -> None:
    with pytest.raises(SettingsError, match="MODSTREAM_PSEUDONYM_KEY"):
        Settings.from_env({})


def test_dev_mode_falls_back_to_fixed_keys_and_defaults() -> None:
    s = Settings.from_env({"MODSTREAM_DEV_MODE": "true"})
    assert s.kafka_bootstrap == "127.0.0.1:9092"
    assert len(s.pseudonym_key) >= 16 and len(s.evidence_key.secret) == 32
    assert s.topic("comments.raw") == "comments.raw"


def test_namespace_prefixes_topics_groups_and_redis_keys() -> None:
    s = Settings.from_env({"MODSTREAM_DEV_MODE": "1", "MODSTREAM_NAMESPACE": "replay7"})
    assert s.topic("actions") == "replay7.actions"
    assert s.group_id == "replay7.modstream"
    assert s.redis_prefix == "replay7:"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MODSTREAM_PARTITIONS": "four"}, "MODSTREAM_PARTITIONS must be an integer"),
        ({"MODSTREAM_EXECUTOR_DRY_RUN": "maybe"}, "MODSTREAM_EXECUTOR_DRY_RUN must be true"),
        ({"MODSTREAM_PSEUDONYM_KEY": "short"}, "at least 16 bytes"),
        # Any 16 bytes was enough once; now 32 random bytes or a passphrase (scrypt).
        ({"MODSTREAM_EVIDENCE_KEY": "e" * 20}, "MODSTREAM_EVIDENCE_KEY must be 32 random bytes"),
        ({"MODSTREAM_EVIDENCE_KEY": "passphrase:short"}, "at least 20 characters"),
        ({"MODSTREAM_EVIDENCE_OLD_KEYS": "abc,def"}, "MODSTREAM_EVIDENCE_OLD_KEYS entry 1"),
    ],
)
def test_malformed_values_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"MODSTREAM_DEV_MODE": "true", **env})


def test_secrets_stay_out_of_repr() -> None:
    evidence = "ee" * 32  # 32 bytes, hex
    s = Settings.from_env({"MODSTREAM_PSEUDONYM_KEY": "p" * 20, "MODSTREAM_EVIDENCE_KEY": evidence})
    assert "pppp" not in repr(s) and "xee" not in repr(s)
    assert "secret" not in repr(s.evidence_key)


def test_evidence_keys_current_and_old() -> None:
    env = {
        "MODSTREAM_PSEUDONYM_KEY": "p" * 20,
        "MODSTREAM_EVIDENCE_KEY": "passphrase:" + "a long enough passphrase",
        "MODSTREAM_EVIDENCE_OLD_KEYS": f"{'ab' * 32}, legacy:{'x' * 16}",
    }
    s = Settings.from_env(env)
    assert s.evidence_key.kind == "passphrase"
    assert [k.kind for k in s.evidence_old_keys] == ["random", "legacy"]
    with pytest.raises(SettingsError, match="only be an old key"):
        Settings.from_env({**env, "MODSTREAM_EVIDENCE_KEY": "legacy:" + "x" * 16})
