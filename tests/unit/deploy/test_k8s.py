"""deploy/k8s/, checked offline: each overlay is built (a Python resolver, and ``kubectl
kustomize`` too where it is installed), core resources are validated against the Kubernetes
JSON schemas that kubernetes-validate ships, and the operators' resources (Strimzi, KEDA,
Prometheus operator, External Secrets) get structural checks of the fields they need.
"""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from streams import topics as specs
from tests.unit.deploy.kustomize import Resource, build
from workers.settings import REPO_ROOT, Settings

K8S = REPO_ROOT / "deploy" / "k8s"
OVERLAYS = ("dev", "prod")
KUBERNETES_VERSION = "1.32"
CRD_GROUPS = {
    "kafka.strimzi.io",
    "keda.sh",
    "monitoring.coreos.com",
    "external-secrets.io",
}
# Created by the operators from our resources, so referenced but never in the build.
STRIMZI_CA_SECRET = "modstream-cluster-ca-cert"


def _load_generator(name: str) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, K8S / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate_topics = _load_generator("generate_topics")
generate_monitoring = _load_generator("generate_monitoring")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """deploy/k8s copied, with the git-ignored env files written from their examples."""
    root = tmp_path_factory.mktemp("k8s") / "k8s"
    shutil.copytree(K8S, root, ignore=shutil.ignore_patterns("*.env", "__pycache__"))
    for example in root.glob("overlays/*/secrets/*.env.example"):
        lines = []
        for line in example.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not line.startswith("#"):
                value = value if key == "kafka-username" else secrets.token_urlsafe(32)
                lines.append(f"{key}={value}")
        example.with_suffix("").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest, tree: Path) -> Iterator[tuple[str, list[Resource]]]:
    name = str(request.param)
    yield name, build(tree / "overlays" / name)


def by_kind(resources: list[Resource], kind: str) -> list[Resource]:
    return [r for r in resources if r["kind"] == kind]


def one(resources: list[Resource], kind: str, name: str) -> Resource:
    (found,) = [r for r in by_kind(resources, kind) if r["metadata"]["name"] == name]
    return found


def config_of(resources: list[Resource]) -> dict[str, str]:
    data: dict[str, str] = one(resources, "ConfigMap", "modstream-config")["data"]
    return data


def pod_spec(workload: Resource) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def container_env(resources: list[Resource], workload: Resource) -> dict[str, Any]:
    """Every variable a container sees: its envFrom ConfigMaps, then its own env."""
    (container,) = pod_spec(workload)["containers"]
    env: dict[str, Any] = {}
    for source in container.get("envFrom", []):
        env.update(one(resources, "ConfigMap", source["configMapRef"]["name"])["data"])
    for var in container.get("env", []):
        env[var["name"]] = var.get("value", var.get("valueFrom"))
    return env


# --- generated files are current ------------------------------------------------------------


@pytest.mark.parametrize("generator", ["generate_topics", "generate_monitoring"])
def test_generated_manifests_are_up_to_date(generator: str) -> None:
    module = generate_topics if generator == "generate_topics" else generate_monitoring
    for path, text in module.outputs().items():
        assert path.exists() and path.read_text() == text, (
            f"{path.relative_to(REPO_ROOT)} is stale: run python deploy/k8s/{generator}.py"
        )


# --- the build ------------------------------------------------------------------------------


def test_overlays_build_and_everything_is_namespaced(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    (namespace,) = by_kind(resources, "Namespace")
    for resource in resources:
        if resource["kind"] != "Namespace":
            assert resource["metadata"]["namespace"] == namespace["metadata"]["name"], resource
    keys = [(r["kind"], r["metadata"]["name"]) for r in resources]
    assert len(keys) == len(set(keys)), "a resource is declared twice"


def _kustomize_command() -> list[str] | None:
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


@pytest.mark.skipif(_kustomize_command() is None, reason="neither kustomize nor kubectl here")
@pytest.mark.parametrize("name", OVERLAYS)
def test_the_python_build_matches_kustomize(tree: Path, name: str) -> None:
    command = _kustomize_command()
    assert command is not None
    done = subprocess.run(
        [*command, str(tree / "overlays" / name)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr

    def key(r: Resource) -> tuple[str, str, str]:
        return (r["kind"], r["metadata"].get("namespace", ""), r["metadata"]["name"])

    theirs = sorted((d for d in yaml.safe_load_all(done.stdout) if d), key=key)
    ours = sorted(build(tree / "overlays" / name), key=key)
    assert [key(r) for r in ours] == [key(r) for r in theirs]
    for mine, real in zip(ours, theirs, strict=True):
        assert mine == real, key(mine)


def test_core_resources_match_the_kubernetes_schemas(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    for resource in resources:
        group = resource["apiVersion"].split("/")[0] if "/" in resource["apiVersion"] else ""
        if group in CRD_GROUPS:
            continue
        try:
            kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{resource['kind']}/{resource['metadata']['name']}: {path}: {exc.message}")


def test_only_known_custom_resources(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    custom = {r["kind"] for r in resources if r["apiVersion"].split("/")[0] in CRD_GROUPS}
    assert custom <= {
        "Kafka",
        "KafkaNodePool",
        "KafkaTopic",
        "KafkaUser",
        "ScaledObject",
        "TriggerAuthentication",
        "PodMonitor",
        "PrometheusRule",
        "ExternalSecret",
    }, custom


# --- Strimzi ----------------------------------------------------------------------------------


def test_kafka_runs_kraft_with_node_pools_and_only_authenticated_listeners(
    overlay: tuple[str, list[Resource]],
) -> None:
    _, resources = overlay
    (kafka,) = by_kind(resources, "Kafka")
    assert kafka["apiVersion"] == "kafka.strimzi.io/v1beta2"
    annotations = kafka["metadata"]["annotations"]
    assert annotations["strimzi.io/kraft"] == "enabled"
    assert annotations["strimzi.io/node-pools"] == "enabled"
    spec = kafka["spec"]
    assert "zookeeper" not in spec
    listeners = spec["kafka"]["listeners"]
    assert listeners
    for listener in listeners:
        assert {"name", "port", "type", "tls"} <= set(listener)
        assert listener["authentication"]["type"] == "scram-sha-512", listener
    assert spec["kafka"]["authorization"]["type"] == "simple"
    assert {"topicOperator", "userOperator"} <= set(spec["entityOperator"])
    assert spec["kafka"]["config"]["auto.create.topics.enable"] is False

    pools = by_kind(resources, "KafkaNodePool")
    roles = set()
    for pool in pools:
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert pool["spec"]["replicas"] >= 1
        assert set(pool["spec"]["roles"]) <= {"controller", "broker"}
        roles |= set(pool["spec"]["roles"])
        volumes = pool["spec"]["storage"]["volumes"]
        assert all(v["type"] == "persistent-claim" and not v["deleteClaim"] for v in volumes)
        assert sum(v.get("kraftMetadata") == "shared" for v in volumes) == 1
    assert roles == {"controller", "broker"}
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    config = spec["kafka"]["config"]
    assert config["default.replication.factor"] <= brokers
    assert config["min.insync.replicas"] <= config["default.replication.factor"]
    if brokers >= 3:
        # Survive one broker down without refusing acks=all writes.
        assert config["min.insync.replicas"] < config["default.replication.factor"]


def test_one_kafka_topic_per_declared_topic(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    (kafka,) = by_kind(resources, "Kafka")
    topics = {t["spec"]["topicName"]: t for t in by_kind(resources, "KafkaTopic")}
    assert set(topics) == {spec.name for spec in specs.ALL}
    partitions = int(config_of(resources)["MODSTREAM_PARTITIONS"])
    brokers = sum(p["spec"]["replicas"] for p in by_kind(resources, "KafkaNodePool"))
    for spec in specs.ALL:
        topic = topics[spec.name]
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        # A topic with its own count (TopicSpec.partitions) is not co-partitioned with the
        # author-keyed ones; every other topic must match what the workers are told.
        expected = getattr(spec, "partitions", None) or partitions
        assert topic["spec"]["partitions"] == expected, f"{spec.name}: workers and topics disagree"
        assert topic["spec"]["replicas"] <= brokers
        config = topic["spec"]["config"]
        assert config["min.insync.replicas"] <= topic["spec"]["replicas"]
        assert (config.get("cleanup.policy") == "compact") == spec.compacted, spec.name
        assert config.get("retention.ms") == spec.retention_ms, spec.name
    replication = int(config_of(resources)["MODSTREAM_REPLICATION_FACTOR"])
    assert replication == kafka["spec"]["kafka"]["config"]["default.replication.factor"]


def test_kafka_user_is_scram_with_acls_for_every_topic(
    overlay: tuple[str, list[Resource]],
) -> None:
    _, resources = overlay
    config = config_of(resources)
    user = one(resources, "KafkaUser", config["MODSTREAM_KAFKA_USERNAME"])
    assert user["spec"]["authentication"]["type"] == "scram-sha-512"
    acls = user["spec"]["authorization"]["acls"]
    allowed: dict[tuple[str, str, str], set[str]] = {}
    for entry in acls:
        res = entry["resource"]
        key = (res["type"], res["name"], res.get("patternType", "literal"))
        allowed.setdefault(key, set()).update(entry["operations"])
    for spec in specs.ALL:
        assert {"Read", "Write", "Describe"} <= allowed[("topic", spec.name, "literal")]
    app_id = Settings().app_id
    assert {"Read", "Create", "Write"} <= allowed[("topic", f"{app_id}-", "prefix")]
    assert {"Read", "Describe"} <= allowed[("group", app_id, "prefix")]
    assert config["MODSTREAM_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert config["MODSTREAM_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"


# --- the workloads ------------------------------------------------------------------------


def test_worker_statefulset_keeps_rocksdb_on_a_volume_and_probes_health(
    overlay: tuple[str, list[Resource]],
) -> None:
    _, resources = overlay
    worker = one(resources, "StatefulSet", "modstream-worker")
    env = container_env(resources, worker)
    assert env["MODSTREAM_STORE"] == "rocksdb://"
    (claim,) = worker["spec"]["volumeClaimTemplates"]
    (container,) = pod_spec(worker)["containers"]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts[claim["metadata"]["name"]] == env["MODSTREAM_DATA_DIR"]
    port = int(env["MODSTREAM_WEB_PORT"])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports["http"] == port
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert env["MODSTREAM_WEB_HOST"] == "0.0.0.0"  # reachable by the probes


@pytest.mark.parametrize(
    ("kind", "name"),
    [("StatefulSet", "modstream-worker"), ("Deployment", "modstream-executor")],
)
def test_pipeline_pods_get_every_setting_and_secrets_only_by_reference(
    overlay: tuple[str, list[Resource]], kind: str, name: str
) -> None:
    _, resources = overlay
    workload = one(resources, kind, name)
    env = container_env(resources, workload)
    for required in (
        "MODSTREAM_KAFKA_BOOTSTRAP",
        "MODSTREAM_KAFKA_SECURITY_PROTOCOL",
        "MODSTREAM_KAFKA_USERNAME",
        "MODSTREAM_KAFKA_PASSWORD",
        "MODSTREAM_KAFKA_CA_FILE",
        "MODSTREAM_REDIS_URL",
        "MODSTREAM_REDIS_PASSWORD",
        "MODSTREAM_PSEUDONYM_KEY",
        "MODSTREAM_EVIDENCE_KEY",
        "MODSTREAM_PARTITIONS",
        "MODSTREAM_DATA_DIR",
    ):
        assert required in env, f"{name} lacks {required}"
    for secret_var in (
        "MODSTREAM_KAFKA_PASSWORD",
        "MODSTREAM_REDIS_PASSWORD",
        "MODSTREAM_PSEUDONYM_KEY",
        "MODSTREAM_EVIDENCE_KEY",
    ):
        assert "secretKeyRef" in env[secret_var], f"{name}: {secret_var} is not from a Secret"
    assert env.get("MODSTREAM_DEV_MODE", "false") == "false"
    # The settings parse as the process will parse them (secrets stood in for).
    secrets = {  # each in the form its setting requires
        "MODSTREAM_EVIDENCE_KEY": base64.b64encode(b"s" * 32).decode(),
        "MODSTREAM_EVIDENCE_OLD_KEYS": base64.b64encode(b"o" * 32).decode(),
    }
    stand_in = {k: v if isinstance(v, str) else secrets.get(k, "s" * 32) for k, v in env.items()}
    stand_in.pop("MODSTREAM_KAFKA_CA_FILE")  # mounted from the Strimzi CA Secret at run time
    stand_in["MODSTREAM_KAFKA_SECURITY_PROTOCOL"] = "SASL_PLAINTEXT"
    settings = Settings.from_env(stand_in)
    assert settings.kafka_security.sasl and settings.partitions >= 1
    # The CA file is where the Strimzi CA Secret is mounted.
    (container,) = pod_spec(workload)["containers"]
    volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
    ca_mount = next(m for m in container["volumeMounts"] if m["name"] == "kafka-ca")
    assert env["MODSTREAM_KAFKA_CA_FILE"] == f"{ca_mount['mountPath']}/ca.crt"
    assert volumes["kafka-ca"]["secret"]["secretName"] == STRIMZI_CA_SECRET


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("StatefulSet", "modstream-worker"),
        ("Deployment", "modstream-executor"),
        ("Deployment", "modstream-console"),
        ("StatefulSet", "modstream-redis"),
    ],
)
def test_pods_run_pinned_images_as_non_root(
    overlay: tuple[str, list[Resource]], kind: str, name: str
) -> None:
    _, resources = overlay
    pod = pod_spec(one(resources, kind, name))
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod.get("automountServiceAccountToken") is False
    for container in pod["containers"]:
        image = container["image"]
        assert ":" in image and not image.endswith(":latest"), image
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]
        assert "memory" in container["resources"]["limits"]


def test_every_secret_reference_resolves(overlay: tuple[str, list[Resource]]) -> None:
    name, resources = overlay
    keys: dict[str, set[str] | None] = {}
    for secret in by_kind(resources, "Secret"):
        keys[secret["metadata"]["name"]] = set(secret.get("data", {}))
    for external in by_kind(resources, "ExternalSecret"):
        keys[external["spec"]["target"]["name"]] = {
            d["secretKey"] for d in external["spec"]["data"]
        }
    # Made by the Strimzi operators: the user's password, the cluster CA.
    for user in by_kind(resources, "KafkaUser"):
        keys[user["metadata"]["name"]] = {"password", "sasl.jaas.config"}
    keys[STRIMZI_CA_SECRET] = {"ca.crt", "ca.p12", "ca.password"}

    referenced: list[tuple[str, str]] = []
    for resource in resources:
        spec = resource.get("spec", {})
        if "template" in spec:
            for container in spec["template"]["spec"]["containers"]:
                for var in container.get("env", []):
                    ref = var.get("valueFrom", {}).get("secretKeyRef")
                    # An optional key (the old evidence keys, during a rotation) is absent
                    # most of the time by design.
                    if ref and not ref.get("optional", False):
                        referenced.append((ref["name"], ref["key"]))
            for volume in spec["template"]["spec"].get("volumes", []):
                if "secret" in volume:
                    for item in volume["secret"].get("items", []):
                        referenced.append((volume["secret"]["secretName"], item["key"]))
        if resource["kind"] == "TriggerAuthentication":
            referenced += [(r["name"], r["key"]) for r in spec["secretTargetRef"]]
    assert referenced
    for secret_name, key in referenced:
        assert secret_name in keys, f"{name}: no Secret {secret_name}"
        assert key in (keys[secret_name] or set()), f"{name}: {secret_name} has no key {key}"


def test_dev_secrets_come_from_git_ignored_env_files(tree: Path) -> None:
    ignored = (REPO_ROOT / ".gitignore").read_text().splitlines()
    assert "deploy/k8s/overlays/*/secrets/*.env" in ignored
    assert not list(K8S.glob("overlays/*/secrets/*.env.example.env"))
    resources = build(tree / "overlays" / "dev")
    secret = one(resources, "Secret", "modstream-secrets")
    example = (K8S / "overlays" / "dev" / "secrets" / "modstream.env.example").read_text()
    for key in secret["data"]:
        assert f"{key}=" in example
    decoded = base64.b64decode(secret["data"]["pseudonym-key"]).decode()
    assert decoded != "replace-me-with-32-random-characters"
    # KEDA authenticates as the KafkaUser the pods use.
    username = base64.b64decode(secret["data"]["kafka-username"]).decode()
    assert username == config_of(resources)["MODSTREAM_KAFKA_USERNAME"]
    # No Secret with values is committed anywhere in deploy/k8s.
    for path in K8S.rglob("*.yaml"):
        for doc in yaml.safe_load_all(path.read_text()):
            assert not (doc and doc.get("kind") == "Secret"), path


def test_no_overlay_uses_the_latest_tag_and_prod_names_a_registry(tree: Path) -> None:
    prod = build(tree / "overlays" / "prod")
    image = pod_spec(one(prod, "StatefulSet", "modstream-worker"))["containers"][0]["image"]
    repository, tag = image.rsplit(":", 1)
    assert "/" in repository and tag != "latest"


# --- scaling, disruption, network ---------------------------------------------------------


def test_keda_scales_the_workers_on_lag_up_to_the_partitions(
    overlay: tuple[str, list[Resource]],
) -> None:
    _, resources = overlay
    (scaled,) = by_kind(resources, "ScaledObject")
    target = scaled["spec"]["scaleTargetRef"]
    worker = one(resources, target["kind"], target["name"])
    assert worker["kind"] == "StatefulSet"
    partitions = int(config_of(resources)["MODSTREAM_PARTITIONS"])
    assert 1 <= scaled["spec"]["minReplicaCount"] <= scaled["spec"]["maxReplicaCount"]
    assert scaled["spec"]["maxReplicaCount"] == partitions
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "kafka"
    meta = trigger["metadata"]
    assert meta["consumerGroup"] == Settings().app_id
    assert int(meta["lagThreshold"]) > 0
    assert meta["sasl"] == "scram_sha512" and meta["tls"] == "enable"
    namespace = scaled["metadata"]["namespace"]
    assert meta["bootstrapServers"] == f"modstream-kafka-bootstrap.{namespace}.svc:9093"
    auth = one(resources, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    params = {r["parameter"] for r in auth["spec"]["secretTargetRef"]}
    assert params == {"username", "password", "ca"}


def test_disruption_budget_covers_the_workers(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    worker = one(resources, "StatefulSet", "modstream-worker")
    pod_labels = worker["spec"]["template"]["metadata"]["labels"]
    budgets = [
        b
        for b in by_kind(resources, "PodDisruptionBudget")
        if b["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    ]
    assert budgets and budgets[0]["spec"]["maxUnavailable"] == 1


def _labels_of(resources: list[Resource], name: str) -> dict[str, str]:
    for resource in resources:
        if (
            resource["kind"] in {"StatefulSet", "Deployment"}
            and resource["metadata"]["name"] == name
        ):
            labels: dict[str, str] = resource["spec"]["template"]["metadata"]["labels"]
            return labels
    raise AssertionError(name)


def test_workers_reach_only_kafka_redis_and_dns(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    worker_labels = _labels_of(resources, "modstream-worker")
    policies = [
        p
        for p in by_kind(resources, "NetworkPolicy")
        if p["spec"]["podSelector"]["matchLabels"].items() <= worker_labels.items()
    ]
    (policy,) = policies
    assert "Egress" in policy["spec"]["policyTypes"]
    redis_labels = _labels_of(resources, "modstream-redis")
    allowed = []
    for rule in policy["spec"]["egress"]:
        assert rule.get("to"), "an egress rule without peers allows everything"
        assert rule.get("ports"), "an egress rule without ports allows every port"
        for peer in rule["to"]:
            assert "ipBlock" not in peer
            labels = peer.get("podSelector", {}).get("matchLabels", {})
            if labels.get("strimzi.io/broker-role") == "true":
                allowed.append("kafka")
                assert {p["port"] for p in rule["ports"]} == {9093}
            elif labels and labels.items() <= redis_labels.items():
                allowed.append("redis")
                assert {p["port"] for p in rule["ports"]} == {6379}
            elif labels.get("k8s-app") == "kube-dns":
                allowed.append("dns")
                assert {p["port"] for p in rule["ports"]} == {53}
                assert "namespaceSelector" in peer
            else:
                pytest.fail(f"unexpected egress peer {peer}")
    assert sorted(allowed) == ["dns", "kafka", "redis"]


# --- monitoring -----------------------------------------------------------------------------


def test_pod_monitors_scrape_both_jobs_on_named_ports(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    scrape = yaml.safe_load((REPO_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"] for j in scrape["scrape_configs"]}
    seen = set()
    for monitor in by_kind(resources, "PodMonitor"):
        selector = monitor["spec"]["selector"]["matchLabels"]
        workloads = [
            w
            for w in by_kind(resources, "StatefulSet") + by_kind(resources, "Deployment")
            if selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(workloads) == 1, monitor["metadata"]["name"]
        labels = workloads[0]["spec"]["template"]["metadata"]["labels"]
        seen.add(labels[monitor["spec"]["jobLabel"]])
        ports = {p["name"] for p in pod_spec(workloads[0])["containers"][0]["ports"]}
        for endpoint in monitor["spec"]["podMetricsEndpoints"]:
            assert endpoint["port"] in ports and endpoint["path"] == "/metrics"
    assert seen == jobs


def test_prometheus_rules_come_from_deploy_prometheus(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    rules_dir = REPO_ROOT / "deploy" / "prometheus" / "rules"
    sources = sorted(rules_dir.glob("*.yml")) if rules_dir.is_dir() else []
    rules = {r["metadata"]["name"]: r for r in by_kind(resources, "PrometheusRule")}
    assert set(rules) == {f"modstream-{p.stem}" for p in sources}
    for path in sources:
        groups = rules[f"modstream-{path.stem}"]["spec"]["groups"]
        assert groups == yaml.safe_load(path.read_text())["groups"]
        names = [g["name"] for g in groups]
        assert len(names) == len(set(names))
        for group in groups:
            for rule in group["rules"]:
                assert rule["expr"] and ("alert" in rule) != ("record" in rule)


def test_dashboards_are_provisioned_as_config_maps(overlay: tuple[str, list[Resource]]) -> None:
    _, resources = overlay
    maps = [
        m
        for m in by_kind(resources, "ConfigMap")
        if m["metadata"].get("labels", {}).get("grafana_dashboard") == "1"
    ]
    files = {key for m in maps for key in m["data"]}
    assert files == {p.name for p in (REPO_ROOT / "dashboards").glob("*.json")}
    for configmap in maps:
        size = sum(len(v.encode()) for v in configmap["data"].values())
        assert size < 900_000, "a ConfigMap holds at most 1 MiB"


def test_the_dashboards_datasource_is_created_with_the_uid_they_select(
    overlay: tuple[str, list[Resource]],
) -> None:
    _, resources = overlay
    (source_map,) = [
        m
        for m in by_kind(resources, "ConfigMap")
        if m["metadata"].get("labels", {}).get("grafana_datasource") == "1"
    ]
    (text,) = source_map["data"].values()
    (source,) = yaml.safe_load(text)["datasources"]
    assert source["type"] == "prometheus" and source["url"].startswith("http://")
    for path in (REPO_ROOT / "dashboards").glob("*.json"):
        templating = json.loads(path.read_text())["templating"]["list"]
        chooser = next(v for v in templating if v["name"] == "datasource")
        assert chooser["current"]["value"] == source["uid"], path.name


# --- the moderator console ------------------------------------------------------------------


def test_the_console_is_deployed_behind_a_service_with_probes_and_secret_refs(
    overlay: tuple[str, list[Resource]],
) -> None:
    _, resources = overlay
    console = one(resources, "Deployment", "modstream-console")
    env = container_env(resources, console)
    (container,) = pod_spec(console)["containers"]
    assert container["command"] == ["python", "-m", "workers.console"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {
        "http": int(env["MODSTREAM_CONSOLE_PORT"]),
        "metrics": int(env["MODSTREAM_CONSOLE_METRICS_PORT"]),
    }
    assert env["MODSTREAM_CONSOLE_HOST"] == "0.0.0.0"  # reachable by the Service and probes
    # Probes ask the operations port, which needs no session (workers/console/ops_app.py).
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    # The Service exposes the people's port only, and selects this pod.
    service = one(resources, "Service", "modstream-console")
    assert service["spec"]["type"] == "ClusterIP"
    labels = console["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    # Credentials by reference only: its users, its own Kafka user's password, the keys.
    for secret_var in (
        "MODSTREAM_CONSOLE_USERS",
        "MODSTREAM_KAFKA_PASSWORD",
        "MODSTREAM_PSEUDONYM_KEY",
        "MODSTREAM_EVIDENCE_KEY",
    ):
        assert "secretKeyRef" in env[secret_var], f"console: {secret_var} is not from a Secret"
    assert (
        env["MODSTREAM_KAFKA_PASSWORD"]["secretKeyRef"]["name"] == env["MODSTREAM_KAFKA_USERNAME"]
    )  # the Secret the User Operator makes for that KafkaUser
    assert env.get("MODSTREAM_DEV_MODE", "false") == "false"
    # The settings parse as the process will parse them (secrets stood in for).
    stand_in = {k: v for k, v in env.items() if isinstance(v, str)}
    stand_in.pop("MODSTREAM_KAFKA_CA_FILE")  # mounted from the Strimzi CA Secret at run time
    stand_in.update(
        MODSTREAM_KAFKA_SECURITY_PROTOCOL="SASL_PLAINTEXT",
        MODSTREAM_KAFKA_PASSWORD="s" * 32,
        MODSTREAM_PSEUDONYM_KEY="s" * 32,
        MODSTREAM_EVIDENCE_KEY=base64.b64encode(b"s" * 32).decode(),
    )
    settings = Settings.from_env(stand_in)
    assert settings.console_port == ports["http"] and settings.emit_assessed
    # The evidence store it logs text views in is the executor's volume, on the executor's
    # node (ReadWriteOnce), and its access log is kept there.
    executor = one(resources, "Deployment", "modstream-executor")
    claims = {
        v["persistentVolumeClaim"]["claimName"]
        for v in pod_spec(executor)["volumes"]
        if "persistentVolumeClaim" in v
    }
    volumes = {v["name"]: v for v in pod_spec(console)["volumes"]}
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    data = next(n for n, v in volumes.items() if "persistentVolumeClaim" in v)
    assert volumes[data]["persistentVolumeClaim"]["claimName"] in claims
    assert env["MODSTREAM_EVIDENCE_DIR"].startswith(mounts[data] + "/")
    assert env["MODSTREAM_CONSOLE_ACCESS_LOG"].startswith(mounts[data] + "/")
    (term,) = pod_spec(console)["affinity"]["podAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]
    assert term["topologyKey"] == "kubernetes.io/hostname"
    executor_labels = executor["spec"]["template"]["metadata"]["labels"]
    assert term["labelSelector"]["matchLabels"].items() <= executor_labels.items()


def test_the_console_kafka_user_reads_what_it_shows_and_writes_only_reviews(
    overlay: tuple[str, list[Resource]],
) -> None:
    from workers.console.kafka_io import FOLDED

    _, resources = overlay
    console = one(resources, "Deployment", "modstream-console")
    user = one(
        resources, "KafkaUser", container_env(resources, console)["MODSTREAM_KAFKA_USERNAME"]
    )
    assert user["spec"]["authentication"]["type"] == "scram-sha-512"
    rights = {
        a["resource"]["name"]: set(a["operations"])
        for a in user["spec"]["authorization"]["acls"]
        if a["resource"]["type"] == "topic" and a["resource"]["patternType"] == "literal"
    }
    assert set(rights) == {spec.name for spec in FOLDED}
    for name, operations in rights.items():
        writes = {"Write"} if name == specs.REVIEWS.name else set()
        assert operations == {"Describe", "Read"} | writes, name
    # No group (it reads without one), no prefix, nothing else.
    assert len(user["spec"]["authorization"]["acls"]) == len(rights)


def test_the_console_reaches_only_kafka_and_dns_and_is_reached_on_its_two_ports(
    overlay: tuple[str, list[Resource]],
) -> None:
    _, resources = overlay
    labels = _labels_of(resources, "modstream-console")
    (policy,) = [
        p
        for p in by_kind(resources, "NetworkPolicy")
        if p["spec"]["podSelector"]["matchLabels"].items() <= labels.items()
    ]
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    console = one(resources, "Deployment", "modstream-console")
    (container,) = pod_spec(console)["containers"]
    exposed = {p["containerPort"] for p in container["ports"]}
    ingress_ports = {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]}
    assert ingress_ports == exposed
    for rule in policy["spec"]["ingress"]:
        assert rule.get("from"), "an ingress rule without peers lets anyone in"
    egress_ports = set()
    for rule in policy["spec"]["egress"]:
        assert rule.get("to") and rule.get("ports")
        for peer in rule["to"]:
            assert "ipBlock" not in peer
        egress_ports |= {p["port"] for p in rule["ports"]}
    assert egress_ports == {9093, 53}  # Kafka and DNS: no Redis, no platforms
