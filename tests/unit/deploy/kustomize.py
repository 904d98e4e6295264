"""A small Kustomize resolver: enough of it to build deploy/k8s/ offline, in Python.

It implements only what the manifests use — resources (files and directories), namespace,
secretGenerator (envs, literals; name hash disabled), images, replicas and patches (JSON 6902
and strategic-merge patches of maps, with kind/name targets) — and refuses anything else, so
a new Kustomize feature in the manifests fails loudly here instead of being ignored. Where
``kubectl`` or ``kustomize`` is installed, the test compares this output with theirs.
"""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]

SUPPORTED = {
    "apiVersion",
    "kind",
    "resources",
    "namespace",
    "secretGenerator",
    "generatorOptions",
    "images",
    "replicas",
    "patches",
}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "StorageClass",
    "ClusterSecretStore",
    "ClusterTriggerAuthentication",
}


class KustomizeError(ValueError):
    pass


def build(directory: Path) -> list[Resource]:
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED
    if unknown:
        raise KustomizeError(f"{directory}: unsupported fields {sorted(unknown)}")
    resources: list[Resource] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            resources.extend(build(path))
        else:
            resources.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    resources.extend(_secrets(directory, kustomization))
    for patch in kustomization.get("patches", []):
        _patch(directory, resources, patch)
    for replica in kustomization.get("replicas", []):
        matched = [r for r in resources if _name(r) == replica["name"] and "replicas" in r["spec"]]
        if not matched:
            raise KustomizeError(f"replicas: nothing named {replica['name']}")
        for resource in matched:
            resource["spec"]["replicas"] = replica["count"]
    for image in kustomization.get("images", []):
        for resource in resources:
            _retag(resource, image)
    if "namespace" in kustomization:
        for resource in resources:
            if resource["kind"] not in CLUSTER_SCOPED:
                resource.setdefault("metadata", {})["namespace"] = kustomization["namespace"]
    return resources


def _name(resource: Resource) -> str:
    return str(resource.get("metadata", {}).get("name", ""))


def _secrets(directory: Path, kustomization: dict[str, Any]) -> list[Resource]:
    generators = kustomization.get("secretGenerator", [])
    if generators and not kustomization.get("generatorOptions", {}).get("disableNameSuffixHash"):
        raise KustomizeError("secretGenerator with name hashes is not implemented here")
    secrets = []
    for generator in generators:
        values: dict[str, str] = {}
        for env_file in generator.get("envs", []):
            for line in (directory / env_file).read_text().splitlines():
                line = line.strip()
                if line and not line.startswith("#"):
                    key, _, value = line.partition("=")
                    values[key] = value
        for literal in generator.get("literals", []):
            key, _, value = literal.partition("=")
            values[key] = value
        secrets.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": generator["name"]},
                "type": generator.get("type", "Opaque"),
                "data": {k: base64.b64encode(v.encode()).decode() for k, v in values.items()},
            }
        )
    return secrets


def _targets(resources: list[Resource], target: dict[str, str]) -> list[Resource]:
    unknown = set(target) - {"kind", "name"}
    if unknown:
        raise KustomizeError(f"patch target fields {sorted(unknown)} are not implemented")
    return [
        r
        for r in resources
        if target.get("kind", r["kind"]) == r["kind"] and target.get("name", _name(r)) == _name(r)
    ]


def _patch(directory: Path, resources: list[Resource], patch: dict[str, Any]) -> None:
    text = patch["patch"] if "patch" in patch else (directory / patch["path"]).read_text()
    body = yaml.safe_load(text)
    if isinstance(body, list):  # JSON 6902
        matched = _targets(resources, patch.get("target", {}))
        if not matched:
            raise KustomizeError(f"patch target {patch.get('target')} matches nothing")
        for resource in matched:
            for op in body:
                _json6902(resource, op)
        return
    target = patch.get("target") or {"kind": body["kind"], "name": body["metadata"]["name"]}
    matched = _targets(resources, target)
    if not matched:
        raise KustomizeError(f"patch for {target} matches nothing")
    for resource in matched:
        _merge(resource, {k: v for k, v in body.items() if k not in {"apiVersion", "kind"}})


def _merge(into: dict[str, Any], patch: dict[str, Any]) -> None:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, list):
            # Strategic merge of lists depends on per-field merge keys: not implemented.
            raise KustomizeError(f"strategic merge of the list {key!r}: use a JSON 6902 patch")
        else:
            into[key] = copy.deepcopy(value)


def _json6902(resource: Resource, op: dict[str, Any]) -> None:
    if op["op"] not in {"replace", "add", "remove"}:
        raise KustomizeError(f"JSON patch op {op['op']} is not implemented")
    parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
    node: Any = resource
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        index = len(node) if last == "-" else int(last)
        if op["op"] == "remove":
            del node[index]
        elif op["op"] == "add":
            node.insert(index, copy.deepcopy(op["value"]))
        else:
            node[index] = copy.deepcopy(op["value"])
        return
    if op["op"] in {"replace", "remove"} and last not in node:
        raise KustomizeError(f"{op['path']} does not exist in {resource['kind']} {_name(resource)}")
    if op["op"] == "remove":
        del node[last]
    else:
        node[last] = copy.deepcopy(op["value"])


def _retag(resource: Resource, image: dict[str, str]) -> None:
    for containers in _container_lists(resource):
        for container in containers:
            current = container.get("image", "")
            name, _, tag = current.partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"


def _container_lists(resource: Resource) -> list[list[dict[str, Any]]]:
    spec = resource.get("spec", {})
    pod = spec.get("template", {}).get("spec", {}) if "template" in spec else {}
    return [pod.get(k, []) for k in ("containers", "initContainers") if pod.get(k)]
