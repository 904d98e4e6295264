"""Everything the stages derive from one policy version, built as pure code.

Replay, audit and explain build their stages here too, so none of them imports Faust or an
agent module to decide the way the live worker decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from streams.classify import Classifier, load_registry
from streams.enforce import config as enforce_config
from streams.linking.config import LinkingConfig
from streams.policy import Policy
from streams.rate_windows import config as window_config


@dataclass(frozen=True)
class StageConfigs:
    """Built (and validated) together, so a policy that any stage refuses is refused whole."""

    classifier: Classifier
    windows: window_config.WindowConfig
    enforcement: enforce_config.EnforcementConfig
    linking: LinkingConfig

    @property
    def policy_version(self) -> str:
        return self.classifier.policy.version


def build_stage_configs(policy: Policy, registry_path: str | Path | None = None) -> StageConfigs:
    """``registry_path``: the public-figure name registry the classifier reads, if any."""
    registry = load_registry(registry_path) if registry_path else None
    return StageConfigs(
        classifier=Classifier(policy, registry),
        windows=window_config.from_dict(policy.sections.get("rate_windows", {})),
        enforcement=enforce_config.from_policy(policy),
        linking=LinkingConfig.from_dict(policy.sections.get("linking", {})),
    )
