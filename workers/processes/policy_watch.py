"""Hot policy reload: workers pick up a new valid policy file without a restart.

The file is the source of truth (in Kubernetes, a mounted ConfigMap that updates in place), so
every worker converges on the same version without a broadcast topic. A file that fails
validation is refused and the running version stays in force.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from streams.policy import Policy, PolicyError, parse_policy
from workers.metrics import Metrics

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Loaded(Generic[T]):
    policy: Policy
    built: T  # what the stages derive from the policy (classifier, configs)


class PolicyWatcher(Generic[T]):
    def __init__(self, path: str | Path, build: Callable[[Policy], T], metrics: Metrics) -> None:
        self._path = Path(path)
        self._build = build
        self._metrics = metrics
        self._digest = ""
        data = self._path.read_bytes()
        self._loaded = self._load(data)  # an invalid policy at start-up is fatal: raise
        self._digest = hashlib.sha256(data).hexdigest()

    @property
    def current(self) -> Loaded[T]:
        return self._loaded

    def _load(self, data: bytes) -> Loaded[T]:
        policy = parse_policy(data)
        loaded = Loaded(policy=policy, built=self._build(policy))
        self._metrics.policy_info.info({"name": policy.name, "version": policy.version})
        return loaded

    def check(self) -> bool:
        """Reload if the file changed. Returns True when a new version took effect."""
        try:
            data = self._path.read_bytes()
        except OSError as exc:
            log.error("policy file unreadable, keeping %s: %s", self._loaded.policy.version, exc)
            self._metrics.policy_reloads.labels("unreadable").inc()
            return False
        digest = hashlib.sha256(data).hexdigest()
        if digest == self._digest:
            return False
        self._digest = digest  # don't re-report the same bad file every poll
        try:
            loaded = self._load(data)
        except (PolicyError, ValueError) as exc:
            log.error("policy refused, keeping version %s: %s", self._loaded.policy.version, exc)
            self._metrics.policy_reloads.labels("refused").inc()
            self._metrics.policy_info.info(
                {"name": self._loaded.policy.name, "version": self._loaded.policy.version}
            )
            return False
        log.info("policy %s → %s", self._loaded.policy.version, loaded.policy.version)
        self._loaded = loaded
        self._metrics.policy_reloads.labels("applied").inc()
        return True
