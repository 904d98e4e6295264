"""The one place configuration is read from the environment.

Every process builds one frozen ``Settings`` at start-up and passes it down; nothing else
reads ``os.environ``. Secrets (pseudonymisation and evidence keys, Kafka/Redis credentials)
come only from the environment, never from the repository.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POLICY = REPO_ROOT / "deploy" / "policy" / "ctmuhb.yaml"


class SettingsError(ValueError):
    """A required setting is missing or malformed. The message names the variable to fix."""


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _key(env: Mapping[str, str], name: str, *, dev_default: str | None) -> bytes:
    raw = env.get(name, "")
    if not raw:
        if dev_default is None:
            raise SettingsError(f"{name} is required (a secret of at least 16 bytes)")
        return dev_default.encode()
    if len(raw.encode()) < 16:
        raise SettingsError(f"{name} must be at least 16 bytes long")
    return raw.encode()


@dataclass(frozen=True, slots=True)
class Settings:
    kafka_bootstrap: str = "127.0.0.1:9092"
    redis_url: str = "redis://127.0.0.1:6390/0"
    # Namespaces every topic, consumer group and Redis key: replay and tests run beside
    # production without touching it.
    namespace: str = ""
    app_id: str = "modstream"
    partitions: int = 4
    replication_factor: int = 1
    store: str = "memory://"
    data_dir: str = str(REPO_ROOT / ".stack" / "worker-data")
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    policy_path: str = str(DEFAULT_POLICY)
    registry_path: str = ""
    max_payload_bytes: int = 64 * 1024
    pseudonym_key: bytes = field(default=b"", repr=False)
    evidence_key: bytes = field(default=b"", repr=False)
    evidence_dir: str = str(REPO_ROOT / ".stack" / "evidence")
    evidence_retention_days: int = 90
    executor_dry_run: bool = True
    executor_max_attempts: int = 5
    # "module:Class" of the platform adapter plug-in; used only when dry-run is off.
    executor_adapter: str = ""
    dev_mode: bool = False
    log_level: str = "INFO"
    policy_poll_s: float = 2.0
    # Live workers let wall-clock time pass deadlines; replay runs on event time alone.
    wall_clock_timers: bool = True

    def topic(self, name: str) -> str:
        return f"{self.namespace}.{name}" if self.namespace else name

    @property
    def group_id(self) -> str:
        return f"{self.namespace}.{self.app_id}" if self.namespace else self.app_id

    @property
    def redis_prefix(self) -> str:
        return f"{self.namespace}:" if self.namespace else "modstream:"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        d = cls()  # slotted dataclass: defaults are read off an instance, not the class
        dev = _bool(env, "MODSTREAM_DEV_MODE", False)
        # Dev mode (local demo and tests only) may fall back to fixed keys; production must not.
        dev_pseudo = "dev-only-pseudonymisation-key" if dev else None
        dev_evidence = "dev-only-evidence-key-32-bytes!!" if dev else None
        return cls(
            kafka_bootstrap=env.get("MODSTREAM_KAFKA_BOOTSTRAP", d.kafka_bootstrap),
            redis_url=env.get("MODSTREAM_REDIS_URL", d.redis_url),
            namespace=env.get("MODSTREAM_NAMESPACE", ""),
            app_id=env.get("MODSTREAM_APP_ID", d.app_id),
            partitions=_int(env, "MODSTREAM_PARTITIONS", d.partitions),
            replication_factor=_int(env, "MODSTREAM_REPLICATION_FACTOR", d.replication_factor),
            store=env.get("MODSTREAM_STORE", d.store),
            data_dir=env.get("MODSTREAM_DATA_DIR", d.data_dir),
            web_host=env.get("MODSTREAM_WEB_HOST", d.web_host),
            web_port=_int(env, "MODSTREAM_WEB_PORT", d.web_port),
            policy_path=env.get("MODSTREAM_POLICY", str(DEFAULT_POLICY)),
            registry_path=env.get("MODSTREAM_REGISTRY", ""),
            max_payload_bytes=_int(env, "MODSTREAM_MAX_PAYLOAD_BYTES", d.max_payload_bytes),
            pseudonym_key=_key(env, "MODSTREAM_PSEUDONYM_KEY", dev_default=dev_pseudo),
            evidence_key=_key(env, "MODSTREAM_EVIDENCE_KEY", dev_default=dev_evidence),
            evidence_dir=env.get("MODSTREAM_EVIDENCE_DIR", d.evidence_dir),
            evidence_retention_days=_int(
                env, "MODSTREAM_EVIDENCE_RETENTION_DAYS", d.evidence_retention_days
            ),
            executor_dry_run=_bool(env, "MODSTREAM_EXECUTOR_DRY_RUN", True),
            executor_max_attempts=_int(env, "MODSTREAM_EXECUTOR_MAX_ATTEMPTS", 5),
            executor_adapter=env.get("MODSTREAM_EXECUTOR_ADAPTER", ""),
            dev_mode=dev,
            log_level=env.get("MODSTREAM_LOG_LEVEL", "INFO").upper(),
            policy_poll_s=float(_int(env, "MODSTREAM_POLICY_POLL_MS", 2000)) / 1000,
            wall_clock_timers=_bool(env, "MODSTREAM_WALL_CLOCK_TIMERS", True),
        )
