from __future__ import annotations

from pathlib import Path

import pytest

from streams.policy import Policy, PolicyError
from workers.metrics import Metrics
from workers.processes.policy_watch import PolicyWatcher
from workers.settings import DEFAULT_POLICY


def _watcher(path: Path) -> tuple[PolicyWatcher[str], Metrics]:
    metrics = Metrics.create()
    return PolicyWatcher(path, lambda p: p.version, metrics), metrics


def _count(metrics: Metrics, outcome: str) -> float:
    value = metrics.registry.get_sample_value(
        "modstream_policy_reloads_total", {"outcome": outcome}
    )
    return value or 0.0


def test_a_changed_valid_policy_takes_effect(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    original = DEFAULT_POLICY.read_bytes()
    path.write_bytes(original)
    watcher, metrics = _watcher(path)
    first = watcher.current.policy.version
    assert watcher.check() is False  # unchanged file: nothing to do

    path.write_bytes(original + b"\n# a reviewed wording change\n")
    assert watcher.check() is True
    assert watcher.current.policy.version != first
    assert watcher.current.built == watcher.current.policy.version
    assert _count(metrics, "applied") == 1


def test_an_invalid_policy_is_refused_and_the_old_one_keeps_running(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(DEFAULT_POLICY.read_bytes())
    watcher, metrics = _watcher(path)
    running: Policy = watcher.current.policy

    path.write_bytes(b"name: broken\nclauses: [not, a, mapping]\n")
    assert watcher.check() is False
    assert watcher.current.policy is running
    assert _count(metrics, "refused") == 1
    assert watcher.check() is False  # the same bad file is not re-reported every poll
    assert _count(metrics, "refused") == 1


def test_an_invalid_policy_at_start_up_is_fatal(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_bytes(b"clauses: {}\n")
    with pytest.raises(PolicyError):
        _watcher(path)
