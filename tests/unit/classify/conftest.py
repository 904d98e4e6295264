"""Shared fixtures: the customer's policy and the example name registry, built once."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.classify import Classifier, NameRegistry, load_registry
from streams.policy import Policy, load_policy

ROOT = Path(__file__).resolve().parents[3]
POLICY_PATH = ROOT / "deploy" / "policy" / "ctmuhb.yaml"
REGISTRY_PATH = ROOT / "deploy" / "policy" / "registry.example.yaml"


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(POLICY_PATH)


@pytest.fixture(scope="session")
def registry() -> NameRegistry:
    return load_registry(REGISTRY_PATH)


@pytest.fixture(scope="session")
def classifier(policy: Policy, registry: NameRegistry) -> Classifier:
    return Classifier(policy, registry)
