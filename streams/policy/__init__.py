"""Policy as code: the acceptable-use policy file, parsed, validated and versioned by content."""

from streams.policy.loader import load_policy, parse_policy
from streams.policy.model import (
    DETECTOR_TYPES,
    HATE_STRANDS,
    KINDS,
    PROCEDURES,
    ROUTE_CLAUSES,
    SEVERITIES,
    VIOLATION_CLAUSES,
    Clause,
    DetectorSpec,
    Policy,
    PolicyError,
)

__all__ = [
    "DETECTOR_TYPES",
    "HATE_STRANDS",
    "KINDS",
    "PROCEDURES",
    "ROUTE_CLAUSES",
    "SEVERITIES",
    "VIOLATION_CLAUSES",
    "Clause",
    "DetectorSpec",
    "Policy",
    "PolicyError",
    "load_policy",
    "parse_policy",
]
