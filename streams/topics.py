"""Every topic the pipeline uses, declared once: name, key, record type and partition count.

Names are frozen once deployed: a breaking change to a record gets a new versioned name.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    key: str  # what the message key is, for people reading the contract
    record: str  # the schemas/ record carried, or "platform JSON"
    compacted: bool = False
    retention_ms: int | None = None  # None: broker default
    partitions: int | None = None  # None: the deployment's partition count


RAW = TopicSpec("comments.raw", "platform:account id (as the connector sends it)", "platform JSON")
NORMALISED = TopicSpec("comments.normalised", "author key", "schemas.comment.Comment")
VERDICTS = TopicSpec("comments.verdicts", "author key", "schemas.verdict.Verdict")
ASSESSED = TopicSpec("comments.assessed", "author key", "schemas.verdict.Verdict")
# One record per comment per partition: a JSON list of the comment's BandEntry objects whose
# band key hashes to that partition (a single object in records written before the grouping).
BANDS = TopicSpec(
    "rate_windows.bands",
    "fingerprint band key (the first entry's; the partition is each entry's key's)",
    "streams.rate_windows.cross_author.BandEntry",
)
BEHAVIOUR_NOTICES = TopicSpec("behaviour.notices", "author key", "schemas.verdict.BehaviourNotice")
DEADLETTER = TopicSpec("comments.deadletter", "original key", "schemas.deadletter.DeadLetter")
IDENTITY_INDEX = TopicSpec("identity.index", "index key", "schemas.comment.Comment")
# One partition: the identity graph's clusters are connected components across all accounts,
# so one worker folds every signal. Retained as long as an edge can live (linking.expiry_days):
# the graph is rebuilt from this log.
IDENTITY_SIGNALS = TopicSpec(
    "identity.signals",
    "constant",
    "schemas.identity.LinkSignal",
    retention_ms=90 * 86_400_000,
    partitions=1,
)
IDENTITY_CLUSTERS = TopicSpec(
    "identity.clusters", "author key", "schemas.identity.ClusterMembership", compacted=True
)
POLICY = TopicSpec("policy.versions", "policy name", "policy YAML text", compacted=True)
ENFORCE_TICKS = TopicSpec("enforce.ticks", "author key", "schemas.action.Tick")
ACTIONS = TopicSpec("actions", "target author key", "schemas.action.Action")
ACTION_RESULTS = TopicSpec("actions.results", "target author key", "schemas.action.ActionResult")
DECISIONS = TopicSpec("decisions", "decision id", "schemas.action.Decision", compacted=True)
# A person's decisions from the moderator console: an input to enforcement like any other.
REVIEWS = TopicSpec("reviews", "author key", "schemas.review.Review")

ALL = (
    RAW,
    NORMALISED,
    VERDICTS,
    ASSESSED,
    BANDS,
    BEHAVIOUR_NOTICES,
    DEADLETTER,
    IDENTITY_INDEX,
    IDENTITY_SIGNALS,
    IDENTITY_CLUSTERS,
    POLICY,
    ENFORCE_TICKS,
    ACTIONS,
    ACTION_RESULTS,
    DECISIONS,
    REVIEWS,
)
