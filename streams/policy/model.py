"""The acceptable-use policy as data: clauses, their detectors, and the procedure each leads to.

Pure values, no I/O: ``streams.policy.loader`` builds them from YAML and validates them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Closed vocabularies. Enforcement switches on PROCEDURES, so a new one needs code there first;
# that is why the loader rejects anything else rather than passing it through.
KINDS = ("violation", "route")
SEVERITIES = ("low", "medium", "high", "critical")
PROCEDURES = (
    "warn_then_block",  # reply + ask removal -> deadline -> notice -> block
    "immediate_removal",  # allegations against staff, content under investigation
    "personal_care",  # redirect to the patient experience team; nothing is removed
    "emergency",  # signpost 999 at once and flag for a human
    "safeguarding",  # evidence copy + referral
    "spam",  # hide the post and limit posting
    "review",  # a human decides
)
COMMENT_LANGUAGES = ("cy", "en")  # the values a detector's ``languages`` may list
DETECTOR_TYPES = (
    "lexicon",
    "pattern",
    "registry",
    "topic_relevance",
    "composite",
    "repetition",
    "model",
    "cascade",
    "group_attack",
)

# The clause ids the customer's policy file uses. Other stages may name them (e.g. rate windows
# count "spamming" candidates), so they are listed once here; the loader does not require them,
# a different customer may have a different policy.
VIOLATION_CLAUSES = (
    "misleading",
    "abusive",
    "intimidation",
    "naming_to_harass",
    "obstructing_staff",
    "allegation",
    "hate",
    "obscene",
    "discriminatory",
    "illegal_activity",
    "advertising",
    "spamming",
    "trolling",
)
ROUTE_CLAUSES = ("personal_care", "emergency", "safeguarding", "welsh_review")
HATE_STRANDS = ("race", "religion", "disability", "sexual_orientation", "transgender")


@dataclass(frozen=True)
class DetectorSpec:
    """One detector of a clause, as written in the policy file.

    ``params`` is frozen (read-only mappings, tuples); the classifier interprets it per ``type``.
    A detector's hit becomes a finding only when its confidence reaches ``threshold``.
    """

    id: str
    type: str
    params: Mapping[str, Any]
    threshold: float
    # The comment languages ("cy", "en") the detector reads; () for every comment. A comment is
    # classified under each language found in it, so a mixed one meets both sets of detectors.
    languages: tuple[str, ...] = ()


@dataclass(frozen=True)
class Clause:
    id: str
    title: str
    kind: str  # one of KINDS: a "route" sends the author somewhere; it is not a breach
    severity: str  # one of SEVERITIES
    procedure: str  # one of PROCEDURES
    detectors: tuple[DetectorSpec, ...]
    # A fallback clause's findings count only when no other clause found anything in the
    # comment: "a risk cue nobody is sure about" goes to a person, a confident finding does not.
    fallback: bool = False


@dataclass(frozen=True)
class Policy:
    name: str
    version: str  # first 16 hex digits of sha256 over the file's bytes: any edit is a new version
    clauses: Mapping[str, Clause]  # by clause id, in file order
    sections: Mapping[str, Any]  # other top-level sections, raw; each stage validates its own

    def violations(self) -> tuple[Clause, ...]:
        return tuple(c for c in self.clauses.values() if c.kind == "violation")


class PolicyError(ValueError):
    """The policy file cannot be used; the message names the clause and field to fix.

    A worker that meets this keeps running the version it had: fix the file and publish again.
    """
