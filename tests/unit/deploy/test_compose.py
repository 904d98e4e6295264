"""docker-compose.yml and the Dockerfile, checked without a Docker engine.

``docker compose config`` runs when a Docker client with the compose plugin is installed; the
structural checks with PyYAML always run, so a machine without Docker still catches an
unpinned image, a missing setting, a secret written into the file or a stateful service
without a volume.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml

from workers.settings import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
MODSTREAM_SERVICES = ("topics", "worker", "executor", "console", "feed")
# What every process needs to reach an authenticated cluster and to start outside dev mode.
REQUIRED_ENV = {
    "MODSTREAM_KAFKA_BOOTSTRAP",
    "MODSTREAM_KAFKA_SECURITY_PROTOCOL",
    "MODSTREAM_KAFKA_SASL_MECHANISM",
    "MODSTREAM_KAFKA_USERNAME",
    "MODSTREAM_KAFKA_PASSWORD",
    "MODSTREAM_REDIS_URL",
    "MODSTREAM_REDIS_PASSWORD",
    "MODSTREAM_PARTITIONS",
    "MODSTREAM_REPLICATION_FACTOR",
    "MODSTREAM_STORE",
    "MODSTREAM_DATA_DIR",
    "MODSTREAM_EVIDENCE_DIR",
    "MODSTREAM_WEB_HOST",
    "MODSTREAM_PSEUDONYM_KEY",
    "MODSTREAM_EVIDENCE_KEY",
}
OFFICIAL = {
    "kafka": ("apache/kafka",),
    "kafka-format": ("apache/kafka",),
    "redis": ("redis",),
    "prometheus": ("prom/prometheus",),
    "grafana": ("grafana/grafana", "grafana/grafana-oss"),
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|_KEY$|CREDENTIAL|AUTH$")
REFERENCE = re.compile(r"^\$\{[A-Z][A-Z0-9_]*(?::?[-?][^}]*)?\}$")
COMPOSE_VARS = {
    "MODSTREAM_PSEUDONYM_KEY": secrets.token_urlsafe(32),
    "MODSTREAM_EVIDENCE_KEY": secrets.token_urlsafe(32),
    "MODSTREAM_KAFKA_PASSWORD": secrets.token_urlsafe(24),
    "MODSTREAM_KAFKA_BROKER_PASSWORD": secrets.token_urlsafe(24),
    "MODSTREAM_REDIS_PASSWORD": secrets.token_urlsafe(24),
    "GRAFANA_ADMIN_PASSWORD": secrets.token_urlsafe(24),
    "MODSTREAM_CONSOLE_USERS": "[]",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):  # the KEY=value form
        return dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(
        ["docker", "compose", "version"], capture_output=True, text=True, check=False
    )
    return probe.returncode == 0


# --- docker compose itself, where it is installed ------------------------------------------


@pytest.mark.skipif(not docker_compose_available(), reason="no docker compose plugin here")
def test_docker_compose_config_accepts_the_file() -> None:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(Path.home()), **COMPOSE_VARS}
    done = subprocess.run(
        ["docker", "compose", "--profile", "sample-feed", "config", "--format", "json"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    rendered = json.loads(done.stdout)
    assert rendered["services"]["worker"]["deploy"]["replicas"] == 2
    worker_env = rendered["services"]["worker"]["environment"]
    assert worker_env["MODSTREAM_KAFKA_PASSWORD"] == COMPOSE_VARS["MODSTREAM_KAFKA_PASSWORD"]


@pytest.mark.skipif(not docker_compose_available(), reason="no docker compose plugin here")
def test_docker_compose_names_a_missing_secret() -> None:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(Path.home()), **COMPOSE_VARS}
    del env["MODSTREAM_EVIDENCE_KEY"]
    done = subprocess.run(
        ["docker", "compose", "config", "-q"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "MODSTREAM_EVIDENCE_KEY" in done.stderr


# --- structure, always -----------------------------------------------------------------------


def test_the_expected_services_are_there(compose: dict[str, Any]) -> None:
    assert set(services(compose)) >= {
        "kafka",
        "redis",
        "worker",
        "executor",
        "console",
        "prometheus",
        "grafana",
        "feed",
    }
    assert services(compose)["worker"]["deploy"]["replicas"] == 2
    # The sample feed is optional: only its profile starts it.
    assert services(compose)["feed"]["profiles"] == ["sample-feed"]
    assert all("profiles" not in s for n, s in services(compose).items() if n != "feed")


def test_every_image_is_pinned_to_a_version(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        image = service.get("image")
        assert image, f"{name} has no image"
        if image.startswith("modstream:"):
            continue  # built from this repository's Dockerfile
        _, _, tag = image.partition(":")
        assert "@sha256:" in image or re.fullmatch(r"v?\d+\.\d+\.\d+(-[a-z0-9.]+)?", tag), (
            f"{name}: {image} is not pinned to a full version"
        )
        assert tag != "latest"


def test_infrastructure_uses_the_official_images(compose: dict[str, Any]) -> None:
    for name, repos in OFFICIAL.items():
        image = services(compose)[name]["image"]
        assert image.split(":")[0] in repos, f"{name}: {image}"


def test_compose_kafka_is_the_version_the_local_stack_runs(compose: dict[str, Any]) -> None:
    pom = ElementTree.parse(REPO_ROOT / "deploy" / "local" / "kafka" / "pom.xml")
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    version = pom.getroot().findtext("m:properties/m:kafka.version", namespaces=ns)
    assert services(compose)["kafka"]["image"] == f"apache/kafka:{version}"
    assert services(compose)["kafka-format"]["image"] == f"apache/kafka:{version}"


def test_every_process_gets_every_setting_it_needs(compose: dict[str, Any]) -> None:
    settings_source = (REPO_ROOT / "workers" / "settings.py").read_text()
    known = set(re.findall(r'"(MODSTREAM_[A-Z_]+)"', settings_source))
    for name in MODSTREAM_SERVICES:
        env = env_of(services(compose)[name])
        missing = REQUIRED_ENV - set(env)
        assert not missing, f"{name} lacks {sorted(missing)}"
        unknown = {k for k in env if k.startswith("MODSTREAM_")} - known
        assert not unknown, f"{name} sets variables workers/settings.py never reads: {unknown}"
        assert env["MODSTREAM_STORE"] == "rocksdb://"
        # Dev mode falls back to fixed keys: never in a deployment.
        assert env.get("MODSTREAM_DEV_MODE", "false") == "false"


def _strings(node: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in _strings(v, f"{path}.{k}")]
    if isinstance(node, list):
        return [s for i, v in enumerate(node) for s in _strings(v, f"{path}[{i}]")]
    return [(path, str(node))] if node is not None else []


def test_secrets_appear_only_as_variable_references(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        for key, value in env_of(service).items():
            if SECRET_NAME.search(key):
                assert REFERENCE.match(value), f"{name}.{key} holds a literal secret"
        command = [str(c) for c in service.get("command", []) or []]
        for flag, value in itertools.pairwise(command):
            if flag in {"--requirepass", "--masterauth"}:
                assert REFERENCE.match(value), f"{name}: {flag} takes a literal"
    # Secrets embedded in longer strings (JAAS configs, URLs) must be references too.
    for path, text in _strings(compose):
        for literal in re.findall(r'password="([^"]*)"', text):
            assert REFERENCE.match(literal), f"{path} embeds a password"
        assert not re.search(r"redis[s]?://[^/@\s]*:[^/@\s$]+@", text), f"{path}: URL password"


def test_stateful_services_keep_their_data_in_volumes(compose: dict[str, Any]) -> None:
    named = set(compose.get("volumes", {}))
    mounts = {
        name: [str(v) for v in service.get("volumes", [])]
        for name, service in services(compose).items()
    }
    for name, target in {
        "kafka": "/var/lib/kafka/data",
        "redis": "/data",
        "executor": "/data",
        "prometheus": "/prometheus",
        "grafana": "/var/lib/grafana",
    }.items():
        volumes = [m.split(":") for m in mounts[name]]
        assert any(v[0] in named and v[1] == target for v in volumes if len(v) >= 2), (
            f"{name} keeps {target} in no named volume"
        )
    # Workers: one volume per replica (RocksDB cannot be shared between processes).
    assert "/data" in mounts["worker"]
    # The broker writes where the volume is, not to the image's /tmp default.
    assert env_of(services(compose)["kafka"])["KAFKA_LOG_DIRS"] == "/var/lib/kafka/data"
    # Redis persists every write: the executor's claims must survive a restart.
    assert "--appendonly" in services(compose)["redis"]["command"]


def test_bind_mounts_point_at_files_in_the_repository(compose: dict[str, Any]) -> None:
    for name, service in services(compose).items():
        for mount in service.get("volumes", []):
            source = str(mount).split(":")[0]
            if source.startswith("./"):
                assert (REPO_ROOT / source).exists(), f"{name} mounts missing {source}"


def test_only_the_console_prometheus_and_grafana_are_published_and_on_loopback(
    compose: dict[str, Any],
) -> None:
    for name, service in services(compose).items():
        for port in service.get("ports", []):
            assert name in {"console", "prometheus", "grafana"}, f"{name} publishes {port}"
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port} on all addresses"


def broker_properties(env: dict[str, str]) -> dict[str, str]:
    """The apache/kafka image's mapping of KAFKA_* variables to server.properties keys:
    drop the prefix, lower-case, ``_`` to ``.``, then ``...`` to ``-`` and ``..`` to ``_``."""
    props = {}
    for key, value in env.items():
        if key.startswith("KAFKA_"):
            name = key.removeprefix("KAFKA_").lower().replace("_", ".")
            props[name.replace("...", "-").replace("..", "_")] = value
    return props


def test_broker_requires_scram_on_the_client_listener(compose: dict[str, Any]) -> None:
    kafka = services(compose)["kafka"]
    props = broker_properties(env_of(kafka))
    protocols = dict(p.split(":") for p in props["listener.security.protocol.map"].split(","))
    assert protocols["CLIENT"] == "SASL_PLAINTEXT"
    for listener in props["listeners"].split(","):
        assert listener.split("://")[0] in protocols
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    jaas = props["listener.name.client.scram-sha-512.sasl.jaas.config"]
    assert "ScramLoginModule required" in jaas and 'username="modstream-broker"' in jaas
    assert props["auto.create.topics.enable"] == "false"
    # The format step and the broker agree on the cluster and the quorum.
    fmt = env_of(services(compose)["kafka-format"])
    for key in ("CLUSTER_ID", "KAFKA_CONTROLLER_QUORUM_VOTERS", "KAFKA_LOG_DIRS"):
        assert fmt[key] == env_of(kafka)[key]
    assert kafka["depends_on"]["kafka-format"]["condition"] == "service_completed_successfully"
    script = (REPO_ROOT / "deploy" / "compose" / "kafka-format.sh").read_text()
    assert "listeners=CLIENT://:9092,CONTROLLER://:9093" in script
    assert f"listener.security.protocol.map={props['listener.security.protocol.map']}" in script


def test_clients_use_the_same_user_the_format_step_creates(compose: dict[str, Any]) -> None:
    fmt = env_of(services(compose)["kafka-format"])
    for name in MODSTREAM_SERVICES:
        env = env_of(services(compose)[name])
        assert env["MODSTREAM_KAFKA_USERNAME"] == fmt["MODSTREAM_KAFKA_USERNAME"]
        assert env["MODSTREAM_KAFKA_PASSWORD"] == fmt["MODSTREAM_KAFKA_PASSWORD"]
        assert env["MODSTREAM_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        assert env["MODSTREAM_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"


def test_prometheus_scrapes_with_the_jobs_and_rules_of_deploy_prometheus(
    compose: dict[str, Any],
) -> None:
    ours = yaml.safe_load((REPO_ROOT / "deploy" / "compose" / "prometheus.yml").read_text())
    theirs = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    jobs = [j["job_name"] for j in ours["scrape_configs"]]
    assert jobs == [j["job_name"] for j in theirs["scrape_configs"]]
    assert ours["rule_files"] == theirs["rule_files"]
    assert ours["global"] == theirs["global"]
    mounts = services(compose)["prometheus"]["volumes"]
    assert "./deploy/prometheus/rules:/etc/prometheus/rules:ro" in mounts
    ports = {j["job_name"]: j["dns_sd_configs"][0]["port"] for j in ours["scrape_configs"]}
    web_port = int(env_of(services(compose)["worker"]).get("MODSTREAM_WEB_PORT", "6066"))
    console_port = int(env_of(services(compose)["console"])["MODSTREAM_CONSOLE_METRICS_PORT"])
    # The executor serves /metrics on the web port + 100 (workers.executor.executor.main).
    assert ports == {
        "modstream-worker": web_port,
        "modstream-executor": web_port + 100,
        "modstream-console": console_port,
    }


def test_grafana_provisions_the_dashboards_against_their_datasource(
    compose: dict[str, Any],
) -> None:
    source = yaml.safe_load(
        (REPO_ROOT / "deploy" / "compose" / "grafana-datasource.yaml").read_text()
    )
    (datasource,) = source["datasources"]
    assert datasource["url"] == "http://prometheus:9090"
    uids = set()
    for dashboard in (REPO_ROOT / "dashboards").glob("*.json"):
        uids |= set(re.findall(r'"uid":\s*"(modstream-prometheus[^"]*)"', dashboard.read_text()))
    assert uids <= {datasource["uid"]}
    provider = yaml.safe_load(
        (REPO_ROOT / "dashboards" / "provisioning" / "dashboards.yaml").read_text()
    )
    dashboards_path = provider["providers"][0]["options"]["path"]
    assert f"./dashboards:{dashboards_path}:ro" in services(compose)["grafana"]["volumes"]


def test_dockerfile_is_pinned_slim_and_non_root() -> None:
    text = (REPO_ROOT / "Dockerfile").read_text()
    (base,) = re.findall(r"^ARG BASE=(\S+)", text, re.MULTILINE)
    assert re.fullmatch(r"python:3\.11\.\d+-slim-\w+@sha256:\S+", base), base
    # Every stage starts from that one base (tag and digest), never from a floating tag.
    assert set(re.findall(r"^FROM\s+(\S+)", text, re.MULTILINE)) == {"${BASE}"}
    users = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert users and users[-1].split(":")[0].isdigit() and users[-1].split(":")[0] != "0"
    ignored = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    # Everything is left out of the build context unless listed: .stack/ holds broker data and
    # generated secrets.
    assert "*" in ignored
    assert not any(line.startswith("!.stack") or line.startswith("!.env") for line in ignored)


def test_env_files_with_real_secrets_are_git_ignored() -> None:
    ignored = (REPO_ROOT / ".gitignore").read_text().splitlines()
    assert ".env" in ignored
    example = (REPO_ROOT / "deploy" / "compose" / "env.example").read_text()
    for var in COMPOSE_VARS:
        assert re.search(rf"^{var}=replace-me", example, re.MULTILINE), var


def test_the_console_runs_like_the_other_processes(compose: dict[str, Any]) -> None:
    console = services(compose)["console"]
    executor = services(compose)["executor"]
    assert console["command"] == ["python", "-m", "workers.console"]
    assert console["image"] == executor["image"] and console["read_only"] is True
    env = env_of(console)
    # People's port published on loopback only; the operations port not at all.
    (published,) = console["ports"]
    assert published == f"127.0.0.1:{env['MODSTREAM_CONSOLE_PORT']}:{env['MODSTREAM_CONSOLE_PORT']}"
    assert env["MODSTREAM_CONSOLE_HOST"] == "0.0.0.0"  # inside its container, for the mapping
    # The probe asks the unauthenticated health route on the operations port.
    probe = " ".join(console["healthcheck"]["test"])
    assert f"127.0.0.1:{env['MODSTREAM_CONSOLE_METRICS_PORT']}/healthz" in probe
    # Who may sign in comes from .env, never from this file.
    assert REFERENCE.match(env["MODSTREAM_CONSOLE_USERS"])
    # It logs every text view in the executor's evidence store: the same volume and path.
    shared = [str(v) for v in executor["volumes"]]
    assert shared == [str(v) for v in console["volumes"]]
    assert env["MODSTREAM_EVIDENCE_DIR"].startswith(shared[0].split(":")[1])
    assert env["MODSTREAM_CONSOLE_ACCESS_LOG"].startswith(shared[0].split(":")[1] + "/")
    # The workers write the topic the console reads each case's comment from.
    assert env_of(services(compose)["worker"])["MODSTREAM_EMIT_ASSESSED"] == "true"
    assert console["depends_on"]["topics"]["condition"] == "service_completed_successfully"
