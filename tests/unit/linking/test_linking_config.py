"""The policy's linking section: defaults, the one-kind-never-links rule, and clear errors."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest

from schemas.identity import LINK_KINDS
from streams.linking.config import LinkingConfig


def test_an_empty_section_gives_the_documented_defaults() -> None:
    cfg = LinkingConfig.from_dict({})
    assert cfg == LinkingConfig()
    assert cfg.threshold == 0.85
    assert set(cfg.weights) == set(cfg.caps) == set(cfg.min_repeats) == set(LINK_KINDS)
    assert cfg.min_count("co_timing") == 2 and cfg.min_count("name") == 1
    assert cfg.expiry_ms == 90 * 86_400_000


def test_no_default_cap_lets_one_kind_link_alone() -> None:
    cfg = LinkingConfig()
    assert all(cap < cfg.threshold for cap in cfg.caps.values())


def test_a_frozen_policy_section_is_read() -> None:
    # The policy loader hands sections over as read-only mappings.
    section = MappingProxyType(
        {
            "threshold": 0.9,
            "weights": MappingProxyType({"writing_style": 0}),
            "caps": MappingProxyType({"shared_signal": 0.85}),
            "min_repeats": MappingProxyType({"co_timing": 3}),
            "co_timing_s": 30,
            "expiry_days": 30,
        }
    )
    cfg = LinkingConfig.from_dict(section)
    assert cfg.threshold == 0.9
    assert not cfg.enabled("writing_style") and cfg.enabled("name")
    assert cfg.caps["shared_signal"] == 0.85 and cfg.caps["name"] == 0.6
    assert cfg.min_count("co_timing") == 3 and cfg.min_count("shared_signal") == 2
    assert cfg.co_timing_ms == 30_000


def test_to_dict_rebuilds_the_same_config() -> None:
    cfg = LinkingConfig.from_dict({"threshold": 0.9, "min_repeats": {"co_timing": 4}})
    assert LinkingConfig.from_dict(cfg.to_dict()) == cfg


def test_a_cap_at_or_above_the_threshold_is_refused_naming_the_kind() -> None:
    with pytest.raises(ValueError, match=r"linking\.caps\.shared_signal = 0\.9 is not below"):
        LinkingConfig.from_dict({"caps": {"shared_signal": 0.9}, "threshold": 0.9})
    with pytest.raises(ValueError, match=r"linking\.caps\.shared_signal = 0\.8 is not below"):
        LinkingConfig.from_dict({"threshold": 0.5})  # the default caps are above 0.5


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"threshhold": 0.9}, r"linking: unknown keys \['threshhold'\]"),
        ({"weights": {"vibes": 0.5}}, r"linking\.weights: unknown keys \['vibes'\]"),
        ({"weights": []}, r"linking\.weights must be a mapping"),
        ({"weights": {"name": 1.5}}, r"linking\.weights\.name must be a number between 0 and 1"),
        ({"weights": {"name": True}}, r"linking\.weights\.name must be a number"),
        ({"threshold": 1}, r"linking\.threshold must be strictly between 0 and 1"),
        ({"threshold": "high"}, r"linking\.threshold must be a number"),
        ({"co_timing_s": 0}, r"linking\.co_timing_s must be a whole number between 1 and 3600"),
        ({"expiry_days": 1.5}, r"linking\.expiry_days must be a whole number ≥ 1"),
        ({"min_repeats": {"co_timing": 0}}, r"linking\.min_repeats\.co_timing must be"),
        ({"max_accounts_per_key": 1}, r"linking\.max_accounts_per_key must be a whole number ≥ 2"),
    ],
)
def test_bad_values_name_the_field(section: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LinkingConfig.from_dict(section)
