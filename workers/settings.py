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

from workers.evidence_keys import KeySpec, parse_key, parse_old_keys

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POLICY = REPO_ROOT / "deploy" / "policy" / "ctmuhb.yaml"


WORKER_ROLES = ("all", "main", "side")


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


def _one_of(env: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    raw = env.get(name, "").strip().lower() or default
    if raw not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
    return raw


def _evidence_key(env: Mapping[str, str], name: str, *, dev_default: KeySpec | None) -> KeySpec:
    raw = env.get(name, "")
    if not raw:
        if dev_default is None:
            raise SettingsError(f"{name} is required (32 random bytes: openssl rand -base64 32)")
        return dev_default
    try:
        return parse_key(raw, name)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


def _evidence_old_keys(env: Mapping[str, str], name: str) -> tuple[KeySpec, ...]:
    try:
        return parse_old_keys(env.get(name, ""), name)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None


KAFKA_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
KAFKA_SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """How clients authenticate to Kafka. Its own type, so a tool that needs only Kafka (the
    sample feed) can read it without the pseudonymisation and evidence keys."""

    protocol: str = "PLAINTEXT"
    sasl_mechanism: str = "SCRAM-SHA-512"
    username: str = ""
    password: str = field(default="", repr=False)
    ca_file: str = ""  # empty with TLS: the system's trusted CAs

    @property
    def sasl(self) -> bool:
        return self.protocol.startswith("SASL_")

    @property
    def tls(self) -> bool:
        return self.protocol in {"SSL", "SASL_SSL"}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> KafkaSecurity:
        env = os.environ if env is None else env
        protocol = env.get("MODSTREAM_KAFKA_SECURITY_PROTOCOL", "PLAINTEXT").strip().upper()
        if protocol not in KAFKA_PROTOCOLS:
            raise SettingsError(
                f"MODSTREAM_KAFKA_SECURITY_PROTOCOL must be one of {', '.join(KAFKA_PROTOCOLS)}"
                f", got {protocol!r}"
            )
        mechanism = env.get("MODSTREAM_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512").strip().upper()
        if mechanism not in KAFKA_SASL_MECHANISMS:
            raise SettingsError(
                "MODSTREAM_KAFKA_SASL_MECHANISM must be one of "
                f"{', '.join(KAFKA_SASL_MECHANISMS)}, got {mechanism!r}"
            )
        security = cls(
            protocol=protocol,
            sasl_mechanism=mechanism,
            username=env.get("MODSTREAM_KAFKA_USERNAME", ""),
            password=env.get("MODSTREAM_KAFKA_PASSWORD", ""),
            ca_file=env.get("MODSTREAM_KAFKA_CA_FILE", ""),
        )
        # A credential that is silently ignored leaves an operator believing the connection
        # is authenticated or encrypted when it is not: refuse the mismatch instead.
        if security.sasl and not (security.username and security.password):
            raise SettingsError(
                f"MODSTREAM_KAFKA_SECURITY_PROTOCOL={protocol} needs MODSTREAM_KAFKA_USERNAME "
                "and MODSTREAM_KAFKA_PASSWORD"
            )
        if not security.sasl and (security.username or security.password):
            raise SettingsError(
                "MODSTREAM_KAFKA_USERNAME/MODSTREAM_KAFKA_PASSWORD are set but "
                f"MODSTREAM_KAFKA_SECURITY_PROTOCOL={protocol} does not use SASL"
            )
        if security.ca_file and not security.tls:
            raise SettingsError(
                f"MODSTREAM_KAFKA_CA_FILE is set but MODSTREAM_KAFKA_SECURITY_PROTOCOL={protocol}"
                " does not use TLS (SSL or SASL_SSL)"
            )
        if security.ca_file and not Path(security.ca_file).is_file():
            raise SettingsError(f"MODSTREAM_KAFKA_CA_FILE={security.ca_file} is not a file")
        return security


def _redis_url(env: Mapping[str, str], default: str) -> str:
    url = env.get("MODSTREAM_REDIS_URL", default)
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise SettingsError("MODSTREAM_REDIS_URL must start with redis://, rediss:// or unix://")
    return url


def _redis_ca_file(env: Mapping[str, str]) -> str:
    ca_file = env.get("MODSTREAM_REDIS_CA_FILE", "")
    if ca_file and not env.get("MODSTREAM_REDIS_URL", "").startswith("rediss://"):
        raise SettingsError(
            "MODSTREAM_REDIS_CA_FILE is set but MODSTREAM_REDIS_URL is not rediss://"
        )
    if ca_file and not Path(ca_file).is_file():
        raise SettingsError(f"MODSTREAM_REDIS_CA_FILE={ca_file} is not a file")
    return ca_file


@dataclass(frozen=True, slots=True)
class PlatformSettings:
    """Where and as whom the connectors and effectors reach each platform. Tokens are secrets:
    out of every repr, never logged. Base URLs are settings so tests and the demo can point
    everything at the fake platform (tests/fake_platform.py)."""

    webhook_host: str = "127.0.0.1"
    webhook_port: int = 8090
    meta_app_secret: str = field(default="", repr=False)
    meta_verify_token: str = field(default="", repr=False)
    meta_page_token: str = field(default="", repr=False)
    meta_page_id: str = ""
    meta_ig_user_id: str = ""
    meta_graph_url: str = "https://graph.facebook.com/v21.0"
    youtube_token: str = field(default="", repr=False)
    youtube_channel_id: str = ""
    youtube_api_url: str = "https://www.googleapis.com/youtube/v3"
    youtube_daily_quota: int = 10_000
    # Units the poller leaves for the executor's moderation calls (50 units each).
    youtube_quota_reserve: int = 2_000
    x_token: str = field(default="", repr=False)
    x_user_id: str = ""
    x_api_url: str = "https://api.x.com"
    x_block_mode: str = "block"  # "block" or "mute": what the app's X tier allows
    linkedin_token: str = field(default="", repr=False)
    linkedin_org_urn: str = ""
    linkedin_api_url: str = "https://api.linkedin.com"
    linkedin_version: str = "202411"
    poll_interval_s: float = 60.0
    # How long a connector remembers a comment id it produced: a redelivery or an overlapping
    # poll later than this would be produced again.
    dedup_days: int = 30

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> PlatformSettings:
        d = cls()
        block_mode = env.get("MODSTREAM_X_BLOCK_MODE", d.x_block_mode).strip().lower()
        if block_mode not in {"block", "mute"}:
            raise SettingsError(f"MODSTREAM_X_BLOCK_MODE must be block or mute, got {block_mode!r}")
        return cls(
            webhook_host=env.get("MODSTREAM_WEBHOOK_HOST", d.webhook_host),
            webhook_port=_int(env, "MODSTREAM_WEBHOOK_PORT", d.webhook_port),
            meta_app_secret=env.get("MODSTREAM_META_APP_SECRET", ""),
            meta_verify_token=env.get("MODSTREAM_META_VERIFY_TOKEN", ""),
            meta_page_token=env.get("MODSTREAM_META_PAGE_TOKEN", ""),
            meta_page_id=env.get("MODSTREAM_META_PAGE_ID", ""),
            meta_ig_user_id=env.get("MODSTREAM_META_IG_USER_ID", ""),
            meta_graph_url=env.get("MODSTREAM_META_GRAPH_URL", d.meta_graph_url),
            youtube_token=env.get("MODSTREAM_YOUTUBE_TOKEN", ""),
            youtube_channel_id=env.get("MODSTREAM_YOUTUBE_CHANNEL_ID", ""),
            youtube_api_url=env.get("MODSTREAM_YOUTUBE_API_URL", d.youtube_api_url),
            youtube_daily_quota=_int(env, "MODSTREAM_YOUTUBE_DAILY_QUOTA", d.youtube_daily_quota),
            youtube_quota_reserve=_int(
                env, "MODSTREAM_YOUTUBE_QUOTA_RESERVE", d.youtube_quota_reserve
            ),
            x_token=env.get("MODSTREAM_X_TOKEN", ""),
            x_user_id=env.get("MODSTREAM_X_USER_ID", ""),
            x_api_url=env.get("MODSTREAM_X_API_URL", d.x_api_url),
            x_block_mode=block_mode,
            linkedin_token=env.get("MODSTREAM_LINKEDIN_TOKEN", ""),
            linkedin_org_urn=env.get("MODSTREAM_LINKEDIN_ORG_URN", ""),
            linkedin_api_url=env.get("MODSTREAM_LINKEDIN_API_URL", d.linkedin_api_url),
            linkedin_version=env.get("MODSTREAM_LINKEDIN_VERSION", d.linkedin_version),
            poll_interval_s=_int(env, "MODSTREAM_POLL_INTERVAL_MS", 60_000) / 1000,
            dedup_days=_int(env, "MODSTREAM_CONNECTOR_DEDUP_DAYS", d.dedup_days),
        )


@dataclass(frozen=True, slots=True)
class Settings:
    kafka_bootstrap: str = "127.0.0.1:9092"
    # May carry a password (redis://:secret@host): kept out of repr like the other secrets.
    redis_url: str = field(default="redis://127.0.0.1:6390/0", repr=False)
    # Redis AUTH without putting the secret in the URL (a URL can sit in a ConfigMap, this in
    # a Secret); a password in the URL wins.
    redis_password: str = field(default="", repr=False)
    redis_ca_file: str = ""  # rediss:// only; empty: the system's trusted CAs
    kafka_security: KafkaSecurity = field(default_factory=KafkaSecurity)
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
    # Evidence keys (workers/evidence_keys.py): records are written under evidence_key and
    # read under it or any of evidence_old_keys.
    evidence_key: KeySpec = field(default=KeySpec("random", b""), repr=False)
    evidence_old_keys: tuple[KeySpec, ...] = field(default=(), repr=False)
    evidence_dir: str = str(REPO_ROOT / ".stack" / "evidence")
    evidence_retention_days: int = 90
    executor_dry_run: bool = True
    executor_max_attempts: int = 5
    # "module:Class" of the platform adapter plug-in; used only when dry-run is off.
    executor_adapter: str = ""
    dev_mode: bool = False
    log_level: str = "INFO"
    log_format: str = "text"  # or json: one JSON object per line (workers/logging_config.py)
    policy_poll_s: float = 2.0
    # Every stage hop produces; sending each record in its own request cost a third of a
    # worker's CPU (bench/profile_pipeline.py). The main line is one hop (issue 17), so a
    # decision waits for one linger: 25 ms cut worker CPU per comment 11% against 10 ms with
    # p99 latency at half load still 33 ms (docs/benchmarks.md, *Producer linger*).
    producer_linger_ms: int = 25
    # The main line takes comments.raw in batches of up to this many inputs (issue 17): each
    # author's table writes are coalesced per batch (one changelog record per table). The
    # linger bounds how long a partly filled batch waits; 1 turns batching off.
    raw_batch_max: int = 64
    raw_batch_linger_ms: int = 10
    # Live workers let wall-clock time pass deadlines; replay runs on event time alone.
    wall_clock_timers: bool = True
    # Moderator console (workers/console): who may sign in, and how.
    console_host: str = "127.0.0.1"
    console_port: int = 8080
    console_metrics_port: int = 9464  # /metrics for Prometheus only, on its own port
    console_users_file: str = ""  # YAML list of {name, role, password_hash (argon2)}
    console_users: str = field(default="", repr=False)  # the same list inline, as JSON
    # Sign-in through an OIDC proxy: the header carrying the signed-in user's name, honoured
    # only from the listed proxy addresses (empty header: password sign-in only).
    console_trusted_header: str = ""
    console_trusted_proxies: tuple[str, ...] = ()
    console_session_minutes: int = 480
    console_access_log: str = str(REPO_ROOT / ".stack" / "console-access.log")
    platforms: PlatformSettings = field(default_factory=PlatformSettings)
    # Worker runtime (issue 17/18). The main line is one hop; the assessed verdicts (comment,
    # findings, behaviour) go to comments.assessed only when an audit or a test asks for them.
    emit_assessed: bool = False
    # Dev and tests: a worker creates its missing topics at start. Otherwise it refuses to
    # start while any is missing, rather than run deaf.
    create_topics: bool = False
    # Recovery after a crash (docs/operations.md, "Recovery after a crash"): a killed worker
    # stays in the group until its session times out, and its partitions wait that long.
    session_timeout_s: float = 10.0
    heartbeat_interval_s: float = 1.0
    # Which inputs a stream worker consumes (issue 17, docs/operations.md "Worker roles"):
    # "all" of them; "main", the main line and enforcement's other inputs; or "side", the side
    # branches and the identity graph (comments.side, identity.signals, identity.overrides).
    # Split, the main line's worker pays Faust's per-record cost once per comment instead of
    # about twice, and the side branches get a core of their own. A side worker is a consumer
    # group of its own (``group_id`` + "-side"): Faust's assignor gives every member of a group
    # a share of every topic the group reads, whatever the member's own agents.
    worker_role: str = "all"

    def topic(self, name: str) -> str:
        return f"{self.namespace}.{name}" if self.namespace else name

    @property
    def group_id(self) -> str:
        group = f"{self.namespace}.{self.app_id}" if self.namespace else self.app_id
        return f"{group}-side" if self.worker_role == "side" else group

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
        dev_evidence = KeySpec("random", b"dev-only-evidence-key-32-bytes!!") if dev else None
        return cls(
            kafka_bootstrap=env.get("MODSTREAM_KAFKA_BOOTSTRAP", d.kafka_bootstrap),
            redis_url=_redis_url(env, d.redis_url),
            redis_password=env.get("MODSTREAM_REDIS_PASSWORD", ""),
            redis_ca_file=_redis_ca_file(env),
            kafka_security=KafkaSecurity.from_env(env),
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
            evidence_key=_evidence_key(env, "MODSTREAM_EVIDENCE_KEY", dev_default=dev_evidence),
            evidence_old_keys=_evidence_old_keys(env, "MODSTREAM_EVIDENCE_OLD_KEYS"),
            evidence_dir=env.get("MODSTREAM_EVIDENCE_DIR", d.evidence_dir),
            evidence_retention_days=_int(
                env, "MODSTREAM_EVIDENCE_RETENTION_DAYS", d.evidence_retention_days
            ),
            executor_dry_run=_bool(env, "MODSTREAM_EXECUTOR_DRY_RUN", True),
            executor_max_attempts=_int(env, "MODSTREAM_EXECUTOR_MAX_ATTEMPTS", 5),
            executor_adapter=env.get("MODSTREAM_EXECUTOR_ADAPTER", ""),
            dev_mode=dev,
            log_level=env.get("MODSTREAM_LOG_LEVEL", "INFO").upper(),
            log_format=_one_of(env, "MODSTREAM_LOG_FORMAT", ("text", "json"), "text"),
            policy_poll_s=float(_int(env, "MODSTREAM_POLICY_POLL_MS", 2000)) / 1000,
            producer_linger_ms=_int(env, "MODSTREAM_PRODUCER_LINGER_MS", d.producer_linger_ms),
            raw_batch_max=_int(env, "MODSTREAM_RAW_BATCH_MAX", d.raw_batch_max),
            raw_batch_linger_ms=_int(env, "MODSTREAM_RAW_BATCH_LINGER_MS", d.raw_batch_linger_ms),
            wall_clock_timers=_bool(env, "MODSTREAM_WALL_CLOCK_TIMERS", True),
            console_host=env.get("MODSTREAM_CONSOLE_HOST", d.console_host),
            console_port=_int(env, "MODSTREAM_CONSOLE_PORT", d.console_port),
            console_metrics_port=_int(
                env, "MODSTREAM_CONSOLE_METRICS_PORT", d.console_metrics_port
            ),
            console_users_file=env.get("MODSTREAM_CONSOLE_USERS_FILE", ""),
            console_users=env.get("MODSTREAM_CONSOLE_USERS", ""),
            console_trusted_header=env.get("MODSTREAM_CONSOLE_TRUSTED_HEADER", ""),
            console_trusted_proxies=tuple(
                p.strip()
                for p in env.get("MODSTREAM_CONSOLE_TRUSTED_PROXIES", "").split(",")
                if p.strip()
            ),
            console_session_minutes=_int(
                env, "MODSTREAM_CONSOLE_SESSION_MINUTES", d.console_session_minutes
            ),
            console_access_log=env.get("MODSTREAM_CONSOLE_ACCESS_LOG", d.console_access_log),
            platforms=PlatformSettings.from_env(env),
            emit_assessed=_bool(env, "MODSTREAM_EMIT_ASSESSED", False),
            create_topics=_bool(env, "MODSTREAM_CREATE_TOPICS", dev),
            session_timeout_s=_int(env, "MODSTREAM_SESSION_TIMEOUT_MS", 10_000) / 1000,
            heartbeat_interval_s=_int(env, "MODSTREAM_HEARTBEAT_INTERVAL_MS", 1_000) / 1000,
            worker_role=_one_of(env, "MODSTREAM_WORKER_ROLE", WORKER_ROLES, d.worker_role),
        )
