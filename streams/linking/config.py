"""Linking settings: how much each kind of evidence counts, when a pair links, and the bounds.

Built once per policy version from the policy file's ``linking:`` section (missing keys keep
the defaults below). Every check happens here, so the extractors and the graph can trust their
config. One rule is enforced rather than merely defaulted: every kind's cap is below the
threshold, so no amount of one kind of evidence links two accounts on its own. "Reasonable
cause" is corroboration from at least two independent kinds.

The section, with the defaults::

    linking:
      threshold: 0.85              # combined score at which two accounts are linked
      weights:                     # how much one observation of each kind counts (0..1; 0 = off)
        shared_signal: 0.6
        name: 0.65
        co_timing: 0.5
        near_duplicate: 0.5
        writing_style: 1.0
      caps:                        # the most each kind can contribute, however often seen
        shared_signal: 0.8
        co_timing: 0.8
        near_duplicate: 0.7
        name: 0.6
        writing_style: 0.55
      co_timing_s: 60              # replies to one post this close are "co-timed"
      min_repeats:                 # observations a kind needs before it counts at all
        co_timing: 2               # strangers do reply to one post seconds apart, once
        shared_signal: 2           # one comment from a shared network is a coincidence
      co_timing_max_neighbours: 6  # a post busier than this around a reply proves nothing
      max_accounts_per_key: 8      # a device hash or name shared wider is too common to count
      near_duplicate_max_distance: 10
      style_min_cosine: 0.5        # writing-style profiles this alike are evidence
      style_min_texts: 3           # texts an account needs before its style is compared
      expiry_days: 90              # an edge with no new evidence this long is forgotten
      max_edges_per_account: 32
      max_evidence_per_kind: 3     # observations kept per kind on an edge, for the trail
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from schemas.identity import LINK_KINDS

DAY_MS = 86_400_000

# Tuned on population seed 1 (docs/quality.md); the reported figures are on seed 2.
DEFAULT_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        "shared_signal": 0.6,
        "name": 0.65,
        "co_timing": 0.5,
        "near_duplicate": 0.5,
        "writing_style": 1.0,  # one measurement per pair, replaced rather than accumulated
    }
)
# Every kind alone stays below the threshold (0.85). Two kinds at their caps link, except a
# look-alike name with a look-alike style (1 − 0.4 × 0.45 = 0.82): strangers share both.
DEFAULT_CAPS: Mapping[str, float] = MappingProxyType(
    {
        "shared_signal": 0.8,
        "co_timing": 0.8,
        "near_duplicate": 0.7,
        "name": 0.6,
        "writing_style": 0.55,
    }
)

DEFAULT_MIN_REPEATS: Mapping[str, int] = MappingProxyType(
    {
        "shared_signal": 2,
        "name": 1,
        "co_timing": 2,
        "near_duplicate": 1,
        "writing_style": 1,
    }
)

_KEYS = frozenset(
    {
        "threshold",
        "weights",
        "caps",
        "co_timing_s",
        "min_repeats",
        "co_timing_max_neighbours",
        "max_accounts_per_key",
        "near_duplicate_max_distance",
        "style_min_cosine",
        "style_min_texts",
        "expiry_days",
        "max_edges_per_account",
        "max_evidence_per_kind",
    }
)


@dataclass(frozen=True, slots=True)
class LinkingConfig:
    threshold: float = 0.85
    weights: Mapping[str, float] = field(default_factory=lambda: DEFAULT_WEIGHTS)
    caps: Mapping[str, float] = field(default_factory=lambda: DEFAULT_CAPS)
    co_timing_s: int = 60
    min_repeats: Mapping[str, int] = field(default_factory=lambda: DEFAULT_MIN_REPEATS)
    co_timing_max_neighbours: int = 6
    max_accounts_per_key: int = 8
    near_duplicate_max_distance: int = 10
    style_min_cosine: float = 0.5
    style_min_texts: int = 3
    expiry_days: int = 90
    max_edges_per_account: int = 32
    max_evidence_per_kind: int = 3

    @property
    def expiry_ms(self) -> int:
        return self.expiry_days * DAY_MS

    @property
    def co_timing_ms(self) -> int:
        return self.co_timing_s * 1000

    def min_count(self, kind: str) -> int:
        """Observations of ``kind`` a pair needs before that kind counts at all."""
        return self.min_repeats[kind]

    def enabled(self, kind: str) -> bool:
        return self.weights[kind] > 0.0

    @classmethod
    def from_dict(cls, section: Mapping[str, Any]) -> LinkingConfig:
        """Build the config from the policy's ``linking`` section.

        Raises ValueError naming the field and what it must be; a worker that meets it keeps
        the policy version it had.
        """
        _no_unknown_keys(section, _KEYS, "linking")
        defaults = cls()
        threshold = _fraction(section.get("threshold", defaults.threshold), "linking.threshold")
        if threshold == 0.0 or threshold == 1.0:
            raise ValueError(f"linking.threshold must be strictly between 0 and 1, got {threshold}")
        weights = _per_kind(section.get("weights", {}), "weights", defaults.weights)
        caps = _per_kind(section.get("caps", {}), "caps", defaults.caps)
        for kind, cap in caps.items():
            if cap >= threshold:
                raise ValueError(
                    f"linking.caps.{kind} = {cap} is not below linking.threshold = {threshold}: "
                    "one kind of evidence alone must never link two accounts; lower the cap"
                )
        read = _Reader(section, defaults)
        return cls(
            threshold=threshold,
            weights=weights,
            caps=caps,
            co_timing_s=read.int("co_timing_s", minimum=1, maximum=3600),
            min_repeats=_repeats(section.get("min_repeats", {}), defaults.min_repeats),
            co_timing_max_neighbours=read.int("co_timing_max_neighbours", minimum=1),
            max_accounts_per_key=read.int("max_accounts_per_key", minimum=2),
            near_duplicate_max_distance=read.int("near_duplicate_max_distance", minimum=0),
            style_min_cosine=_fraction(
                section.get("style_min_cosine", defaults.style_min_cosine),
                "linking.style_min_cosine",
            ),
            style_min_texts=read.int("style_min_texts", minimum=1),
            expiry_days=read.int("expiry_days", minimum=1),
            max_edges_per_account=read.int("max_edges_per_account", minimum=1),
            max_evidence_per_kind=read.int("max_evidence_per_kind", minimum=1),
        )

    def to_dict(self) -> dict[str, Any]:
        """The section that rebuilds this config: stored with graph snapshots."""
        return {
            "threshold": self.threshold,
            "weights": dict(self.weights),
            "caps": dict(self.caps),
            "co_timing_s": self.co_timing_s,
            "min_repeats": dict(self.min_repeats),
            "co_timing_max_neighbours": self.co_timing_max_neighbours,
            "max_accounts_per_key": self.max_accounts_per_key,
            "near_duplicate_max_distance": self.near_duplicate_max_distance,
            "style_min_cosine": self.style_min_cosine,
            "style_min_texts": self.style_min_texts,
            "expiry_days": self.expiry_days,
            "max_edges_per_account": self.max_edges_per_account,
            "max_evidence_per_kind": self.max_evidence_per_kind,
        }


def _per_kind(raw: Any, name: str, defaults: Mapping[str, float]) -> Mapping[str, float]:
    where = f"linking.{name}"
    _no_unknown_keys(raw, frozenset(LINK_KINDS), where)
    values = {
        kind: _fraction(raw.get(kind, defaults[kind]), f"{where}.{kind}") for kind in LINK_KINDS
    }
    return MappingProxyType(values)


def _repeats(raw: Any, defaults: Mapping[str, int]) -> Mapping[str, int]:
    _no_unknown_keys(raw, frozenset(LINK_KINDS), "linking.min_repeats")
    values = {
        kind: _whole(raw.get(kind, defaults[kind]), f"linking.min_repeats.{kind}", minimum=1)
        for kind in LINK_KINDS
    }
    return MappingProxyType(values)


def _fraction(value: Any, where: str) -> float:
    # bool is an int subclass: "true" is a typo, not 1.0.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ValueError(f"{where} must be a number between 0 and 1, got {value!r}")
    return float(value)


def _no_unknown_keys(section: Any, known: frozenset[str], where: str) -> None:
    if not isinstance(section, Mapping):
        raise ValueError(f"{where} must be a mapping, got {type(section).__name__}")
    unknown = sorted(str(k) for k in section if k not in known)
    if unknown:
        # A misspelt key would otherwise silently fall back to its default.
        raise ValueError(f"{where}: unknown keys {unknown}; known keys are {sorted(known)}")


class _Reader:
    def __init__(self, section: Mapping[str, Any], defaults: LinkingConfig) -> None:
        self._section = section
        self._defaults = defaults

    def int(self, key: str, *, minimum: int, maximum: int | None = None) -> int:
        value = self._section.get(key, getattr(self._defaults, key))
        return _whole(value, f"linking.{key}", minimum=minimum, maximum=maximum)


def _whole(value: Any, where: str, *, minimum: int, maximum: int | None = None) -> int:
    # bool is an int subclass: "true" seconds is a typo, not 1.
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
    if not ok or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"≥ {minimum}"
        raise ValueError(f"{where} must be a whole number {bound}, got {value!r}")
    return int(value)
